package pipeline

import (
	"os"
	"runtime/debug"
	"sync"
)

// gcPercent replaces GOGC's default of 100. The store is most of the live
// heap and only grows (or stays at its retention bound), while the garbage
// is per batch (decoded events, their strings), so a heap goal of twice
// the store was mostly garbage. replay --view users of the 1 GiB generated
// log (902k events, live heap about 160 MB at the end), 2 runs each:
// GOGC 100 peaks at 349-364 MiB RSS, 50 at 277-286 MiB, for 4.0-4.4 s of
// CPU either way (GC was 2% of it). On 300 MiB GOGC 50 took 6-13% more
// CPU than 100 (3 runs each) for 17% less RSS; at 25 the CPU grew on 1 GiB.
const gcPercent = 50

var tuneOnce sync.Once

// tuneGC sets the collector for a process whose heap is a pipeline's store:
// gcPercent, and with a retention bound (maxBytes, the store's own estimate
// of its index) a soft memory limit of twice that plus room for batches in
// flight, a backstop should the estimate be low. GOGC and GOMEMLIMIT in the
// environment win. Once per process: pipelines started later (tests, the
// demo's) leave it as it is.
func tuneGC(maxBytes int64) {
	tuneOnce.Do(func() {
		if os.Getenv("GOGC") == "" {
			debug.SetGCPercent(gcPercent)
		}
		if os.Getenv("GOMEMLIMIT") == "" && maxBytes > 0 {
			debug.SetMemoryLimit(memoryLimit(maxBytes))
		}
	})
}

// memoryLimit is the soft limit for a store bounded to maxBytes of index.
func memoryLimit(maxBytes int64) int64 {
	const inFlight = 256 << 20 // chunks being decoded, batches, the UI's views
	if maxBytes > (1<<62-inFlight)/2 {
		return 1<<63 - 1 // no limit, as the runtime's default
	}
	return 2*maxBytes + inFlight
}
