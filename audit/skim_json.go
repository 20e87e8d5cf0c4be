package audit

import (
	"encoding/binary"
	"math/bits"
)

// The JSON half of Skim: complete validation exactly as encoding/json's
// scanner validates (the decoder's skip.go and jsonstr.go say the same),
// without its error messages. A failure is only "not valid": the caller
// decodes the document to learn why. Positions are passed and returned as
// ints, -1 meaning invalid, which keeps them in registers.

// skimmer is the state of one Skim call.
type skimmer struct {
	data []byte
	// high records that a string held a byte >= 0x80: only then can the
	// document be invalid UTF-8. Once set, strings are no longer stopped
	// at such bytes.
	high bool
	k    kinds // skipValue's container kinds, reused

	t     *Tokens // SkimTokens: what to look for (nil: nothing)
	lens  uint64  // t.lens (0 without t)
	found uint64  // the items of t found so far
	// escaped: the ASCII characters escapes stood for so far (\uXXXX
	// below 0x80, and \/), a bit each.
	escaped [2]uint64
}

// ws skips JSON space from i.
func (s *skimmer) ws(i int) int {
	data := s.data
	// Every byte that is not JSON space and may follow it is above ' '.
	for i < len(data) && data[i] <= ' ' {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// str steps over the string whose opening quote is at i and returns the
// index after its closing quote (-1: invalid) and whether it held an
// escape. Eight bytes at a time through the plain part, as scanString.
// The plain-run loop is written out in both on purpose: as one shared
// function it does not inline, and decoding measured 5-11 % slower.
func (s *skimmer) str(i int) (end int, esc bool) {
	data := s.data
	i++
	high := uint64(msb)
	if s.high {
		high = 0
	}
	for {
		for i+8 <= len(data) {
			if m := special(binary.LittleEndian.Uint64(data[i:]), high); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				goto found
			}
			i += 8
		}
		for ; i < len(data); i++ {
			if c := data[i]; c == '"' || c == '\\' || c < 0x20 || c >= 0x80 && high != 0 {
				goto found
			}
		}
		return -1, false
	found:
		switch c := data[i]; {
		case c == '"':
			return i + 1, esc
		case c == '\\':
			esc = true
			i++
			if i >= len(data) {
				return -1, false
			}
			switch data[i] {
			case '"', '\\', 'b', 'f', 'n', 'r', 't':
				i++
			case '/':
				s.escaped[0] |= 1 << '/'
				i++
			case 'u':
				if i+4 >= len(data) {
					return -1, false
				}
				var r rune
				for _, h := range data[i+1 : i+5] {
					d := unhex(h)
					if d < 0 {
						return -1, false
					}
					r = r<<4 | d
				}
				if r < 0x80 {
					s.escaped[r>>6] |= 1 << (r & 63)
				}
				i += 5
			default:
				return -1, false
			}
		case c < 0x20:
			return -1, false
		default:
			s.high, high = true, 0
			i++
		}
	}
}

// lit checks the literal word at i (its first byte is known).
func (s *skimmer) lit(i int, word string) int {
	if len(s.data)-i >= len(word) && string(s.data[i:i+len(word)]) == word {
		return i + len(word)
	}
	return -1
}

// number steps over the number at i, whose first byte is known to be '-'
// or a digit. What follows it is the container's business ("01" is "0"
// then a stray "1"), as in encoding/json's scanner.
func (s *skimmer) number(i int) int {
	data := s.data
	if data[i] == '-' {
		i++
		if i >= len(data) || data[i] < '0' || data[i] > '9' {
			return -1
		}
	}
	if data[i] == '0' {
		i++
	} else {
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
	}
	if i < len(data) && data[i] == '.' {
		i++
		if i >= len(data) || data[i] < '0' || data[i] > '9' {
			return -1
		}
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) || data[i] < '0' || data[i] > '9' {
			return -1
		}
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
	}
	return i
}

// colon steps over JSON space, a colon and JSON space after a key that
// ended at i, leaving a value byte at the result (-1: none).
func (s *skimmer) colon(i int) int {
	data := s.data
	if i < 0 {
		return -1
	}
	// Compact JSON has the colon and the value right there.
	if i+1 < len(data) && data[i] == ':' && data[i+1] > ' ' {
		return i + 1
	}
	i = s.ws(i)
	if i >= len(data) || data[i] != ':' {
		return -1
	}
	i = s.ws(i + 1)
	if i >= len(data) {
		return -1
	}
	return i
}

