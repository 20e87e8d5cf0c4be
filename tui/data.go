package tui

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/kaudit/kaudit/query"
	"github.com/kaudit/kaudit/store"
	"github.com/kaudit/kaudit/views"
)

// Signal tells the UI that the store changed. It is a channel of capacity
// one: the writer's Notify never blocks, and any number of appends between
// two looks by the UI collapse into one wake-up (docs/ARCHITECTURE.md).
//
// Goroutines: the single store writer calls Notify; the UI's listening Cmd
// receives.
type Signal chan struct{}

// NewSignal returns a ready Signal.
func NewSignal() Signal { return make(Signal, 1) }

// Notify records a change without blocking.
func (s Signal) Notify() {
	select {
	case s <- struct{}{}:
	default:
	}
}

// Progress is what the header shows about the input: where it comes from
// and how far reading it got.
type Progress struct {
	Source     string // e.g. "audit.log" or "demo (200 ev/s)"
	Bytes      int64  // read so far
	TotalBytes int64  // 0 when unknown (stdin, live)
	Events     int64  // decoded so far
	Problems   int    // skipped or unrecognised input
	Loading    bool   // a replay still reading
	Live       bool   // events keep arriving (demo, watch)
	// Alert is a condition the operator must see at once, shown first in
	// the header (e.g. positions that cannot be saved); "" when all is well.
	Alert string
}

// applyEvery bounds redraws caused by ingest: at most one per interval,
// however fast events arrive (the issue asks for ≤ 5 per second).
const applyEvery = 200 * time.Millisecond

// changedMsg says the store grew; the listening Cmd produced it.
type changedMsg struct{}

// listen is the one re-armed Cmd through which live data enters: it waits
// for the signal (unless an apply is already pending), then holds back
// until due, so signals raised meanwhile coalesce into one changedMsg.
func listen(sig Signal, due time.Time, pending bool) tea.Cmd {
	if sig == nil {
		return nil
	}
	return func() tea.Msg {
		if !pending {
			if _, ok := <-sig; !ok {
				return nil
			}
		}
		if wait := time.Until(due); wait > 0 {
			time.Sleep(wait)
		}
		return changedMsg{}
	}
}

// resultMsg is a finished background computation of what the current tab
// shows. seq tells it from results of filters since replaced.
type resultMsg struct {
	seq    uint64
	tab    int
	set    *store.Set    // requests kept by the filter
	base   uint64        // the store's ID base of set and table.IDs (see rebase.go)
	filter *query.Filter // that filter
	table  *views.Table  // nil for the Events tab, which is rendered from set
	// unsorted is table's rows in the view's own order, once sorted.
	unsorted    [][]any
	unsortedIDs []store.ID
	total       int       // store length the result covers
	events      int       // events kept in the store then (retention drops the oldest)
	evicted     int       // events retention had dropped by then
	refused     int       // events the store refused, its IDs used up (store.RebaseStats)
	requests    int       // the store's requests then
	first       time.Time // time range of the store
	last        time.Time
	spark       histogram     // the kept requests per time bucket
	hitMarks    []int         // --detect: hits on kept requests per time bucket
	hitCount    int           // their sum
	hitsDropped int64         // hits the detection log dropped (MaxLoggedHits)
	span        span          // the time span the sparkline's buckets cover
	took        time.Duration // how long computing it took
	rebuilt     bool          // the filter or a tab's view was computed from scratch
	live        *liveState    // handed back to the model
	err         error
}

// histogram is requests per time bucket, for the sparkline.
type histogram struct{ counts, denied, errors []int }

// latencyTop bounds the Latency tab: it ranks the slowest requests, and a
// million-row ranking would cost more than it shows.
const latencyTop = 1000

// liveState is what one filter's results are kept up to date with: the
// store's requests as last seen, those the filter kept, and each grouped
// tab's aggregate once the tab was shown. An update evaluates the filter
// on the new requests only and folds them into the aggregates; only a new
// filter, or a tab shown for the first time, costs a walk over the store.
//
// Goroutines: one owner at a time. The model lends it to the computation
// it starts and gets it back in the result; a computation that was
// cancelled or replaced takes it with it, and the next starts afresh.
// Sets are replaced, never modified, once a result handed them out.
type liveState struct {
	first    store.ID // the store's first kept event: retention invalidates all below
	base     uint64   // the store's ID base (IDBase): a rebase invalidates every set
	filter   *query.Filter
	requests *store.Set
	kept     *store.Set
	aggs     [numTabs]*views.Aggregate
	times    *timeline // the kept requests per time slot, for the sparkline
}

// rebuildChunk is how many requests a from-scratch build folds in between
// looks at its context, so that a newer filter cancels it promptly.
const rebuildChunk = 1 << 16

// compute brings lv (nil: start afresh) up to date for filter f and
// builds tab's view. It runs in a Cmd goroutine, reading the store under
// its read lock; ctx is cancelled when a newer filter replaces it.
//
// Its result is of one ID base (resultMsg.base): should the store rebase
// while it computes, it computes again, afresh (once per ~2 G events).
func compute(ctx context.Context, st *store.Store, lv *liveState, f *query.Filter, tab int, seq uint64, buckets int) tea.Cmd {
	return func() tea.Msg {
		start := time.Now()
		for {
			res := computeIn(ctx, st, lv, f, tab, seq, buckets)
			if res.err != nil || st.IDBase() == res.base {
				res.took = time.Since(start)
				return res
			}
			lv = nil // folded into in two bases
		}
	}
}

