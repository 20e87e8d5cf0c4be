package query

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/itchyny/gojq"

	"github.com/kaudit/kaudit/store"
)

// pred is a jq predicate on one field's value, evaluated on the values a
// stored value may stand for.
type pred struct {
	desc string
	f    func(v any) tri
	eq   []any // for == and IN: the literals (stage and level need them)
	cmp  []any // for comparisons, == and IN: the literals compared with
}

// values lists the jq values a stored string may stand for.
func (f jqField) values(s string) []any {
	switch {
	case f.exact:
		return []any{s}
	case s == "":
		return []any{nil, ""}
	case f.group:
		return []any{s, nil, ""}
	}
	return []any{s}
}

// classify sorts a stored value by what p gives for the jq values it may
// stand for: a class when they agree, undecided when they do not.
func classify(f func(any) tri, vals []any) int {
	r0 := f(vals[0])
	mayT, same := r0 == triT, true
	for _, v := range vals[1:] {
		r := f(v)
		same = same && r == r0
		mayT = mayT || r == triT
	}
	switch {
	case same:
		return clsOf(r0)
	case mayT:
		return clsUT
	}
	return clsU
}

func clsOf(r tri) int {
	switch r {
	case triT:
		return clsT
	case triX:
		return clsX
	}
	return clsF
}

// fieldNode answers p on field f; q is the jq spelling, which settles the
// events the stored value leaves open.
func fieldNode(f jqField, p pred, q *gojq.Query) (node, bool) {
	if f.names != nil {
		// Stages and levels the store does not know are stored as "", so
		// only equality with a known name is decided by the index.
		if p.eq == nil {
			return nil, false
		}
		for _, l := range p.eq {
			if s, ok := l.(string); !ok || !contains(f.names, s) {
				return nil, false
			}
		}
	}
	verify, err := newResidue(q, false)
	if err != nil {
		return nil, false
	}
	a := &atom{desc: p.desc, c: costPostings, verify: verify, nullCls: clsOf(p.f(nil)), push: pushTerm(f, p)}
	if l, ok := newLit(`"`, f.key, `"`); ok && !f.exact {
		a.nullKey = &l
	}
	switch f.kind {
	case fieldPostings:
		a.match = func(ec *evalCtx, cand *store.Set) (parts, error) {
			pp := postingsParts(ec.st, cand, f.field, func(s string) int { return classify(p.f, f.values(s)) })
			if f.group && !pp.u.IsEmpty() {
				return settleGroups(ec, cand, pp, p)
			}
			return pp, nil
		}
	case fieldName:
		a.c = costScan
		a.match = func(ec *evalCtx, cand *store.Set) (parts, error) {
			seen, gen := map[uint32]int{}, ec.st.KeyGen()
			return scanParts(ec.st, cand, func(r store.Row) int {
				if g := r.KeyGen(); g != gen {
					clear(seen) // the store renumbered its names
					gen = g
				}
				k := r.NameKey()
				c, ok := seen[k]
				if !ok {
					c = classify(p.f, f.values(r.Name()))
					seen[k] = c
				}
				return c
			}), nil
		}
	case fieldAuditID:
		a.c = costScan
		if len(p.eq) == 1 {
			if id, ok := p.eq[0].(string); ok && id != "" {
				a.match = func(ec *evalCtx, cand *store.Set) (parts, error) {
					t := ec.st.WithAuditID(id)
					t.And(cand)
					return parts{t: t}, nil
				}
				break
			}
		}
		a.match = func(ec *evalCtx, cand *store.Set) (parts, error) {
			var buf []byte
			return scanParts(ec.st, cand, func(r store.Row) int {
				buf = r.AppendAuditID(buf[:0])
				return classify(p.f, f.values(string(buf)))
			}), nil
		}
	case fieldCode:
		n := codeNode(p.desc, func(c int) int { return clsOf(p.f(c)) }, func(r store.Row) int {
			if c := r.Code(); c != 0 {
				return clsOf(p.f(int(c)))
			}
			return zeroCode(p)
		}, verify).(*atom)
		n.nullKey, n.nullCls, n.push = a.nullKey, a.nullCls, a.push
		return n, true
	}
	return a, true
}

// zeroCode classifies the events stored with code 0: no code (null), 0,
// or a code outside 0–65535. A comparison with a literal in 0–65535 gives
// the same answer for all negative codes, and for all codes above 65535,
// so one of each stands for them.
func zeroCode(p pred) int {
	for _, l := range p.cmp {
		if n, ok := toFloat(l); ok && (n < 0 || n > 65535) {
			return clsUT
		}
	}
	return classify(p.f, []any{nil, 0, -1, 65536})
}

// settleGroups decides undecided apiGroup events by their bytes: a stored
// group g came from objectRef.apiVersion "g/…" only if the bytes hold
// "g/; without it, the event's objectRef.apiGroup is g itself.
func settleGroups(ec *evalCtx, cand *store.Set, pp parts, p pred) (parts, error) {
	for _, g := range ec.st.Values(store.FieldAPIGroup) {
		l, ok := newLit(`"`, g+"/", "")
		if g == "" || !ok || classify(p.f, []any{g, nil, ""}) < clsU {
			continue
		}
		set := ec.st.Postings(store.FieldAPIGroup, g)
		set.And(pp.u)
		if set.IsEmpty() {
			continue
		}
		plain, _, err := withoutKey(ec, set, l)
		if err != nil {
			return parts{}, err
		}
		pp.u.AndNot(plain)
		switch clsOf(p.f(g)) {
		case clsT:
			pp.t.Or(plain)
		case clsX:
			pp.x.Or(plain)
		}
	}
	return pp, nil
}

