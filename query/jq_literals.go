package query

import (
	"bytes"
	"math"
	"slices"
	"strconv"

	"github.com/itchyny/gojq"

	"github.com/kaudit/kaudit/audit"
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
	l.at = rarest(l.b)
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

// in reports whether raw contains l.
func (l lit) in(raw []byte) bool {
	for i := 0; ; {
		end := l.next(raw, i)
		if end < 0 {
			return false
		}
		switch {
		case l.val == nil:
			return true
		case l.num:
			if l.numberAt(raw, end) {
				return true
			}
		case l.valueAt(raw, end):
			return true
		}
		i = end
	}
}

// next returns the end of the first l.b in raw at or after from, or -1.
// It looks for l.b's rarest byte (l.at) first: JSON is full of quotes
// and the letters of common keys, which make poor starts for a search.
func (l lit) next(raw []byte, from int) int {
	n, k := len(l.b), l.at
	c := l.b[k]
	for pos := max(from, 0) + k; pos < len(raw); {
		j := bytes.IndexByte(raw[pos:], c)
		if j < 0 {
			return -1
		}
		p := pos + j - k // where l.b would start
		if p+n > len(raw) {
			return -1
		}
		if string(raw[p:p+n]) == string(l.b) {
			return p + n
		}
		pos += j + 1
	}
	return -1
}

// rarest returns the offset of the byte of b that audit logs hold least
// often (see asciiFreq).
func rarest(b []byte) int {
	at := 0
	for i, c := range b {
		if c < 0x80 && asciiFreq[c] < asciiFreq[b[at]] {
			at = i
		}
	}
	return at
}

// asciiFreq is how often each ASCII byte occurs in audit logs, per
// 100,000 bytes: counted over 20 MB of scripts/bench.sh's generated log
// and testdata/public's real ones. Only the order matters.
var asciiFreq = [128]uint16{
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 84, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	607, 0, 10054, 0, 4, 2, 0, 0, 79, 79, 0, 0, 2297, 2263, 1656, 1196,
	2233, 2039, 1417, 840, 1165, 1116, 1005, 788, 1233, 958, 3799, 1, 0, 123, 0, 37,
	4, 222, 83, 215, 98, 99, 24, 60, 45, 289, 28, 1, 12, 108, 25, 19,
	186, 0, 478, 190, 423, 101, 219, 2, 44, 0, 177, 298, 310, 298, 0, 14,
	0, 5072, 1439, 2831, 2334, 8833, 864, 720, 562, 3861, 135, 1014, 1807, 1849, 3707, 4011,
	1567, 246, 3536, 5107, 4988, 2616, 972, 187, 243, 638, 216, 746, 0, 746, 0, 0,
}

// valueAt reports whether raw[i:] is JSON space, a colon, JSON space and
// l.val.
func (l lit) valueAt(raw []byte, i int) bool {
	i = skipSpace(raw, i)
	if i >= len(raw) || raw[i] != ':' {
		return false
	}
	return bytes.HasPrefix(raw[skipSpace(raw, i+1):], l.val)
}

// numberAt reports whether the key that ends at raw[i] may hold l.n: it
// does not when it is no key (no colon follows), when its value is not a
// number (jq equals no string, null, boolean, array or object to a
// number), or when it is a plain integer (-?[0-9]+, then no fraction or
// exponent) other than l.n. Any other spelling (403.0, 4.03e2, 4030e-1,
// an integer too long to read) may be l.n.
func (l lit) numberAt(raw []byte, i int) bool {
	i = skipSpace(raw, i)
	if i >= len(raw) || raw[i] != ':' {
		return false
	}
	i = skipSpace(raw, i+1)
	if i >= len(raw) {
		return false
	}
	neg := raw[i] == '-'
	if neg {
		i++
	}
	start := i
	var v int64
	for ; i < len(raw) && raw[i] >= '0' && raw[i] <= '9'; i++ {
		if i-start >= 15 {
			return true // past 2^53 perhaps: not read
		}
		v = v*10 + int64(raw[i]-'0')
	}
	switch {
	case i == start:
		return neg // "-" then no digit is no JSON: may be anything
	case raw[start] == '0' && i-start > 1:
		return true // leading zeros are no JSON either
	case i < len(raw) && (raw[i] == '.' || raw[i] == 'e' || raw[i] == 'E'):
		return true
	}
	if neg {
		v = -v
	}
	return v == l.n
}

func skipSpace(raw []byte, i int) int {
	for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r') {
		i++
	}
	return i
}

// mayContainAll reports whether raw may contain every literal. It is
// false only when some literal is certainly absent.
func mayContainAll(raw []byte, lits []lit) bool {
	var escaped [2]uint64
	scanned := false
	for _, l := range lits {
		if l.in(raw) {
			continue
		}
		if !scanned {
			escaped, scanned = escapedChars(raw), true
		}
		if escaped[0]&l.chars[0] == 0 && escaped[1]&l.chars[1] == 0 {
			return false
		}
	}
	return true
}

// tokensOf returns lits as audit.Tokens, item i for lits[i], when each is
// a whole JSON string or a key:value pair; false otherwise.
func tokensOf(lits []lit) (*audit.Tokens, bool) {
	if len(lits) > audit.MaxTokens {
		return nil, false
	}
	t := &audit.Tokens{}
	for i, l := range lits {
		if len(l.b) < 2 || l.b[0] != '"' || l.b[len(l.b)-1] != '"' {
			return nil, false
		}
		s := string(l.b[1 : len(l.b)-1])
		var k int
		switch v := string(l.val); {
		case l.val == nil:
			k = t.AddString(s)
		case l.num:
			k = t.AddPair(s, l.n)
		case v == "true" || v == "false":
			k = t.AddPair(s, v == "true")
		case len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"':
			k = t.AddPair(s, v[1:len(v)-1])
		default:
			return nil, false
		}
		if k != i {
			return nil, false
		}
	}
	return t, true
}

// mayContainFound is mayContainAll for a document in which SkimTokens
// found the literals of found (bit i: lits[i]) and escapes standing for
// the characters of escaped (escapedChars' set): false only when some
// other literal is certainly absent, no escape standing for any of its
// characters.
func mayContainFound(lits []lit, found uint64, escaped [2]uint64) bool {
	for i, l := range lits {
		if found&(1<<i) == 0 && escaped[0]&l.chars[0] == 0 && escaped[1]&l.chars[1] == 0 {
			return false
		}
	}
	return true
}

// escapedChars returns the ASCII characters that an escape in raw may
// stand for (\uXXXX below 0x80, and \/); anything it cannot read counts as
// every character.
func escapedChars(raw []byte) [2]uint64 {
	var set [2]uint64
	all := [2]uint64{^uint64(0), ^uint64(0)}
	for i := 0; ; {
		j := bytes.IndexByte(raw[i:], '\\')
		if j < 0 {
			return set
		}
		i += j
		if i+1 >= len(raw) {
			return set
		}
		switch raw[i+1] {
		case 'u':
			if i+6 > len(raw) {
				return all
			}
			var r int
			for _, h := range raw[i+2 : i+6] {
				switch {
				case h >= '0' && h <= '9':
					r = r<<4 | int(h-'0')
				case h >= 'a' && h <= 'f':
					r = r<<4 | int(h-'a'+10)
				case h >= 'A' && h <= 'F':
					r = r<<4 | int(h-'A'+10)
				default:
					return all
				}
			}
			if r < 0x80 {
				set[r>>6] |= 1 << (r & 63)
			}
			i += 6
		case '/':
			set['/'>>6] |= 1 << ('/' & 63)
			i += 2
		default:
			i += 2
		}
	}
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
