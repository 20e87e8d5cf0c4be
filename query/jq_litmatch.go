package query

import (
	"bytes"

	"github.com/kaudit/kaudit/audit"
)

// Matching a filter's literals against an event's raw bytes: a search of
// its own (lit.in), or the tokens audit.SkimTokens reports while it
// validates the line (tokensOf, mayContainFound). The literals come from
// jq_literals.go.

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