// key steps over a key of no interest and its colon.
func (s *skimmer) key(i int) int {
	if i < 0 || i >= len(s.data) || s.data[i] != '"' {
		return -1
	}
	end, esc := s.str(i)
	v := s.colon(end)
	if !esc && v >= 0 && s.wants(end-1-(i+1)) {
		s.keyTok(i+1, end-1, v)
	}
	return v
}

// value validates and steps over the value at i, inside depth open
// containers; -1 when it is not valid JSON. It is iterative, as skipValue.
func (s *skimmer) value(i, depth int) int {
	data := s.data
	base := depth
	for {
		// At the start of a value.
		if i < 0 || i >= len(data) {
			return -1
		}
		switch c := data[i]; c {
		case '"':
			end, esc := s.str(i)
			if !esc && end >= 0 && s.wants(end-1-(i+1)) {
				s.strTok(i+1, end-1)
			}
			i = end
		case '{':
			if depth++; depth > maxDepth {
				return -1
			}
			s.k.set(depth-base-1, true)
			if i = s.ws(i + 1); i >= len(data) {
				return -1
			}
			if data[i] != '}' {
				i = s.key(i)
				continue
			}
			i++
			depth--
		case '[':
			if depth++; depth > maxDepth {
				return -1
			}
			s.k.set(depth-base-1, false)
			if i = s.ws(i + 1); i >= len(data) {
				return -1
			}
			if data[i] != ']' {
				continue
			}
			i++
			depth--
		case 't':
			i = s.lit(i, "true")
		case 'f':
			i = s.lit(i, "false")
		case 'n':
			i = s.lit(i, "null")
		default:
			if c != '-' && (c < '0' || c > '9') {
				return -1
			}
			i = s.number(i)
		}
		// After a value: close containers until another value is due.
		for {
			if i < 0 {
				return -1
			}
			if depth == base {
				return i
			}
			if i < len(data) && data[i] <= ' ' {
				i = s.ws(i)
			}
			if i >= len(data) {
				return -1
			}
			c := data[i]
			if c == ',' {
				i = s.ws(i + 1)
				if s.k.object(depth - base - 1) {
					i = s.key(i)
				}
				break
			}
			if s.k.object(depth-base-1) && c != '}' || !s.k.object(depth-base-1) && c != ']' {
				return -1
			}
			i++
			depth--
		}
	}
}

// objOpen enters the object at i ('{' is known) and reports whether a key
// follows at the result.
func (s *skimmer) objOpen(i int) (int, bool) {
	i = s.ws(i + 1)
	if i >= len(s.data) {
		return -1, false
	}
	if s.data[i] == '}' {
		return i + 1, false
	}
	return i, true
}

// objNext steps over what follows a member's value that ended at i: a
// comma (true: a key follows at the result) or the closing brace.
func (s *skimmer) objNext(i int) (int, bool) {
	if i < 0 {
		return -1, false
	}
	if i < len(s.data) && s.data[i] <= ' ' {
		i = s.ws(i)
	}
	if i >= len(s.data) {
		return -1, false
	}
	switch s.data[i] {
	case ',':
		return s.ws(i + 1), true
	case '}':
		return i + 1, false
	}
	return -1, false
}

// arrOpen and arrNext are objOpen and objNext for arrays: true when an
// element follows at the result.
func (s *skimmer) arrOpen(i int) (int, bool) {
	i = s.ws(i + 1)
	if i >= len(s.data) {
		return -1, false
	}
	if s.data[i] == ']' {
		return i + 1, false
	}
	return i, true
}

func (s *skimmer) arrNext(i int) (int, bool) {
	if i < 0 {
		return -1, false
	}
	if i < len(s.data) && s.data[i] <= ' ' {
		i = s.ws(i)
	}
	if i >= len(s.data) {
		return -1, false
	}
	switch s.data[i] {
	case ',':
		i = s.ws(i + 1)
		if i >= len(s.data) {
			return -1, false
		}
		return i, true
	case ']':
		return i + 1, false
	}
	return -1, false
}
