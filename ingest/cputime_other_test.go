//go:build !unix

package ingest

import "time"

// cpuTime is 0 where getrusage is missing: the cpu-ns/B metric reads 0.
func cpuTime() time.Duration { return 0 }
