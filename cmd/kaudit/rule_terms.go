package main

import (
	"context"
	"fmt"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/kaudit/kaudit/detect"
	"github.com/kaudit/kaudit/store"
)

// packHits answers rule:NAME terms in headless replay (query.Flagged):
// the pack runs over the loaded store as kaudit detect runs it, the first
// time a rule: term is evaluated, so a filter without one costs nothing.
// The rules are replay's --rules, --suppress and --severity, as --detect
// takes them in the terminal UI.
type packHits struct {
	ctx context.Context
	st  *store.Store
	df  *detectFlags

	once   sync.Once
	byRule map[string]*store.Set
	err    error
}

// Flagged returns the events (one per request) that the rules whose names
// match hit. A pack that cannot run (a bad --rules directory) flags
// nothing and keeps the error, which replayFlags.print returns.
func (p *packHits) Flagged(match func(rule string) bool) *store.Set {
	p.once.Do(p.run)
	out := roaring.New()
	for name, s := range p.byRule {
		if match(name) {
			out.Or(s)
		}
	}
	return out
}

func (p *packHits) run() {
	p.byRule = map[string]*store.Set{}
	set, err := p.df.rules()
	if err != nil {
		p.err = err
		return
	}
	eng, err := detect.NewEngine(set, detect.Options{Extra: p.df.suppress})
	if err != nil {
		p.err = usageError("%v", err)
		return
	}
	hits, err := eng.Eval(p.ctx, p.st, p.st.Requests())
	if err != nil {
		p.err = fmt.Errorf("rule: terms: %w", err)
		return
	}
	for _, h := range hits {
		s := p.byRule[h.Rule.Name]
		if s == nil {
			s = roaring.New()
			p.byRule[h.Rule.Name] = s
		}
		s.Add(h.ID)
	}
}

// usesRuleTerm reports whether sel's filter has a positive rule: term.
func usesRuleTerm(sel *selection) bool {
	if sel == nil || sel.filter == nil {
		return false
	}
	for _, t := range sel.filter.Terms() {
		if t.Key == "rule" {
			return true
		}
	}
	return false
}
