package query

import (
	"context"
	"errors"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/kaudit/kaudit/store"
)

// Flagged answers rule: terms: the events the detection rules flagged.
// The terminal UI with --detect and headless kaudit replay put one in the
// context of their evaluations (WithFlagged); anywhere else a rule: term is
// an error, as nothing ran the rules.
type Flagged interface {
	// Flagged returns the events flagged by the rules whose names match
	// (the caller may change the set).
	Flagged(match func(rule string) bool) *store.Set
}

type flaggedKey struct{}

// WithFlagged returns ctx carrying f for the rule: terms evaluated in it.
// A context rather than a filter option: the UI compiles filters from text
// in many places (the bar, drill-downs, back and forward), and it is the
// evaluation, not the filter, that runs next to a live rule pack.
func WithFlagged(ctx context.Context, f Flagged) context.Context {
	return context.WithValue(ctx, flaggedKey{}, f)
}

// errNoDetect is a rule: term evaluated where no rules ran.
var errNoDetect = errors.New("rule: selects the requests the detection rules hit: it works in kaudit replay and in the terminal UI with --detect (watch and serve print hits with --detect-only)")

// ruleAtom keeps the events of the requests a matching rule flagged: like
// auditid:, every stage of such a request, since a rule fires on one event
// of it (the first past RequestReceived) and the tables show another (the
// last).
func ruleAtom(desc string, items []item) node {
	match := newValueMatcher(items).match
	return &atom{desc: desc, c: costScan, match: func(ec *evalCtx, cand *store.Set) (parts, error) {
		fl, _ := ec.ctx.Value(flaggedKey{}).(Flagged)
		if fl == nil {
			return parts{}, errNoDetect
		}
		t, err := sameRequest(ec, fl.Flagged(match), cand)
		return parts{t: t}, err
	}}
}

// sameRequest is the events of cand in a request with an event in hits,
// walking whichever of the two sets is smaller (a live apply brings a few
// new candidates; a new filter brings them all).
func sameRequest(ec *evalCtx, hits, cand *store.Set) (*store.Set, error) {
	t := roaring.And(hits, cand)
	small, other, fromHits := cand, hits, false
	if hits.GetCardinality() <= cand.GetCardinality() {
		small, other, fromHits = hits, cand, true
	}
	it := small.Iterator()
	for n := 0; it.HasNext(); n++ {
		if n&4095 == 0 {
			if err := ec.ctx.Err(); err != nil {
				return nil, err
			}
		}
		id := it.Next()
		if !fromHits && t.Contains(id) {
			continue
		}
		for _, s := range ec.st.Stages(id) {
			switch {
			case !other.Contains(s):
			case fromHits:
				t.Add(s) // a stage of a flagged request among the candidates
			default:
				t.Add(id) // a candidate whose request was flagged
			}
		}
	}
	return t, nil
}
