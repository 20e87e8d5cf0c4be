package query

import (
	"bytes"
	"math"
	"slices"
	"strconv"

	"github.com/itchyny/gojq"
	"github.com/kaudit/kaudit/internal/bytefind"
)

// The literal pre-filter. For a residue such as
// `.requestObject.spec.containers[]?.securityContext.privileged == true`,
// every event it keeps has the bytes "requestObject", "privileged", true, …
// in its JSON, so an event whose bytes lack one of them is not decoded.
//
// JSON may spell a character as an escape (\u0070 for p, \/ for /), so a
// literal's absence only proves something when no escape in the event
// could stand for one of its characters: mayContain checks that. Literals
// hold printable ASCII other than " and \ only (their delimiting quotes
// aside), which no JSON encoder writes as anything but itself or an escape.

// lit is a byte string every kept event contains. A pair literal is a
// key and its value: the quoted key b, then JSON space, a colon, JSON
// space, and val.
type lit struct {
	b     []byte
	at    int       // the offset of b's rarest byte, where a search starts
	val   []byte    // a pair's value (nil: not a pair)
	chars [2]uint64 // the ASCII characters of its content, as a bit set
	// num: val is an integer, n, which JSON may spell many ways (403,
	// 403.0, 4.03e2): the pair is absent only when every value of the key
	// is a plain integer other than n (see numberAt).
	num bool
	n   int64
}

// newLit makes the literal open+s+close, where open and close are JSON
// string delimiters or empty, if s is made of characters it can check.
func newLit(open, s, close string) (lit, bool) {
	l := lit{b: []byte(open + s + close)}
	if !l.addChars(s) {
		return lit{}, false
	}
	l.at = bytefind.Rarest(l.b)
	return l, len(l.b) > 0
}

func (l *lit) addChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
		l.chars[c>>6] |= 1 << (c & 63)
	}
	return true
}

// pairLit makes the literal "key": v for a string, true, false or
// integer v. An escape may spell any character of a string key or value,
// so both count; true and false have no other spelling, and an integer's
// others (403.0, 4.03e2) are read as such (see numberAt).
func pairLit(key string, v any) (lit, bool) {
	l, ok := newLit(`"`, key, `"`)
	if !ok {
		return lit{}, false
	}
	switch v := v.(type) {
	case string:
		if !l.addChars(v) {
			return lit{}, false
		}
		l.val = []byte(`"` + v + `"`)
	case bool:
		l.val = []byte(strconv.FormatBool(v))
	case int:
		l.num, l.n = true, int64(v)
	case float64:
		// An integral constant (403.0, 4.03e2) equals the same integers.
		if v != math.Trunc(v) || math.Abs(v) >= maxExact {
			return lit{}, false
		}
		l.num, l.n = true, int64(v)
	default:
		return lit{}, false
	}
	if l.num {
		if l.n <= -maxExact || l.n >= maxExact {
			return lit{}, false
		}
		l.val = strconv.AppendInt(nil, l.n, 10)
	}
	return l, true
}

// maxExact bounds the integers a number pair holds: below 2^53 every
// float64 is exact, so jq's equality (on float64s or big integers) and
// integer equality agree.
const maxExact = 1 << 53

func (l lit) String() string {
	if l.val != nil {
		return string(l.b) + ":" + string(l.val)
	}
	return string(l.b)
}

func (l lit) equal(m lit) bool {
	return bytes.Equal(l.b, m.b) && bytes.Equal(l.val, m.val) && l.num == m.num
}

// required returns literals that the bytes of every event on which q's
// first output is truthy contain. It knows conjunctions, disjunctions,
// select, and comparisons of paths with literals; anything else requires
// nothing.
func required(q *gojq.Query) []lit {
	if q == nil || hasDefs(q) {
		return nil
	}
	switch q.Op {
	case gojq.OpAnd:
		return union(required(q.Left), required(q.Right))
	case gojq.OpOr:
		return intersect(required(q.Left), required(q.Right))
	case gojq.OpEq, gojq.OpGt, gojq.OpGe, gojq.OpLt, gojq.OpLe:
		return comparisonLits(q)
	case gojq.OpPipe:
		return pipeLits(q)
	case 0:
		t := q.Term
		if len(t.SuffixList) == 0 {
			if t.Type == gojq.TermTypeQuery {
				return required(t.Query)
			}
			if args := funcArgs(q, "select", 1); args != nil {
				return required(args[0])
			}
			// any(PATH; C): C held on a value inside the input, whose
			// bytes are the input's.
			if args := funcArgs(q, "any", 2); args != nil {
				if keys, ok := pathKeys(args[0]); ok {
					return union(required(args[1]), keys)
				}
			}
		}
	}
	return nil
}

