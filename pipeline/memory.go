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
// So the collector keeps GOGC's default under a soft memory limit a room
// above what the runtime holds after a collection (heldBytes: the live
// heap and its overhead), set again after every collection (followLimit):
// the garbage room stays about the same as the store grows, instead of
// growing with it. It was a room above the live heap alone until the
// overhead (45-70 MB of partly filled spans and metadata over a 300 MB
// live heap) turned out to take most of it: watch --max-memory 0 then
// collected every few MB and ran at half the events/s of a watch with a
// bound. Side by side (BenchmarkFollow, load 6-8, medians of 5): --max-memory
// 0 went from 21.9 to 13.0 CPU-µs per event, from 40k to 74k events/s
// and from 2.7 s to 0.47 s of lag, where the default bound gave 13.3, 76k
// and 0.31 s; replay --view users of the 1 GiB log kept its peak RSS
// (220-225 MiB before, 213-219 after, medians of 3; a 64 MiB floor gave
// 248-251 MiB, 48 MiB 219-231).
const (
	// minRoom is the least garbage room: batches in flight (decode
	// workers, reorder windows) take a few tens of MB.
	minRoom = 32 << 20
	// roomShare is the room's share of a large live heap (1/roomShare):
	// a fixed room would make a store of several GB collect too often.
	roomShare = 4
)

var (
	tuneOnce  sync.Once
	following atomic.Bool // the limit follows the live heap (followLimit)
	limitMu   sync.Mutex
	limitSet  int64
	// What followLimit reads after a collection (see heldBytes).
	memSamples = []metrics.Sample{
		{Name: "/gc/heap/live:bytes"},
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
		{Name: "/memory/classes/heap/free:bytes"},
	}
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

// followLimit sets the soft memory limit to the memory the runtime holds
// after the last collection plus room (limitFor), when it moved by an
// eighth of the floor.
func followLimit() {
	if !following.Load() {
		return
	}
	metrics.Read(memSamples)
	live := int64(memSamples[0].Value.Uint64())
	limit := limitFor(live, heldBytes(memSamples[1:]))
	limitMu.Lock()
	defer limitMu.Unlock()
	if d := limit - limitSet; d > minRoom/8 || d < -minRoom/8 {
		debug.SetMemoryLimit(limit)
		limitSet = limit
	}
}

// heldBytes is the memory the soft limit counts that a collection does
// not give back: all the runtime maps (total) but the pages returned to
// the OS (released) and the free ones (which the scavenger may return):
// the live objects, and besides them the unused room of partly filled
// spans and the heap's metadata. That overhead was 45-70 MB over a live
// heap of 300 MB (BenchmarkFollow), so a limit of the live heap plus room
// left the collector a few MB of garbage room: a collection every few MB
// allocated, and watch --max-memory 0 at half the events/s.
func heldBytes(s []metrics.Sample) int64 {
	total, released, free := s[0].Value.Uint64(), s[1].Value.Uint64(), s[2].Value.Uint64()
	return int64(total - min(total, released+free))
}

// limitFor is the soft memory limit for a live heap of live bytes when
// the runtime holds held bytes (live and its overhead): room for garbage
// above what it holds, a quarter of the live heap but at least minRoom.
func limitFor(live, held int64) int64 {
	return max(live, held) + max(minRoom, live/roomShare)
}
