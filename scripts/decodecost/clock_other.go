//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly || solaris)

package main

import "time"

var start = time.Now()

// threadCPU is wall time where there is no thread CPU clock (Windows):
// figures are only as good as the machine is idle.
func threadCPU() time.Duration { return time.Since(start) }
