package query

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/itchyny/gojq"

	"github.com/kaudit/kaudit/store"
)

// Pushdown: the planner walks gojq's syntax tree and answers the simple
// predicates from the index — comparisons of stored fields with literals,
// startswith/endswith/contains/test/IN on them, the helpers, and `and`,
// `or`, `not` of those. The rest stays jq (a residue), run by gojq only on
// the candidates left.
//
// A stored field is not always the JSON value jq sees: an absent field and
// an empty string are both stored as "", a stage or level the store does
// not know is stored as "", a v1alpha1 group inside objectRef.apiVersion is
// stored as the apiGroup, latencies are kept in whole microseconds. Where
// the stored value leaves the jq answer open, the atom's own jq program
// decides those events (parts.u), so results never depend on the pushdown.

// planTop plans a whole filter program.
func planTop(q *gojq.Query) (node, error) {
	if hasDefs(q) {
		return newResidue(q, false)
	}
	// select(F) keeps what F keeps when F has at most one output.
	if f := funcArgs(q, "select", 1); f != nil && shapeOf(f[0]).single {
		return plan(f[0], false)
	}
	return plan(q, false)
}

func hasDefs(q *gojq.Query) bool {
	return q.Meta != nil || len(q.Imports) > 0 || len(q.FuncDefs) > 0 || len(q.Patterns) > 0
}

// plan plans q; needF says whether the caller needs the falsy events too
// (under not, left of or), which limits what may be split up.
func plan(q *gojq.Query, needF bool) (node, error) {
	if hasDefs(q) {
		return newResidue(q, false)
	}
	switch q.Op {
	case gojq.OpAnd, gojq.OpOr:
		lNeedF := needF || q.Op == gojq.OpOr
		l, err := plan(q.Left, lNeedF)
		if err != nil {
			return nil, err
		}
		r, err := plan(q.Right, needF)
		if err != nil {
			return nil, err
		}
		_, lres := l.(*residue)
		_, rres := r.(*residue)
		exact := l.shape().single || r.shape().neverEmpty
		if (lres && rres) || (lNeedF && !exact) {
			return newResidue(q, false)
		}
		if q.Op == gojq.OpAnd {
			return &andNode{l: l, r: r}, nil
		}
		return &orNode{l: l, r: r}, nil
	case gojq.OpPipe:
		// a | (b | c) is (a | b) | c: rotate so that a trailing not, or a
		// field piped into a test, is seen.
		if r := q.Right; r.Op == gojq.OpPipe && !hasDefs(r) {
			return plan(&gojq.Query{Op: gojq.OpPipe, Left: &gojq.Query{Op: gojq.OpPipe, Left: q.Left, Right: r.Left}, Right: r.Right}, needF)
		}
		if isFunc(q.Right, "not", 0) {
			x, err := plan(q.Left, true)
			if err != nil {
				return nil, err
			}
			if _, ok := x.(*residue); ok {
				return newResidue(q, false)
			}
			return &notNode{x: x}, nil
		}
		if a, ok := pipeAtom(q); ok {
			return a, nil
		}
	case gojq.OpEq, gojq.OpNe, gojq.OpLt, gojq.OpLe, gojq.OpGt, gojq.OpGe:
		if a, ok := compareAtom(q); ok {
			return a, nil
		}
	case 0:
		t := q.Term
		if len(t.SuffixList) > 0 {
			break
		}
		switch {
		case t.Type == gojq.TermTypeQuery:
			return plan(t.Query, needF)
		case t.Type == gojq.TermTypeTrue:
			return constNode(true), nil
		case t.Type == gojq.TermTypeFalse:
			return constNode(false), nil
		case isFunc(q, "denied", 0):
			a := flagAtom("denied", store.Row.Denied).(*atom)
			a.push = &Term{Key: "denied"}
			return a, nil
		case isFunc(q, "longrunning", 0):
			return flagAtom("longrunning", store.Row.LongRunning), nil
		}
		if a, ok := groupAtom(q); ok {
			return a, nil
		}
	}
	return newResidue(q, false)
}

