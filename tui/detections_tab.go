package tui

import (
	"context"
	"fmt"

	"github.com/RoaringBitmap/roaring/v2"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/kaudit/kaudit/store"
	"github.com/kaudit/kaudit/views"
)

// The Detections tab (--detect): one row per rule that flagged a request
// the filter keeps; Enter drills into its requests with rule:NAME.

var detectionColumns = []views.Column{
	{Header: "RULE"}, {Header: "SEVERITY"}, {Header: "HITS", Kind: views.KindInt},
	{Header: "ALL", Kind: views.KindInt}, {Header: "LAST", Kind: views.KindTime}, {Header: "ATT&CK"},
}

// withDetections adds the detections to a computed result: the hits on
// the kept requests per sparkline bucket, and on the Detections tab its
// table. It runs in the computation's goroutine, after compute.
// Should the store rebase meanwhile, both are done again (see compute).
func withDetections(ctx context.Context, cmd tea.Cmd, st *store.Store, dl *DetectionLog) tea.Cmd {
	return func() tea.Msg {
		for {
			msg := cmd()
			res, ok := msg.(resultMsg)
			if !ok || res.err != nil || res.set == nil {
				return msg
			}
			if res = addDetections(ctx, st, dl, res); res.err != nil || st.IDBase() == res.base {
				return res
			}
		}
	}
}

// addDetections is withDetections' work on one result.
func addDetections(ctx context.Context, st *store.Store, dl *DetectionLog, res resultMsg) resultMsg {
	_, res.hitsDropped = dl.counts()
	unfiltered := res.set.GetCardinality() == uint64(res.requests)
	onTab := tabs[res.tab].view == viewDetections
	var rules []ruleSummary
	var kept *store.Set
	if onTab || !unfiltered {
		rules = dl.rulesSnapshot(res.base)
		hits := roaring.New()
		for _, r := range rules {
			hits.Or(r.ids)
		}
		kept = hitsKept(st, hits, res.set, res.live)
	}
	if n := len(res.spark.counts); n > 0 && res.span.valid() {
		if unfiltered {
			// Nothing filtered out: the log's per-slot counts, with
			// no walk over the hits.
			res.hitMarks = dl.slotHistogram(res.span.from, res.span.to, n)
		} else {
			res.hitMarks = hitHistogram(st, kept, res.span, n)
		}
		for _, c := range res.hitMarks {
			res.hitCount += c
		}
	}
	if onTab {
		res.table = detectionsTable(st, rules, kept)
	}
	if ctx.Err() != nil {
		res.err = ctx.Err()
	}
	return res
}

// hitsKept is the flagged events whose request the filter keeps (kept
// holds one event per request). Most hits are on the very event the
// tables count; the others (a long-running request flagged at
// ResponseStarted, counted at ResponseComplete) are few, and are looked up
// by their request's stages.
func hitsKept(st *store.Store, hits, kept *store.Set, lv *liveState) *store.Set {
	t := roaring.And(hits, kept)
	var requests *store.Set
	if lv != nil {
		requests = lv.requests // the store's requests as the result saw them
	} else {
		requests = st.Requests()
	}
	other := roaring.AndNot(hits, requests)
	it := other.Iterator()
	for it.HasNext() {
		h := it.Next()
		for _, s := range st.Stages(h) {
			if kept.Contains(s) {
				t.Add(h)
				break
			}
		}
	}
	return t
}

// hitHistogram is the kept hits per bucket of sp: a walk over the hits a
// filter keeps, in the background at most once per apply (without a
// filter the per-slot counts answer instead).
func hitHistogram(st *store.Store, kept *store.Set, sp span, n int) []int {
	out := make([]int, n)
	st.Times(kept, func(t int64, _, _ bool) {
		if t >= sp.from && t < sp.to {
			out[min(int(float64(t-sp.from)/float64(sp.to-sp.from)*float64(n)), n-1)]++
		}
	})
	return out
}

// detectionsTable is one row per rule with a kept hit: HITS those the
// filter keeps, ALL every hit it had (dropped ones too), LAST the latest
// kept hit's time; most severe first, then most hits.
func detectionsTable(st *store.Store, rules []ruleSummary, kept *store.Set) *views.Table {
	var shown []ruleSummary
	alls := map[string]int64{}
	for _, r := range rules {
		alls[r.rule] = r.count
		if r.ids.And(kept); r.ids.IsEmpty() {
			continue
		}
		r.count, r.last = int64(r.ids.GetCardinality()), st.Entry(r.ids.Maximum()).Time
		shown = append(shown, r)
	}
	sortSummaries(shown)
	t := &views.Table{View: viewDetections, Columns: detectionColumns}
	for _, r := range shown {
		t.Rows = append(t.Rows, []any{r.rule, r.severity, int(r.count), int(alls[r.rule]), r.last, r.technique})
	}
	return t
}

// detectionsNote is the Detections tab's line under the filter.
func detectionsNote(total, dropped int64) string {
	s := fmt.Sprintf("%d hits", total)
	if dropped > 0 {
		s += fmt.Sprintf(", the oldest %d dropped (the UI keeps %d)", dropped, MaxLoggedHits)
	}
	return s
}
