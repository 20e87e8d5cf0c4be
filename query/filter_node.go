package query

import (
	"sort"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/kaudit/kaudit/store"
)

// A plan is a tree of nodes. Each node stands for a jq (sub)program and
// sorts candidate events by the program's first output: truthy (t), falsy
// (f), or neither — an error, or no output at all. A filter keeps t.
//
// Combining nodes follows jq exactly. For "kept" (t) alone, `A and B` is
// t(A) ∩ t(B) whatever A and B are, so conjunctions are evaluated cheapest
// first, each on what the previous left. Everything else needs f too, and
// is exact only when the left operand has at most one output or the right
// one always has one (see shape); the planner hands anything else to gojq
// whole.
type node interface {
	// eval sorts cand. f is only computed when needF is set.
	eval(ec *evalCtx, cand *store.Set, needF bool) (t, f *store.Set, err error)
	// cost orders the operands of a conjunction: cheapest first.
	cost() int
	shape() shape
	String() string
}

// shape is what is statically known about a program's outputs.
type shape struct {
	single     bool // at most one output
	neverEmpty bool // at least one output, or an error
}

var exactlyOne = shape{single: true, neverEmpty: true}

func (a shape) and(b shape) shape {
	return shape{single: a.single && b.single, neverEmpty: a.neverEmpty && b.neverEmpty}
}

// Costs of nodes, for ordering conjunctions.
const (
	costConst    = 0
	costPostings = 1
	costScan     = 2
	costVerify   = 3
	costResidue  = 10
)

// andNode is `l and r`.
type andNode struct{ l, r node }

func (n *andNode) eval(ec *evalCtx, cand *store.Set, needF bool) (t, f *store.Set, err error) {
	if !needF {
		kids := n.conjuncts(nil)
		sort.SliceStable(kids, func(i, j int) bool { return kids[i].cost() < kids[j].cost() })
		cur := cand
		for _, k := range kids {
			if cur.IsEmpty() {
				break
			}
			if cur, _, err = k.eval(ec, cur, false); err != nil {
				return nil, nil, err
			}
		}
		return cur, nil, nil
	}
	lt, lf, err := n.l.eval(ec, cand, true)
	if err != nil {
		return nil, nil, err
	}
	rt, rf, err := n.r.eval(ec, lt, true)
	if err != nil {
		return nil, nil, err
	}
	return rt, roaring.Or(lf, rf), nil
}

// conjuncts flattens a chain of ands.
func (n *andNode) conjuncts(out []node) []node {
	for _, k := range []node{n.l, n.r} {
		if a, ok := k.(*andNode); ok {
			out = a.conjuncts(out)
		} else {
			out = append(out, k)
		}
	}
	return out
}

func (n *andNode) cost() int      { return max(n.l.cost(), n.r.cost()) }
func (n *andNode) shape() shape   { return n.l.shape().and(n.r.shape()) }
func (n *andNode) String() string { return "(" + n.l.String() + " and " + n.r.String() + ")" }

// orNode is `l or r`.
type orNode struct{ l, r node }

func (n *orNode) eval(ec *evalCtx, cand *store.Set, needF bool) (t, f *store.Set, err error) {
	lt, lf, err := n.l.eval(ec, cand, true)
	if err != nil {
		return nil, nil, err
	}
	rt, rf, err := n.r.eval(ec, lf, needF)
	if err != nil {
		return nil, nil, err
	}
	return roaring.Or(lt, rt), rf, nil
}

func (n *orNode) cost() int      { return max(n.l.cost(), n.r.cost()) }
func (n *orNode) shape() shape   { return n.l.shape().and(n.r.shape()) }
func (n *orNode) String() string { return "(" + n.l.String() + " or " + n.r.String() + ")" }

// notNode is `x | not`.
type notNode struct{ x node }

func (n *notNode) eval(ec *evalCtx, cand *store.Set, _ bool) (t, f *store.Set, err error) {
	xt, xf, err := n.x.eval(ec, cand, true)
	return xf, xt, err
}

func (n *notNode) cost() int      { return n.x.cost() }
func (n *notNode) shape() shape   { return n.x.shape() }
func (n *notNode) String() string { return "not(" + n.x.String() + ")" }

// constNode is `true` or `false`.
type constNode bool

func (n constNode) eval(_ *evalCtx, cand *store.Set, _ bool) (t, f *store.Set, err error) {
	if n {
		return cand.Clone(), roaring.New(), nil
	}
	return roaring.New(), cand.Clone(), nil
}

func (n constNode) cost() int    { return costConst }
func (n constNode) shape() shape { return exactlyOne }
func (n constNode) String() string {
	if n {
		return "true"
	}
	return "false"
}

