package query

import (
	"strings"

	"github.com/itchyny/gojq"
)

// shapeOf says, conservatively, whether q has at most one output and
// whether it always has one (or raises an error). Unknown forms have
// neither property, which only keeps the planner from splitting them.
func shapeOf(q *gojq.Query) shape {
	if q == nil {
		return exactlyOne
	}
	if q.Meta != nil || len(q.Imports) > 0 || len(q.FuncDefs) > 0 {
		return shape{}
	}
	switch q.Op {
	case 0:
		return termShape(q.Term)
	case gojq.OpPipe:
		if len(q.Patterns) > 1 {
			return shape{} // ?// alternatives
		}
		return shapeOf(q.Left).and(shapeOf(q.Right))
	case gojq.OpComma:
		return shape{neverEmpty: shapeOf(q.Left).neverEmpty || shapeOf(q.Right).neverEmpty}
	case gojq.OpAlt:
		// a // b: the truthy outputs of a (its errors ignored), else b's.
		l, r := shapeOf(q.Left), shapeOf(q.Right)
		return shape{single: l.single && r.single, neverEmpty: r.neverEmpty}
	case gojq.OpAdd, gojq.OpSub, gojq.OpMul, gojq.OpDiv, gojq.OpMod,
		gojq.OpEq, gojq.OpNe, gojq.OpGt, gojq.OpLt, gojq.OpGe, gojq.OpLe, gojq.OpAnd, gojq.OpOr:
		return shapeOf(q.Left).and(shapeOf(q.Right))
	}
	return shape{} // assignments and updates
}

func termShape(t *gojq.Term) shape {
	s := baseShape(t)
	for _, x := range t.SuffixList {
		switch {
		case x.Iter:
			s = shape{}
		case x.Optional:
			s.neverEmpty = false
		case x.Index != nil:
			s = s.and(indexShape(x.Index))
		}
	}
	return s
}

func indexShape(x *gojq.Index) shape {
	s := exactlyOne
	if x.Str != nil {
		s = s.and(stringShape(x.Str))
	}
	for _, q := range []*gojq.Query{x.Start, x.End} {
		if q != nil {
			s = s.and(shapeOf(q))
		}
	}
	return s
}

func stringShape(str *gojq.String) shape {
	s := exactlyOne
	for _, q := range str.Queries {
		s = s.and(shapeOf(q))
	}
	return s
}

func baseShape(t *gojq.Term) shape {
	switch t.Type {
	case gojq.TermTypeIdentity, gojq.TermTypeNull, gojq.TermTypeTrue, gojq.TermTypeFalse,
		gojq.TermTypeNumber, gojq.TermTypeFormat, gojq.TermTypeArray:
		// An array constructor collects its outputs into one value.
		return exactlyOne
	case gojq.TermTypeIndex:
		return indexShape(t.Index)
	case gojq.TermTypeRecurse:
		return shape{neverEmpty: true}
	case gojq.TermTypeString:
		return stringShape(t.Str)
	case gojq.TermTypeUnary:
		return termShape(t.Unary.Term)
	case gojq.TermTypeQuery:
		return shapeOf(t.Query)
	case gojq.TermTypeObject:
		s := exactlyOne
		for _, kv := range t.Object.KeyVals {
			if kv.KeyString != nil {
				s = s.and(stringShape(kv.KeyString))
			}
			if kv.KeyQuery != nil {
				s = s.and(shapeOf(kv.KeyQuery))
			}
			if kv.Val != nil {
				s = s.and(shapeOf(kv.Val))
			}
		}
		return s
	case gojq.TermTypeIf:
		s := shapeOf(t.If.Cond).and(shapeOf(t.If.Then))
		for _, e := range t.If.Elif {
			s = s.and(shapeOf(e.Cond)).and(shapeOf(e.Then))
		}
		if t.If.Else != nil {
			s = s.and(shapeOf(t.If.Else))
		}
		return s
	case gojq.TermTypeTry:
		// try a: a's outputs until an error; try a catch b: then b's.
		s := shapeOf(t.Try.Body)
		if t.Try.Catch == nil {
			return shape{single: s.single}
		}
		return s.and(shapeOf(t.Try.Catch))
	case gojq.TermTypeFunc:
		return funcShape(t.Func)
	}
	return shape{} // reduce, foreach, label, break
}

// oneOutput are builtins with exactly one output (or an error) for each
// combination of their arguments' outputs.
var oneOutput = map[string]bool{}

func init() {
	for _, f := range strings.Fields(`not length utf8bytelength keys keys_unsorted has in contains inside
		startswith endswith ltrimstr rtrimstr trim ltrim rtrim test ascii_downcase ascii_upcase tostring
		tonumber type tojson fromjson split join explode implode ascii flatten sort unique min max reverse
		to_entries from_entries abs floor ceil round sqrt index rindex indices getpath error env builtins
		now todate fromdate todateiso8601 fromdateiso8601 mktime gmtime localtime strftime strptime
		infinite nan isnan isinfinite isnormal sub gsub transpose tojson latency denied longrunning source`) {
		oneOutput[f] = true
	}
}

// closureOne are builtins with one output whatever their closure arguments
// do: they collect them (map, sort_by, …) or test for them (any, all).
var closureOne = map[string]bool{"map": true, "map_values": true, "any": true, "all": true, "isempty": true,
	"sort_by": true, "group_by": true, "unique_by": true, "min_by": true, "max_by": true, "with_entries": true,
	"del": true, "IN": true, "add": true}

func funcShape(f *gojq.Func) shape {
	switch f.Name {
	case "empty":
		return shape{single: true}
	case "select", "values", "nulls", "booleans", "numbers", "strings", "arrays", "objects", "iterables", "scalars":
		s := shape{single: true}
		for _, a := range f.Args {
			s.single = s.single && shapeOf(a).single
		}
		return s
	}
	switch {
	case strings.HasPrefix(f.Name, "$"): // a variable
		return exactlyOne
	case closureOne[f.Name]:
		return exactlyOne
	case (f.Name == "first" || f.Name == "last") && len(f.Args) == 0:
		return exactlyOne
	case f.Name == "first" || f.Name == "last":
		return shape{single: true}
	case !oneOutput[f.Name]:
		return shape{}
	}
	s := exactlyOne
	for _, a := range f.Args {
		s = s.and(shapeOf(a))
	}
	return s
}
