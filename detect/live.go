package detect

import (
	"context"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/store"
)

// Live runs an Engine over a store that grows (watch, serve): each Eval
// looks at the events appended since the previous one and evaluates each
// request once, on its first event past RequestReceived (ResponseStarted,
// ResponseComplete, Panic, or a stage kaudit does not know). A long-running
// request such as an exec is thus reported when it starts, not when it
// ends; a RequestReceived event alone is never evaluated, as it has no
// response code yet. Threshold state carries over from call to call.
//
// A Live is used by one goroutine at a time (the pipeline's writer or the
// consumer it hands batches to).
type Live struct {
	eng  *Engine
	next store.ID
	base uint64 // the store's ID base of next (see store.Store.IDBase)
}

// Live returns a live evaluator that starts at the store's next event.
func (e *Engine) Live(st *store.Store) *Live {
	base := st.IDBase()
	return &Live{eng: e, next: store.ID(st.Len()), base: base}
}

// Eval returns the hits among the events appended since the last call.
func (l *Live) Eval(ctx context.Context, st *store.Store) ([]Hit, error) {
	if base := st.IDBase(); base != l.base { // the store rebased: next moves as the IDs did
		l.next, l.base = store.ID(max(0, int64(l.next)-int64(base-l.base))), base
	}
	end := store.ID(st.Len())
	if first := st.First(); l.next < first {
		l.next = first // retention dropped what was never looked at
	}
	if l.next >= end {
		return nil, nil
	}
	span := roaring.New()
	span.AddRange(uint64(l.next), uint64(end))
	eligible := st.Select(span, func(r store.Row) bool { return r.Stage() != audit.StageRequestReceived })
	cand := roaring.New()
	it := eligible.Iterator()
	for it.HasNext() {
		id := it.Next()
		if l.firstEligible(st, id, eligible) {
			cand.Add(id)
		}
	}
	l.next = end
	return l.eng.Eval(ctx, st, cand)
}

// firstEligible reports whether id is its request's first event past
// RequestReceived: no earlier stage of the request was evaluated before
// (below l.next) or is eligible in this span.
func (l *Live) firstEligible(st *store.Store, id store.ID, eligible *store.Set) bool {
	for _, s := range st.Stages(id) {
		if s >= id {
			return true
		}
		if s >= l.next && eligible.Contains(s) {
			return false
		}
		if s < l.next && st.Entry(s).Stage != audit.StageRequestReceived {
			return false
		}
	}
	return true
}