// isFunc reports whether q is a call of name with n arguments.
func isFunc(q *gojq.Query, name string, n int) bool {
	return funcArgs(q, name, n) != nil || n == 0 && q != nil && !hasDefs(q) && q.Op == 0 &&
		q.Term.Type == gojq.TermTypeFunc && len(q.Term.SuffixList) == 0 && q.Term.Func.Name == name && len(q.Term.Func.Args) == 0
}

// funcArgs returns the arguments of q when it is a call of name with n > 0
// arguments.
func funcArgs(q *gojq.Query, name string, n int) []*gojq.Query {
	if q == nil || hasDefs(q) || q.Op != 0 || q.Term.Type != gojq.TermTypeFunc || len(q.Term.SuffixList) > 0 {
		return nil
	}
	if f := q.Term.Func; f.Name == name && len(f.Args) == n && n > 0 {
		return f.Args
	}
	return nil
}

// A jqField is a stored field and how its stored value relates to jq's.
type jqField struct {
	desc  string
	kind  int // fieldPostings, fieldName, fieldAuditID, fieldCode
	field store.Field
	names []string // stage, level: stored only when one of these
	group bool     // apiGroup: may come from a v1alpha1 objectRef.apiVersion
	key   string   // the path's last object key
	exact bool     // the source helper: jq sees the stored string itself
}

const (
	fieldPostings = iota
	fieldName
	fieldAuditID
	fieldCode
)

// jqFields maps the paths of stored fields (components joined by NUL).
var jqFields = map[string]jqField{
	"verb":                                         {desc: ".verb", field: store.FieldVerb},
	"user\x00username":                             {desc: ".user.username", field: store.FieldUser},
	"impersonatedUser\x00username":                 {desc: ".impersonatedUser.username", field: store.FieldImpersonated},
	"objectRef\x00namespace":                       {desc: ".objectRef.namespace", field: store.FieldNamespace},
	"objectRef\x00resource":                        {desc: ".objectRef.resource", field: store.FieldResource},
	"objectRef\x00subresource":                     {desc: ".objectRef.subresource", field: store.FieldSubresource},
	"objectRef\x00apiGroup":                        {desc: ".objectRef.apiGroup", field: store.FieldAPIGroup, group: true},
	"objectRef\x00name":                            {desc: ".objectRef.name", kind: fieldName},
	"userAgent":                                    {desc: ".userAgent", field: store.FieldUserAgent},
	"sourceIPs\x00\x010":                           {desc: ".sourceIPs[0]", field: store.FieldSourceIP},
	"annotations\x00authorization.k8s.io/decision": {desc: `.annotations["authorization.k8s.io/decision"]`, field: store.FieldDecision},
	"stage":                  {desc: ".stage", field: store.FieldStage, names: stageNames},
	"level":                  {desc: ".level", field: store.FieldLevel, names: levelNames},
	"auditID":                {desc: ".auditID", kind: fieldAuditID},
	"responseStatus\x00code": {desc: ".responseStatus.code", kind: fieldCode},
}

// sourceField is the source helper: not in the event's JSON, it gives
// the stored source (host, file or cluster) as it is, "" included.
var sourceField = jqField{desc: "source", field: store.FieldSource, exact: true}

// fieldOf recognises a path of a stored field: .a.b, .a["b"], ."a",
// .sourceIPs[0], with optional ?s; or the source helper (a program that
// defines its own source is never planned: see hasDefs).
func fieldOf(q *gojq.Query) (jqField, bool) {
	if isFunc(q, "source", 0) {
		return sourceField, true
	}
	if q == nil || hasDefs(q) || q.Op != 0 || q.Term.Type != gojq.TermTypeIndex {
		return jqField{}, false
	}
	var path []string
	add := func(x *gojq.Index) bool {
		switch {
		case x.IsSlice || x.End != nil:
			return false
		case x.Name != "":
			path = append(path, x.Name)
		case x.Str != nil && x.Str.Queries == nil:
			path = append(path, x.Str.Str)
		case x.Start != nil:
			if s, ok := constOf(x.Start); ok {
				switch s := s.(type) {
				case string:
					path = append(path, s)
					return true
				case int:
					path = append(path, "\x01"+strconv.Itoa(s))
					return true
				}
			}
			return false
		default:
			return false
		}
		return true
	}
	if !add(q.Term.Index) {
		return jqField{}, false
	}
	for _, s := range q.Term.SuffixList {
		switch {
		case s.Optional:
		case s.Iter || s.Index == nil || !add(s.Index):
			return jqField{}, false
		}
	}
	f, ok := jqFields[strings.Join(path, "\x00")]
	for i := len(path) - 1; i >= 0 && f.key == ""; i-- {
		if !strings.HasPrefix(path[i], "\x01") {
			f.key = path[i]
		}
	}
	return f, ok
}

