package pipeline

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
)

// The store is most of the live heap and only grows (or stays at its
// retention bound), while the garbage is per batch: read buffers, decoded
// events. A heap goal proportional to the live heap (GOGC) is mostly
// garbage room once the store is large: GOGC 100 peaked at 349-364 MiB RSS
// on the 1 GiB generated log (live heap about 160 MB at the end), GOGC 50
// at 277-286 MiB for 6-13% more CPU.
//
// So the collector keeps GOGC's default under a soft memory limit a fixed
// room above the live heap, set again after every collection (followLimit):
// the garbage room stays about the same as the store grows, instead of
// growing with it. On
// the same log: 243-245 MiB peak, with the CPU of GOGC 50 or less (a
// static 220 MiB limit, 2 runs each, measured side by side).
const (
	// minRoom is the garbage room above the live heap: batches in flight
	// (decode workers, reorder windows) take a few tens of MB.
	minRoom = 64 << 20
	// roomShare is the room's share of a large live heap (1/roomShare):
	// a fixed 64 MiB would make a store of several GB collect too often.
	roomShare = 4
)

var (
	tuneOnce  sync.Once
	following atomic.Bool // the limit follows the live heap (followLimit)
	limitMu   sync.Mutex
	limitSet  int64
	liveHeap  = []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
)

// tuneGC sets the collector for a process whose heap is a pipeline's
// store. With a retention bound (maxBytes, the store's own estimate of its
// index), a soft memory limit of twice that plus room for batches in
// flight, a backstop should the estimate be low; without one, the limit
// follows the live heap (followLimit). GOGC or GOMEMLIMIT in the
// environment leave the collector alone. Once per process: pipelines
// started later (tests, the demo's) leave it as it is.
func tuneGC(maxBytes int64) {
	tuneOnce.Do(func() {
		if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
			return
		}
		if maxBytes > 0 {
			debug.SetMemoryLimit(memoryLimit(maxBytes))
			return
		}
		following.Store(true)
		followLimit()
		afterEachGC(followLimit)
	})
}

// afterEachGC calls fn on the finalizer goroutine after each collection,
// for the rest of the process: the live heap is known then, and nothing
// polls in between (a UI building a view while no events come, a jq
// program running long on one event, still move the limit).
func afterEachGC(fn func()) {
	sentinel := &gcSentinel{}
	runtime.SetFinalizer(sentinel, func(*gcSentinel) {
		fn()
		afterEachGC(fn)
	})
}

// gcSentinel is unreachable as soon as it is made; it has a pointer and
// 16 bytes so that it is an object of its own (the tiny allocator would
// share its block, and delay its finalizer, otherwise).
type gcSentinel struct {
	_ *byte
	_ [8]byte
}

// memoryLimit is the soft limit for a store bounded to maxBytes of index.
func memoryLimit(maxBytes int64) int64 {
	const inFlight = 256 << 20 // chunks being decoded, batches, the UI's views
	if maxBytes > (1<<62-inFlight)/2 {
		return math.MaxInt64 // no limit, as the runtime's default
	}
	return 2*maxBytes + inFlight
}

// followLimit sets the soft memory limit to the live heap (as the last
// collection found it) plus room (limitFor), when it moved by an eighth
// of the room.
func followLimit() {
	if !following.Load() {
		return
	}
	metrics.Read(liveHeap)
	limit := limitFor(int64(liveHeap[0].Value.Uint64()))
	limitMu.Lock()
	defer limitMu.Unlock()
	if d := limit - limitSet; d > minRoom/8 || d < -minRoom/8 {
		debug.SetMemoryLimit(limit)
		limitSet = limit
	}
}

// limitFor is the soft memory limit for a live heap of live bytes.
func limitFor(live int64) int64 {
	return live + max(minRoom, live/roomShare)
}