// comparisonLits: `path == literal` needs the path's keys and the literal;
// `path > literal` and `path >= literal` need the keys (null is below
// everything else in jq's order).
func comparisonLits(q *gojq.Query) []lit {
	op, path, other := q.Op, q.Left, q.Right
	v, ok := constOf(other)
	if !ok {
		if v, ok = constOf(path); !ok {
			return nil
		}
		op, path = mirror[op], other
	}
	keys, ok := pathKeys(path)
	if !ok || v == nil {
		return nil
	}
	switch op {
	case gojq.OpEq:
		// The path's own key and the value side by side ("privileged":
		// true) are rarer than either alone.
		if k, ok := lastKey(path); ok {
			if p, ok := pairLit(k, v); ok {
				return append([]lit{p}, keys[1:]...) // keys[0] is k: the pair holds it
			}
		}
		if l, ok := valueLit(v); ok {
			if _, isStr := v.(string); isStr {
				return append([]lit{l}, keys...) // most selective first
			}
			keys = append(keys, l)
		}
		return keys
	case gojq.OpGt, gojq.OpGe:
		return keys
	}
	return nil
}

// pipeLits: `path | startswith("s")` needs the keys and `"s`; endswith
// `s"`, contains `s`, test the keys.
func pipeLits(q *gojq.Query) []lit {
	keys, ok := pathKeys(q.Left)
	if !ok {
		return nil
	}
	arg := func(name string) (string, bool) {
		args := funcArgs(q.Right, name, 1)
		if args == nil {
			return "", false
		}
		v, ok := constOf(args[0])
		s, isStr := v.(string)
		return s, ok && isStr
	}
	add := func(open, s, close string) []lit {
		if l, ok := newLit(open, s, close); ok {
			return append([]lit{l}, keys...)
		}
		return keys
	}
	if s, ok := arg("startswith"); ok {
		return add(`"`, s, "")
	}
	if s, ok := arg("endswith"); ok {
		return add("", s, `"`)
	}
	if s, ok := arg("contains"); ok {
		return add("", s, "")
	}
	if funcArgs(q.Right, "test", 1) != nil || funcArgs(q.Right, "test", 2) != nil {
		return keys
	}
	return nil
}

// pathKeys returns the object keys of a path from the input (.a.b[]?.c,
// .["a"]), as JSON strings: for the path to have a value other than null,
// each key is in the bytes. Array indices and iterations add nothing.
func pathKeys(q *gojq.Query) ([]lit, bool) {
	if q == nil || hasDefs(q) || q.Op != 0 || q.Term.Type != gojq.TermTypeIndex {
		return nil, false
	}
	var keys []lit
	add := func(x *gojq.Index) bool {
		var k string
		switch {
		case x.IsSlice:
			return true
		case x.Name != "":
			k = x.Name
		case x.Str != nil && x.Str.Queries == nil:
			k = x.Str.Str
		case x.Start != nil:
			v, ok := constOf(x.Start)
			if s, isStr := v.(string); ok && isStr {
				k = s
			} else {
				return ok // a number index, or not a literal
			}
		default:
			return false
		}
		if l, ok := newLit(`"`, k, `"`); ok {
			keys = append(keys, l)
		}
		return true
	}
	if !add(q.Term.Index) {
		return nil, false
	}
	for _, s := range q.Term.SuffixList {
		if s.Index != nil && !add(s.Index) {
			return nil, false
		}
	}
	// The deepest key is the rarest: check it first.
	slices.Reverse(keys)
	return keys, true
}

// lastKey returns the object key a path of the input (pathKeys') ends
// with: false when it ends with an index, a slice or an iteration.
func lastKey(q *gojq.Query) (string, bool) {
	key := func(x *gojq.Index) (string, bool) {
		switch {
		case x.IsSlice || x.End != nil:
			return "", false
		case x.Name != "":
			return x.Name, true
		case x.Str != nil && x.Str.Queries == nil:
			return x.Str.Str, true
		case x.Start != nil:
			v, ok := constOf(x.Start)
			s, isStr := v.(string)
			return s, ok && isStr
		}
		return "", false
	}
	k, ok := key(q.Term.Index)
	for _, s := range q.Term.SuffixList {
		switch {
		case s.Optional:
		case s.Index != nil:
			k, ok = key(s.Index)
		default:
			k, ok = "", false
		}
	}
	return k, ok
}

// valueLit is how a literal value appears in JSON, for strings, true and
// false (numbers have many spellings).
func valueLit(v any) (lit, bool) {
	switch v := v.(type) {
	case string:
		return newLit(`"`, v, `"`)
	case bool:
		if v {
			return newLit("", "true", "")
		}
		return newLit("", "false", "")
	}
	return lit{}, false
}

func union(a, b []lit) []lit {
	out := append([]lit(nil), a...)
	for _, l := range b {
		if !hasLit(out, l) {
			out = append(out, l)
		}
	}
	return out
}

// intersect keeps the literals both sides require, counting the key of
// a pair as required on its own too.
func intersect(a, b []lit) []lit {
	a, b = withPairKeys(a), withPairKeys(b)
	var out []lit
	for _, l := range a {
		if hasLit(b, l) && !hasLit(out, l) {
			out = append(out, l)
		}
	}
	return out
}

func hasLit(ls []lit, l lit) bool {
	for _, x := range ls {
		if x.equal(l) {
			return true
		}
	}
	return false
}

// withPairKeys adds the key of each pair literal in ls as a literal.
func withPairKeys(ls []lit) []lit {
	out := ls
	for _, l := range ls {
		if l.val == nil {
			continue
		}
		if k, ok := newLit(`"`, string(l.b[1:len(l.b)-1]), `"`); ok && !hasLit(out, k) {
			out = append(slices.Clip(out), k)
		}
	}
	return out
}
