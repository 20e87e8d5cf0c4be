package tui

import (
	"context"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/kaudit/kaudit/query"
	"github.com/kaudit/kaudit/store"
)

// Signal tells the UI that the store changed. It is a channel of capacity
// one: the writer's Notify never blocks, and any number of appends between
// two looks by the UI collapse into one wake-up (DESIGN.md §2).
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
}

// applyEvery bounds redraws caused by ingest: at most one per interval,
// however fast events arrive (the issue asks for ≤ 5 per second).
const applyEvery = 200 * time.Millisecond

// changedMsg says the store grew; the listening Cmd produced it.
type changedMsg struct{}

// listen is the one re-armed Cmd through which live data enters: it waits
// for the signal, then holds back until applyEvery has passed since the
// previous wake-up, so signals raised meanwhile coalesce into this one.
func listen(sig Signal, last time.Time) tea.Cmd {
	if sig == nil {
		return nil
	}
	return func() tea.Msg {
		if _, ok := <-sig; !ok {
			return nil
		}
		if wait := applyEvery - time.Since(last); wait > 0 {
			time.Sleep(wait)
		}
		return changedMsg{}
	}
}

// resultMsg is a finished background computation of what the current tab
// shows. seq tells it from results of filters or tabs since replaced.
type resultMsg struct {
	seq   uint64
	tab   int
	set   *store.Set   // requests kept by the filter
	table *query.Table // nil for the Events tab, which is rendered from set
	// unsorted is table's rows in the view's own order, once sorted.
	unsorted [][]any
	total    int       // store length the result covers
	first    time.Time // time range of the store
	last     time.Time
	spark    histogram     // the kept requests per time bucket
	took     time.Duration // how long computing it took
	err      error
}

// recomputeMsg asks for a computation that was held back (see onResult).
type recomputeMsg struct{}

// histogram is requests per time bucket, for the sparkline.
type histogram struct{ counts, denied, errors []int }

// latencyTop bounds the Latency tab: it ranks the slowest requests, and a
// million-row ranking rebuilt five times a second would cost more than it
// shows.
const latencyTop = 1000

// compute evaluates filter over the store's requests and, for every tab but
// Events, builds its view. It runs in a Cmd goroutine, reading the store
// under its read lock; ctx is cancelled when a newer computation replaces it.
func compute(ctx context.Context, st *store.Store, f *query.Filter, tab int, seq uint64, buckets int) tea.Cmd {
	return func() tea.Msg {
		start := time.Now()
		total := st.Len()
		set, err := f.Eval(ctx, st, st.Requests())
		if err != nil {
			return resultMsg{seq: seq, tab: tab, err: err}
		}
		res := resultMsg{seq: seq, tab: tab, set: set, total: total}
		if total > 0 {
			// Events arrive roughly in time order: the first and last
			// stored (retention may have dropped the oldest) bound the range.
			res.first, res.last = st.Entry(st.First()).Time, st.Entry(store.ID(total-1)).Time
			if !res.first.IsZero() && res.last.After(res.first) {
				h := &res.spark
				h.counts, h.denied, h.errors = st.Histogram(set, res.first.UnixNano(), res.last.UnixNano()+1, buckets)
			}
		}
		if v := tabs[tab].view; v != query.ViewEvents {
			top := 0
			if v == query.ViewLatency {
				top = latencyTop
			}
			res.table, res.err = query.Build(st, set, v, top)
		}
		if ctx.Err() != nil {
			res.err = ctx.Err()
		}
		res.took = time.Since(start)
		return res
	}
}
