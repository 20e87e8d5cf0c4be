//go:build !unix

package pipeline

import "time"

// cpuTime is 0 where getrusage is missing: the cpu-µs/event metric reads 0.
func cpuTime() time.Duration { return 0 }
