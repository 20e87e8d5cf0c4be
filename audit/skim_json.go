package audit

import (
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
	// high records that the bytes seen so far (by fill) held one >= 0x80:
	// only then can the document be invalid UTF-8. (Outside a string such
	// a byte makes it no JSON, so where it was does not matter.)
	high bool
	k    kinds // skipValue's container kinds, reused

	// bm marks the special bytes of the 64-byte blocks bm0 to bm0+bmN-1
	// (see fill).
	bm       [bmWords + 1]uint64
	bm0, bmN int

	t    *Tokens // SkimTokens: what to look for (nil: nothing)
	lens uint64  // t.lens (0 without t)
	// strLens is t.strLens (0 without t).
	strLens uint64
	found   uint64 // the items of t found so far
	// escaped: the ASCII characters escapes stood for so far (\uXXXX
	// below 0x80, and \/), a bit each.
	escaped [2]uint64
}

// ws skips JSON space from i (skipWS, as the decoder does).
func (s *skimmer) ws(i int) int {
	return skipWS(s.data, i)
}

// str steps over the string whose opening quote is at i and returns the
// index after its closing quote (-1: invalid) and whether it held an
// escape. It finds the string's end in s.bm, a bit per byte made for the
// whole document in one pass (fill), rather than eight bytes at a time per
// string: strings are short (about 20 bytes), and the per-string loop and
// its exit cost more than the pass. Skim's CPU per byte went down by about
// a sixth (BenchmarkSkim/hot, with plainEnd inlined).
func (s *skimmer) str(i int) (end int, esc bool) {
	if end = s.plainEnd(i); end >= 0 {
		return end, false
	}
	return s.strSlow(i)
}

// plainEnd is str's common case, small enough to be inlined: the string
// at i ends at the first special byte, in a block of s.bm. -1: otherwise.
func (s *skimmer) plainEnd(i int) int {
	j := i + 1
	if b := uint(j>>6 - s.bm0); b < uint(s.bmN) {
		// The 64 bits from j on: the next block's word is 0 when not
		// filled yet (see fill).
		sh := uint(j & 63)
		if w := s.bm[b%bmWords]>>sh | s.bm[b%bmWords+1]<<(64-sh); w != 0 {
			j += bits.TrailingZeros64(w)
			if s.data[j] == '"' {
				return j + 1
			}
		}
	}
	return -1
}

// strSlow is str for a string that goes on past its block, holds an
// escape, or is not in s.bm yet.
func (s *skimmer) strSlow(i int) (end int, esc bool) {
	data := s.data
	i++
	for {
		blk := i >> 6
		if uint(blk-s.bm0) >= uint(s.bmN) {
			if i >= len(data) {
				return -1, false
			}
			s.fill(blk)
		}
		w := s.bm[(blk-s.bm0)&(bmWords-1)] >> (i & 63)
		if w == 0 {
			i = (blk + 1) << 6
			continue
		}
		i += bits.TrailingZeros64(w)
		switch data[i] {
		case '"':
			return i + 1, esc
		case '\\':
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
		default: // a control character
			return -1, false
		}
	}
}

// bmWords is how many 64-byte blocks s.bm covers at a time (a power of 2).
const bmWords = 32

// fill sets s.bm to the special bytes of the blocks from blk on: bit k of
// a word says that byte k of its block is '"', '\\' or a control
// character. It is one pass without branches on the bytes. A byte >= 0x80
// sets s.high: strings need not stop at it to note that (a document with
// one outside its strings is no JSON anyway).
func (s *skimmer) fill(blk int) {
	data := s.data
	p := blk << 6
	n := min((len(data)-p)>>6, bmWords)
	high := specialWords(data[p:p+n<<6], s.bm[:n])
	if p += n << 6; n < bmWords && p < len(data) {
		// The last block, shorter than 64 bytes: the 64 bytes that end
		// with it, shifted; or, in a document that short, padded, and
		// the padding's bits (NUL is a control character) cleared.
		if k := len(data) - p; len(data) >= 64 {
			high = specialWords(data[len(data)-64:], s.bm[n:n+1]) || high
			s.bm[n] >>= 64 - k
		} else {
			var last [64]byte
			copy(last[:], data[p:])
			high = specialWords(last[:], s.bm[n:n+1]) || high
			s.bm[n] &= 1<<k - 1
		}
		n++
	}
	s.bm[n] = 0 // for plainEnd, which reads a word past the last
	s.bm0, s.bmN = blk, n
	if high {
		s.high = true
	}
}

// specialWords sets bm[k] to the bits of the '"', '\\' and control
// characters of data's 64-byte block k (len(data) is 64*len(bm), at most
// 64*bmWords) and reports whether a byte >= 0x80 occurred. It uses the
// decoder's string masks (maskBlocks: AVX2, SSE2 or Go; jsonstr_mask.go),
// which also mark bytes >= 0x80: Skim's strings need not stop at those.
func specialWords(data []byte, bm []uint64) (high bool) {
	if len(bm) == 0 {
		return false
	}
	var m [bmWords]blockMask
	maskBlocks(&m[0], data)
	var hi uint64
	for k := range bm {
		bm[k] = m[k].any &^ m[k].hi
		hi |= m[k].hi
	}
	return hi != 0
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
	end, esc := s.plainEnd(i), false
	if end < 0 {
		end, esc = s.strSlow(i)
	}
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
			end, esc := s.plainEnd(i), false
			if end < 0 {
				end, esc = s.strSlow(i)
			}
			if !esc && end >= 0 && s.wantsStr(end-1-(i+1)) {
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