// constOf returns the value of a literal: a string without interpolation,
// a number (int or float64), true, false or null.
func constOf(q *gojq.Query) (any, bool) {
	if q == nil || hasDefs(q) || q.Op != 0 || len(q.Term.SuffixList) > 0 {
		return nil, false
	}
	t := q.Term
	switch t.Type {
	case gojq.TermTypeString:
		if t.Str.Queries == nil {
			return t.Str.Str, true
		}
	case gojq.TermTypeNumber:
		return number(t.Number)
	case gojq.TermTypeUnary:
		if t.Unary.Op == gojq.OpSub && t.Unary.Term.Type == gojq.TermTypeNumber && len(t.Unary.Term.SuffixList) == 0 {
			if n, ok := number(t.Unary.Term.Number); ok {
				switch n := n.(type) {
				case int:
					return -n, true
				case float64:
					return -n, true
				}
			}
		}
	case gojq.TermTypeNull:
		return nil, true
	case gojq.TermTypeTrue:
		return true, true
	case gojq.TermTypeFalse:
		return false, true
	case gojq.TermTypeQuery:
		return constOf(t.Query)
	}
	return nil, false
}

func number(s string) (any, bool) {
	if i, err := strconv.ParseInt(s, 10, 32); err == nil {
		return int(i), true
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) {
		return f, true
	}
	return nil, false
}

// mirror is the operator with its operands swapped: 1 < x is x > 1.
var mirror = map[gojq.Operator]gojq.Operator{gojq.OpEq: gojq.OpEq, gojq.OpNe: gojq.OpNe,
	gojq.OpLt: gojq.OpGt, gojq.OpLe: gojq.OpGe, gojq.OpGt: gojq.OpLt, gojq.OpGe: gojq.OpLe}

// compareAtom plans `field op literal`, `literal op field` and
// `latency op number`.
func compareAtom(q *gojq.Query) (node, bool) {
	op, l, r := q.Op, q.Left, q.Right
	lit, ok := constOf(r)
	if !ok {
		if lit, ok = constOf(l); !ok {
			return nil, false
		}
		op, l = mirror[op], r
	}
	if op == gojq.OpNe {
		eq := *q
		eq.Op = gojq.OpEq
		a, ok := compareAtom(&eq)
		if !ok {
			return nil, false
		}
		return &notNode{x: a}, true
	}
	if isFunc(l, "latency", 0) {
		x, isNum := toFloat(lit)
		if !isNum {
			return nil, false
		}
		return latencyNode(op, x, q), true
	}
	f, ok := fieldOf(l)
	if !ok {
		return nil, false
	}
	p := pred{desc: fmt.Sprintf("%s %s %s", f.desc, op, jsonString(lit)), f: func(v any) tri { return compareTri(v, op, lit) },
		cmp: []any{lit}}
	if op == gojq.OpEq {
		p.eq = []any{lit}
	}
	return fieldNode(f, p, q)
}

func toFloat(v any) (float64, bool) {
	switch v := v.(type) {
	case int:
		return float64(v), true
	case float64:
		return v, true
	}
	return 0, false
}

func compareTri(v any, op gojq.Operator, lit any) tri {
	c := gojq.Compare(v, lit)
	var ok bool
	switch op {
	case gojq.OpEq:
		ok = c == 0
	case gojq.OpLt:
		ok = c < 0
	case gojq.OpLe:
		ok = c <= 0
	case gojq.OpGt:
		ok = c > 0
	case gojq.OpGe:
		ok = c >= 0
	}
	if ok {
		return triT
	}
	return triF
}

func jsonString(v any) string {
	b, err := gojq.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
