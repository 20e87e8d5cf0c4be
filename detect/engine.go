package detect

import (
	"context"
	"fmt"
	"sort"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/kaudit/kaudit/query"
	"github.com/kaudit/kaudit/store"
)

// Hit is one rule matching one event.
type Hit struct {
	Rule  *Rule
	ID    store.ID
	Fired *Fired // threshold rules: what was reached
}

// Options configure an Engine.
type Options struct {
	// Extra suppressions apply to every rule (--suppress).
	Extra []string
	// NoSuppress turns off the named suppressions (the rules' Suppress
	// lists), leaving Except and Extra.
	NoSuppress bool
	// MaxKeys bounds each threshold rule's keys (0: DefaultMaxKeys).
	MaxKeys int
}

// Engine evaluates a rule set over events of a store. Plain rules are
// stateless; threshold rules keep a bounded state across calls to Eval, so
// a live stream can be fed batch by batch, in time order.
//
// An Engine is used by one goroutine at a time.
type Engine struct {
	set      *Set
	opts     Options
	extra    []*query.Filter
	counters map[*Rule]*counter
}

// NewEngine compiles opts' extra suppressions.
func NewEngine(set *Set, opts Options) (*Engine, error) {
	e := &Engine{set: set, opts: opts, counters: map[*Rule]*counter{}}
	for _, s := range opts.Extra {
		f, err := query.Compile(s)
		if err != nil {
			return nil, fmt.Errorf("--suppress %q: %w", s, err)
		}
		e.extra = append(e.extra, f)
	}
	for _, r := range set.Rules {
		if r.Threshold != nil {
			e.counters[r] = newCounter(r.Threshold, opts.MaxKeys)
		}
	}
	return e, nil
}

// Set is the engine's rule set.
func (e *Engine) Set() *Set { return e.set }

// Eval returns the hits among cand (usually st.Requests(): one event per
// request), sorted by event ID, then by rule order. Each rule's filter is
// answered from the index as far as its terms allow, and only what is left
// runs in jq; suppressions are taken out of the candidates first, so they
// also spare that work.
func (e *Engine) Eval(ctx context.Context, st *store.Store, cand *store.Set) ([]Hit, error) {
	suppressed := map[string]*store.Set{}
	extra := roaring.New()
	for _, f := range e.extra {
		s, err := f.Eval(ctx, st, cand)
		if err != nil {
			return nil, err
		}
		extra.Or(s)
	}
	var hits []Hit
	for _, r := range e.set.Rules {
		ids, err := e.matches(ctx, st, cand, r, suppressed, extra)
		if err != nil {
			return nil, fmt.Errorf("rule %s: %w", r.Name, err)
		}
		if c := e.counters[r]; c != nil {
			hits = appendFired(hits, st, ids, r, c)
			continue
		}
		it := ids.Iterator()
		for it.HasNext() {
			hits = append(hits, Hit{Rule: r, ID: it.Next()})
		}
	}
	order := map[*Rule]int{}
	for i, r := range e.set.Rules {
		order[r] = i
	}
	sort.SliceStable(hits, func(i, j int) bool {
		if hits[i].ID != hits[j].ID {
			return hits[i].ID < hits[j].ID
		}
		return order[hits[i].Rule] < order[hits[j].Rule]
	})
	return hits, nil
}

// matches is the events of cand that rule r keeps, before any threshold.
func (e *Engine) matches(ctx context.Context, st *store.Store, cand *store.Set, r *Rule, cache map[string]*store.Set, extra *store.Set) (*store.Set, error) {
	c := roaring.AndNot(cand, extra)
	if !e.opts.NoSuppress {
		for _, name := range r.Suppress {
			s, ok := cache[name]
			if !ok {
				var err error
				if s, err = e.set.Suppressions[name].filter.Eval(ctx, st, cand); err != nil {
					return nil, fmt.Errorf("suppression %s: %w", name, err)
				}
				cache[name] = s
			}
			c.AndNot(s)
		}
	}
	ids, err := r.filter.Eval(ctx, st, c)
	if err != nil || r.except == nil || ids.IsEmpty() {
		return ids, err
	}
	ex, err := r.except.Eval(ctx, st, ids)
	if err != nil {
		return nil, err
	}
	ids.AndNot(ex)
	return ids, nil
}

// appendFired runs ids through a threshold rule's counter in ID (stream)
// order.
func appendFired(hits []Hit, st *store.Store, ids *store.Set, r *Rule, c *counter) []Hit {
	st.Each(ids, func(en *store.Entry) bool {
		if f, ok := c.add(en); ok {
			hits = append(hits, Hit{Rule: r, ID: en.ID, Fired: &f})
		}
		return true
	})
	return hits
}

// Evicted is how many threshold keys were forgotten to keep the state
// bounded, over all rules.
func (e *Engine) Evicted() int {
	n := 0
	for _, c := range e.counters {
		n += c.evicted
	}
	return n
}