// computeIn is one try of compute, in the ID base it reads first.
func computeIn(ctx context.Context, st *store.Store, lv *liveState, f *query.Filter, tab int, seq uint64, buckets int) resultMsg {
	res := resultMsg{seq: seq, tab: tab}
	// Retention dropped events since: the aggregates cannot take them
	// out (their rows are gone), so start afresh — once per dropped
	// chunk of 65536 events.
	base := st.IDBase()
	res.base = base
	if first := st.First(); lv == nil || lv.filter != f || lv.first != first || lv.base != base {
		lv = &liveState{first: first, base: base, filter: f, requests: &store.Set{}, kept: &store.Set{}, times: newTimeline()}
		res.rebuilt = true
	}
	// Requests before Len: every request ID is below the length.
	req := st.Requests()
	total := st.Len()
	added, removed := roaring.AndNot(req, lv.requests), roaring.AndNot(lv.requests, req)
	keptAdded, err := f.Eval(ctx, st, added)
	if err != nil {
		return resultMsg{seq: seq, tab: tab, err: err}
	}
	keptRemoved := roaring.And(removed, lv.kept)
	kept := lv.kept.Clone()
	kept.AndNot(removed)
	kept.Or(keptAdded)
	for i, a := range lv.aggs {
		if a == nil {
			continue
		}
		if a.Add(st, keptAdded); !a.Remove(st, keptRemoved) {
			lv.aggs[i] = nil // rebuilt below when shown
		}
	}
	lv.requests, lv.kept = req, kept
	if total > 0 {
		// The oldest and newest stageTimestamps, not the first and
		// last events: inputs need not be in time order.
		res.first, res.last = st.TimeRange()
	}
	lv.times.fit(st.TimeSpan())
	lv.times.add(st, keptRemoved, -1)
	lv.times.add(st, keptAdded, 1)
	if v := tabs[tab].view; v != views.ViewEvents && v != viewDetections {
		if lv.aggs[tab] == nil {
			a, err := rebuild(ctx, st, v, kept)
			if err != nil {
				return resultMsg{seq: seq, tab: tab, err: err}
			}
			lv.aggs[tab], res.rebuilt = a, true
		}
		res.table = lv.aggs[tab].Table()
	}
	res.set, res.filter, res.total, res.requests, res.live = kept, f, total, int(req.GetCardinality()), lv
	res.events, res.evicted, res.refused = st.Kept(), st.Evicted(), st.RebaseStats().Refused
	since, until := f.Range()
	if res.span = sparkSpan(since, until, res.first, res.last); res.span.valid() && res.last.After(res.first) {
		res.spark = lv.times.histogram(res.span.from, res.span.to, buckets)
	}
	if ctx.Err() != nil {
		res.err = ctx.Err()
	}
	return res
}

// rebuild builds view v's aggregate over set from scratch, in chunks, so
// that cancelling ctx stops it. A grouped view over many requests is built
// in two halves on two goroutines and merged: a new filter over 10 M
// events is one full rebuild, and the UI goroutine is idle meanwhile.
func rebuild(ctx context.Context, st *store.Store, v views.View, set *store.Set) (*views.Aggregate, error) {
	n := set.GetCardinality()
	if probe, _ := views.NewAggregate(v, 0); probe == nil || n < parallelRebuildMin || runtime.GOMAXPROCS(0) < 2 {
		return rebuildPart(ctx, st, v, set)
	}
	mid, err := set.Select(uint32(n / 2))
	if err != nil {
		return nil, err
	}
	halves := [2]*store.Set{set.Clone(), set.Clone()}
	halves[0].RemoveRange(uint64(mid), 1<<32)
	halves[1].RemoveRange(0, uint64(mid))
	var parts [2]*views.Aggregate
	var errs [2]error
	var wg sync.WaitGroup
	for i := range halves {
		wg.Go(func() {
			if parts[i], errs[i] = rebuildPart(ctx, st, v, halves[i]); errs[i] == nil {
				parts[i].Flush()
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		return nil, err
	}
	parts[0].Merge(parts[1])
	return parts[0], nil
}

// parallelRebuildMin is the fewest requests rebuild splits in two (a
// variable for tests).
var parallelRebuildMin uint64 = 4 * rebuildChunk

// rebuildPart is rebuild on one goroutine.
func rebuildPart(ctx context.Context, st *store.Store, v views.View, set *store.Set) (*views.Aggregate, error) {
	top := 0
	if v == views.ViewLatency {
		top = latencyTop
	}
	a, err := views.NewAggregate(v, top)
	if err != nil {
		return nil, err
	}
	it := set.ManyIterator()
	buf := make([]uint32, rebuildChunk)
	for n := it.NextMany(buf); n > 0; n = it.NextMany(buf) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		a.Add(st, roaring.BitmapOf(buf[:n]...))
	}
	return a, nil
}
