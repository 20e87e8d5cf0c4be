//go:build unix

// Package testcpu is the process's CPU time for benchmarks. On a machine
// that busy neighbours share, wall time measures the queue for the cores
// as much as the work; CPU time (user and system, over every core the
// process ran on) is the work.
package testcpu

import (
	"syscall"
	"time"
)

// Time is the CPU time (user and system) this process used so far, or 0
// where it cannot be read.
func Time() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