// pipeAtom plans `field | startswith("s")` and its kin: endswith,
// contains, test and IN.
func pipeAtom(q *gojq.Query) (node, bool) {
	f, ok := fieldOf(q.Left)
	if !ok {
		return nil, false
	}
	r := q.Right
	str := func(args []*gojq.Query) (string, bool) {
		v, ok := constOf(args[0])
		s, isStr := v.(string)
		return s, ok && isStr
	}
	onString := func(test func(string) bool) func(any) tri {
		return func(v any) tri {
			s, ok := v.(string)
			switch {
			case !ok:
				return triX
			case test(s):
				return triT
			}
			return triF
		}
	}
	var p pred
	switch {
	case funcArgs(r, "startswith", 1) != nil:
		s, ok := str(funcArgs(r, "startswith", 1))
		if !ok {
			return nil, false
		}
		p.f = onString(func(v string) bool { return strings.HasPrefix(v, s) })
	case funcArgs(r, "endswith", 1) != nil:
		s, ok := str(funcArgs(r, "endswith", 1))
		if !ok {
			return nil, false
		}
		p.f = onString(func(v string) bool { return strings.HasSuffix(v, s) })
	case funcArgs(r, "contains", 1) != nil:
		s, ok := str(funcArgs(r, "contains", 1))
		if !ok {
			return nil, false
		}
		p.f = onString(func(v string) bool { return strings.Contains(v, s) })
	case funcArgs(r, "test", 1) != nil || funcArgs(r, "test", 2) != nil:
		re, ok := jqRegexp(r)
		if !ok {
			return nil, false
		}
		p.f = onString(re.MatchString)
	case funcArgs(r, "IN", 1) != nil:
		lits, ok := constList(funcArgs(r, "IN", 1)[0], nil)
		if !ok {
			return nil, false
		}
		p.eq, p.cmp = lits, lits
		p.f = func(v any) tri {
			for _, l := range lits {
				if gojq.Compare(v, l) == 0 {
					return triT
				}
			}
			return triF
		}
	default:
		return nil, false
	}
	p.desc = f.desc + " | " + r.String()
	return fieldNode(f, p, q)
}

// jqRegexp compiles test's regular expression as gojq does, when the
// arguments are literals gojq accepts.
func jqRegexp(call *gojq.Query) (*regexp.Regexp, bool) {
	args := call.Term.Func.Args
	re, ok := constOf(args[0])
	res, isStr := re.(string)
	if !ok || !isStr {
		return nil, false
	}
	var flags string
	if len(args) == 2 {
		fl, ok := constOf(args[1])
		switch fl := fl.(type) {
		case string:
			flags = fl
		case nil:
		default:
			ok = false
		}
		if !ok || strings.ContainsFunc(flags, func(r rune) bool { return r != 'g' && r != 'i' && r != 'm' }) {
			return nil, false
		}
	}
	if strings.ContainsRune(flags, 'i') {
		res = "(?i)" + res
	}
	if strings.ContainsRune(flags, 'm') {
		res = "(?s)" + res
	}
	r, err := regexp.Compile(res)
	return r, err == nil
}

// constList reads a comma-separated list of literals.
func constList(q *gojq.Query, out []any) ([]any, bool) {
	if q.Op == gojq.OpComma && !hasDefs(q) {
		out, ok := constList(q.Left, out)
		if !ok {
			return nil, false
		}
		return constList(q.Right, out)
	}
	v, ok := constOf(q)
	if !ok {
		return nil, false
	}
	return append(out, v), true
}

// groupAtom plans any(.user.groups[]?; . == "g"): the group postings.
func groupAtom(q *gojq.Query) (node, bool) {
	args := funcArgs(q, "any", 2)
	if args == nil || args[0].String() != ".user.groups[]?" {
		return nil, false
	}
	c := args[1]
	if hasDefs(c) || c.Op != gojq.OpEq {
		return nil, false
	}
	lit, ok := constOf(c.Right)
	other := c.Left
	if !ok {
		lit, ok = constOf(c.Left)
		other = c.Right
	}
	g, isStr := lit.(string)
	if !ok || !isStr || g == "" || other.Op != 0 || other.Term.Type != gojq.TermTypeIdentity || len(other.Term.SuffixList) > 0 {
		return nil, false
	}
	return &atom{desc: fmt.Sprintf("group == %q", g), c: costPostings, match: func(ec *evalCtx, cand *store.Set) (parts, error) {
		t := ec.st.Postings(store.FieldGroup, g)
		t.And(cand)
		return parts{t: t}, nil
	}}, true
}

// latencyNode answers `latency op x` from the latency column, which holds
// whole microseconds: rows within a few microseconds of x, and saturated
// ones, are settled by q.
func latencyNode(op gojq.Operator, x float64, q *gojq.Query) node {
	verify, _ := newResidue(q, false)
	xm := x * 1e6
	return &atom{desc: fmt.Sprintf("latency %s %v", op, x), c: costScan, verify: verify,
		match: func(ec *evalCtx, cand *store.Set) (parts, error) {
			return scanParts(ec.st, cand, func(r store.Row) int {
				m := r.LatencyMicros()
				if m == store.LatencySaturated || math.Abs(float64(m)-xm) <= 2 {
					return clsUT
				}
				return clsOf(compareTri(float64(m), op, xm))
			}), nil
		}}
}

// latencyAtom is the quick term latency>1s: the same as jq's `latency > 1`.
func latencyAtom(op string, seconds float64) (node, error) {
	src := "latency " + op + " " + strconv.FormatFloat(seconds, 'f', -1, 64)
	q, err := gojq.Parse(src)
	if err != nil {
		return nil, err
	}
	return latencyNode(q.Op, seconds, q), nil
}
