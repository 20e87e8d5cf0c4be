package query

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
)

// The budget of a jq program. gojq has no step or memory limit of its own,
// and a filter as short as `def f: 1+f; f` grows the heap by gigabytes in
// seconds, so every run of a program (a filter's evaluation, a --jq
// printing) is watched: one event may take at most JQEventTime, and the
// heap may grow by at most JQHeapBudget while the run lasts. Over either,
// the run is cancelled (gojq checks its context at every instruction), the
// command reports why, and the memory is given back to the system.
var (
	JQEventTime  = 5 * time.Second
	JQHeapBudget = uint64(512 << 20)
)

// watchEvery is how often the watchdog samples the heap and the clock.
const watchEvery = 10 * time.Millisecond

// BudgetError says which budget a jq run went over.
type BudgetError struct {
	What  string // "time" or "memory"
	Limit string
}

func (e *BudgetError) Error() string {
	return fmt.Sprintf("jq: the program went over its %s budget (%s) and was stopped", e.What, e.Limit)
}

// jqBudget watches one run of a jq program. Goroutines: the workers call
// begin/end on their own slot; the watchdog goroutine reads every slot and
// the heap; stop is called once, by the run's owner.
type jqBudget struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	slots  []atomic.Int64 // per worker: start of the current event (unix ns), 0 when idle
	quit   chan struct{}
	wg     sync.WaitGroup
	fired  atomic.Bool
}

// newBudget starts watching a run with up to workers concurrent workers.
func newBudget(parent context.Context, workers int) *jqBudget {
	ctx, cancel := context.WithCancelCause(parent)
	b := &jqBudget{ctx: ctx, cancel: cancel, slots: make([]atomic.Int64, workers), quit: make(chan struct{})}
	// Garbage is collected only once the heap has grown by GOGC% of what
	// was live: that headroom is not the program's.
	heap, live := heapBytes()
	b.wg.Add(1)
	go b.watch(heap + live)
	return b
}

func (b *jqBudget) watch(base uint64) {
	defer b.wg.Done()
	t := time.NewTicker(watchEvery)
	defer t.Stop()
	for {
		select {
		case <-b.quit:
			return
		case <-b.ctx.Done():
			return
		case now := <-t.C:
			if h, _ := heapBytes(); h > base+JQHeapBudget {
				b.fire(&BudgetError{What: "memory", Limit: fmt.Sprintf("%d MiB of heap", JQHeapBudget>>20)})
				return
			}
			for i := range b.slots {
				if s := b.slots[i].Load(); s != 0 && now.UnixNano()-s > int64(JQEventTime) {
					b.fire(&BudgetError{What: "time", Limit: JQEventTime.String() + " per event"})
					return
				}
			}
		}
	}
}

func (b *jqBudget) fire(err error) {
	b.fired.Store(true)
	b.cancel(err)
}

func (b *jqBudget) begin(slot int) { b.slots[slot].Store(time.Now().UnixNano()) }
func (b *jqBudget) end(slot int)   { b.slots[slot].Store(0) }

// err is the budget's error once it fired, else nil.
func (b *jqBudget) err() error {
	if !b.fired.Load() {
		return nil
	}
	return context.Cause(b.ctx)
}

// stop ends the watch. When the budget fired, the memory the program took
// is collected and returned to the system now, not whenever the runtime
// gets to it: the program may have grown the heap by JQHeapBudget.
func (b *jqBudget) stop() {
	close(b.quit)
	b.wg.Wait()
	b.cancel(nil)
	if b.fired.Load() {
		runtime.GC()
		debug.FreeOSMemory()
	}
}

var (
	heapMu      sync.Mutex
	heapSamples = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
)

// heapBytes is the memory held by heap objects now (live and not yet
// swept) and what was live at the end of the last GC, read without
// stopping the world.
func heapBytes() (heap, live uint64) {
	heapMu.Lock()
	defer heapMu.Unlock()
	metrics.Read(heapSamples)
	u := func(s metrics.Sample) uint64 {
		if s.Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return s.Value.Uint64()
	}
	return u(heapSamples[0]), u(heapSamples[1])
}
