package audit

import (
	"math/bits"
	"time"
)

// Tokens are what SkimTokens looks for while it validates a document, so
// that a filter's pre-filter costs no pass of its own over the bytes:
// strings (a key or a string value spelled exactly so) and key:value pairs
// (the key, then a given string, true, false or integer value). Each is
// known by the index Add returned, a bit of SkimTokens' result. A token
// spelled with escapes is not recognised: the caller must treat escapes
// that may spell what it looks for as a possible match.
//
// Build it before use; it is then read-only, safe for concurrent use.
type Tokens struct {
	lens    uint64 // bit n: some item's key or string has n bytes
	strLens uint64 // bit n: some string item has n bytes
	items   []tokenItem
	// keyItems[k]: the items spelled as the known key wordKeyNames[k]
	// (a bit each), so that Skim's usual keys cost one look-up.
	keyItems []uint64
}

type tokenItem struct {
	s    string // the string, or the pair's key
	kind tokenKind
	v    string // pairString's value
	n    int64  // pairInt's value
}

type tokenKind uint8

const (
	tokString tokenKind = iota
	pairString
	pairTrue
	pairFalse
	pairInt
)

// MaxTokens is how many items a Tokens holds.
const MaxTokens = 64

// AddString adds a string (its content, unquoted: printable ASCII other
// than '"' and '\\', fewer than 64 bytes) and returns its bit, or -1 when
// it cannot be looked for.
func (t *Tokens) AddString(s string) int { return t.add(tokenItem{s: s}) }

// AddPair adds key (as AddString's s) with a value: a string (as s), a
// bool, or an int64 that JSON may spell in many ways: an integer pair is
// found when the key holds that integer plainly (-?[0-9]+) or any number
// spelled otherwise (403.0, 4.03e2), which may be it.
func (t *Tokens) AddPair(key string, value any) int {
	it := tokenItem{s: key}
	switch v := value.(type) {
	case string:
		if !plainToken(v) {
			return -1
		}
		it.kind, it.v = pairString, v
	case bool:
		it.kind = pairFalse
		if v {
			it.kind = pairTrue
		}
	case int64:
		it.kind, it.n = pairInt, v
	default:
		return -1
	}
	return t.add(it)
}

func (t *Tokens) add(it tokenItem) int {
	if len(t.items) >= MaxTokens || !plainToken(it.s) || len(it.s) >= 64 {
		return -1
	}
	t.items = append(t.items, it)
	if t.keyItems == nil {
		t.keyItems = make([]uint64, len(wordKeyNames))
	}
	for k, name := range wordKeyNames {
		if name == it.s {
			t.keyItems[k] |= 1 << (len(t.items) - 1)
		}
	}
	t.lens |= 1 << len(it.s)
	if it.kind == tokString {
		t.strLens |= 1 << len(it.s)
	}
	return len(t.items) - 1
}

func plainToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// SkimTokens is Skim that also reports which of t's items the document
// holds (bit i for item i), and the ASCII characters that its escapes
// stand for (\uXXXX below 0x80, and \/; bit c%64 of escaped[c/64]): an
// item may be spelled with those. Both are only meaningful when ok.
func SkimTokens(doc []byte, t *Tokens) (stageTime time.Time, ok bool, found uint64, escaped [2]uint64) {
	s := skimmer{data: doc, t: t, lens: t.lens, strLens: t.strLens}
	stageTime, ok = s.skim()
	return stageTime, ok, s.found, s.escaped
}

// wants reports whether some item of s.t is n bytes long (never without
// s.t): one shift, as a shift of 64 or more is 0. A key may be any item.
func (s *skimmer) wants(n int) bool {
	return s.lens>>uint(n)&1 != 0
}

// wantsStr is wants for a string value, which only a string item can be.
func (s *skimmer) wantsStr(n int) bool {
	return s.strLens>>uint(n)&1 != 0
}

// strTok notes the string token data[a:b] (its content, without quotes),
// not escaped: a string item it spells is found.
func (s *skimmer) strTok(a, b int) {
	c := bytesString(s.data[a:b])
	for k := range s.t.items {
		if it := &s.t.items[k]; it.kind == tokString && same(it.s, c) {
			s.found |= 1 << k
		}
	}
}

// keyTok notes the key data[a:b], not escaped, whose value starts at v: a
// string item it spells is found, and so is a pair of it with that value.
func (s *skimmer) keyTok(a, b, v int) {
	if v < 0 {
		return
	}
	c := bytesString(s.data[a:b])
	for k := range s.t.items {
		it := &s.t.items[k]
		if !same(it.s, c) {
			continue
		}
		if it.kind == tokString || s.pairValue(it, v) {
			s.found |= 1 << k
		}
	}
}

// keyItems notes the items of mask m (all spelled as the key whose value
// starts at v) found: a string item, or a pair with that value.
func (s *skimmer) keyItems(m uint64, v int) {
	if v < 0 {
		return
	}
	for ; m != 0; m &= m - 1 {
		k := bits.TrailingZeros64(m)
		if it := &s.t.items[k]; it.kind == tokString || s.pairValue(it, v) {
			s.found |= 1 << k
		}
	}
}

// same is a == b, with the first bytes compared before the call that
// compares the rest: keys of one length are many.
func same(a, b string) bool {
	return len(a) == len(b) && (len(a) == 0 || a[0] == b[0]) && a == b
}

// pairValue reports whether the value at v may be it's.
func (s *skimmer) pairValue(it *tokenItem, v int) bool {
	data := s.data
	switch it.kind {
	case pairString:
		if data[v] != '"' {
			return false
		}
		end, esc := s.str(v)
		return end >= 0 && !esc && bytesString(data[v+1:end-1]) == it.v
	case pairTrue:
		return s.lit(v, "true") >= 0
	case pairFalse:
		return s.lit(v, "false") >= 0
	case pairInt:
		return intMayBe(data, v, it.n)
	}
	return false
}

// intMayBe reports whether the value at data[i] may be the integer n: it
// is not when it is no number (jq equals no string, null, boolean, array
// or object to a number), or a plain integer (-?[0-9]+, then no fraction
// or exponent) other than n. Any other spelling may be n.
func intMayBe(data []byte, i int, n int64) bool {
	neg := data[i] == '-'
	if neg {
		i++
	}
	start := i
	var v int64
	for ; i < len(data) && data[i] >= '0' && data[i] <= '9'; i++ {
		if i-start >= 15 {
			return true // past 2^53 perhaps: not read
		}
		v = v*10 + int64(data[i]-'0')
	}
	switch {
	case i == start:
		return neg // "-" and no digit is no JSON: may be anything
	case data[start] == '0' && i-start > 1:
		return true // nor are leading zeros
	case i < len(data) && (data[i] == '.' || data[i] == 'e' || data[i] == 'E'):
		return true
	}
	if neg {
		v = -v
	}
	return v == n
}
