//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly || solaris

package main

import (
	"time"

	"golang.org/x/sys/unix"
)

// threadCPU is the calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID):
// exact, and blind to what other processes do with the other cores.
// main locks its goroutine to its thread while it measures.
func threadCPU() time.Duration {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts)
	return time.Duration(ts.Nano())
}
