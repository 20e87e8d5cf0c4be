package query

// Term is one positive quick term of a filter, as typed: what a source
// that filters before sending (a VictoriaLogs read-back) may check on its
// side. Every event the filter keeps satisfies each of a filter's Terms,
// so a source may drop events failing one; the filter is still evaluated
// on what it sends.
type Term struct {
	Key    string   // a quick-term key (user, verb, ns, code, …) or a bare word (denied, error)
	Values []string // OR-ed; empty for bare words
	Globs  []bool   // Globs[i]: Values[i] is a pattern with *
}

// Terms returns the filter's positive quick terms, or for a jq program
// the simple atoms of its plan spelt as quick terms (jq_terms.go); none
// for a blank filter. Negated terms and free text are left out: they are
// not necessary conditions a source could check by field.
func (f *Filter) Terms() []Term {
	if f.jq {
		return jqTerms(f.root)
	}
	var out []Term
	for _, t := range f.terms {
		if t.neg || t.key == textKey {
			continue
		}
		pt := Term{Key: t.key}
		for _, it := range t.items {
			pt.Values = append(pt.Values, it.val)
			pt.Globs = append(pt.Globs, it.glob)
		}
		out = append(out, pt)
	}
	return out
}