// parts is what an atom's index or column work decides about candidates:
// t truthy, x neither (error), u undecided; the rest is falsy. Undecided
// events are settled by running the atom's own jq program on them, which
// is only needed when some of them may be truthy or f is wanted.
type parts struct {
	t, x, u    *store.Set
	uMayBeTrue bool
}

// atom is a predicate answered from postings or columns.
type atom struct {
	desc   string
	c      int
	match  func(ec *evalCtx, cand *store.Set) (parts, error)
	verify node // settles parts.u; nil when u is always empty

	// Undecided events whose bytes lack nullKey (the field's last key)
	// have no such field: jq sees null there, which gives nullCls. This
	// settles most of them without decoding.
	nullKey *lit
	nullCls int

	push *Term // what every event it keeps satisfies, as a quick term (jq_terms.go)
}

func (a *atom) eval(ec *evalCtx, cand *store.Set, needF bool) (t, f *store.Set, err error) {
	p, err := a.match(ec, cand)
	if err != nil {
		return nil, nil, err
	}
	t = p.t
	uf := roaring.New()
	if p.u != nil && !p.u.IsEmpty() && (needF || p.uMayBeTrue) {
		if a.verify == nil {
			panic("query: undecided events without a verifier: " + a.desc)
		}
		u := p.u
		if a.nullKey != nil {
			var null *store.Set
			if null, u, err = withoutKey(ec, u, *a.nullKey); err != nil {
				return nil, nil, err
			}
			switch a.nullCls {
			case clsT:
				t = roaring.Or(t, null)
			case clsF:
				uf.Or(null)
			}
		}
		ut, vf, err := a.verify.eval(ec, u, needF)
		if err != nil {
			return nil, nil, err
		}
		t = roaring.Or(t, ut)
		if vf != nil {
			uf.Or(vf)
		}
	}
	if !needF {
		return t, nil, nil
	}
	f = roaring.AndNot(cand, p.t)
	for _, s := range []*store.Set{p.x, p.u} {
		if s != nil {
			f.AndNot(s)
		}
	}
	f.Or(uf)
	return t, f, nil
}

// withoutKey splits set into the events whose bytes certainly lack key and
// the rest.
func withoutKey(ec *evalCtx, set *store.Set, key lit) (lacking, rest *store.Set, err error) {
	lacking, rest = roaring.New(), roaring.New()
	src := ec.source()
	defer ec.release(src.rr)
	ids := set.ToArray()
	dense := dense(ids)
	for _, id := range ids {
		raw, err := src.raw(id, dense)
		if err != nil {
			return nil, nil, err
		}
		if mayContainAll(raw, []lit{key}) {
			rest.Add(id)
		} else {
			lacking.Add(id)
		}
	}
	return lacking, rest, nil
}

func (a *atom) cost() int {
	if a.verify != nil {
		return max(a.c, costVerify)
	}
	return a.c
}
func (a *atom) shape() shape   { return exactlyOne }
func (a *atom) String() string { return a.desc }

// tri is one event's first output: truthy, falsy, or neither.
type tri uint8

const (
	triF tri = iota
	triT
	triX
)

// Classes of values and rows, as atoms sort them.
const (
	clsF  = iota // falsy
	clsT         // truthy
	clsX         // error
	clsU         // undecided, cannot be truthy
	clsUT        // undecided, may be truthy
	numCls
)

// partsOf turns per-class sets into parts.
func partsOf(sets []*store.Set) parts {
	p := parts{t: sets[clsT], x: sets[clsX], u: roaring.Or(sets[clsU], sets[clsUT])}
	p.uMayBeTrue = !sets[clsUT].IsEmpty()
	return p
}

// classSets returns numCls empty sets.
func classSets() []*store.Set {
	s := make([]*store.Set, numCls)
	for i := range s {
		s[i] = roaring.New()
	}
	return s
}

// scanParts sorts cand by classify, a function of the stored columns.
func scanParts(st *store.Store, cand *store.Set, classify func(store.Row) int) parts {
	ids := make([][]uint32, numCls)
	st.Select(cand, func(r store.Row) bool {
		if c := classify(r); c != clsF {
			ids[c] = append(ids[c], r.ID())
		}
		return false
	})
	sets := classSets()
	for c, l := range ids {
		sets[c].AddMany(l)
	}
	return partsOf(sets)
}

// postingsParts sorts cand by the value each event holds in field f.
func postingsParts(st *store.Store, cand *store.Set, f store.Field, classify func(string) int) parts {
	sets := st.PartitionValues(f, numCls, func(v string) int {
		if c := classify(v); c != clsF {
			return c
		}
		return -1
	})
	for _, s := range sets {
		s.And(cand)
	}
	return partsOf(sets)
}
