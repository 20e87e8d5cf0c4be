package audit

import (
	"encoding/binary"
	"math/bits"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// String scanning. Flags say what a string held, so that decoded strings
// can alias the input when neither escapes nor (invalid) UTF-8 need work.
const (
	strEscaped uint8 = 1 << iota
	strHigh          // a byte >= 0x80
)

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// special returns a mask whose lowest set bit marks the first byte of x
// that is '"', '\\', a control character or (when high is msb) >= 0x80.
// The borrow tricks can set false bits only above a true one, so the
// lowest set bit is always exact.
func special(x, high uint64) uint64 {
	q := x ^ (lsb * '"')
	b := x ^ (lsb * '\\')
	return ((q-lsb)&^q | (b-lsb)&^b | (x-lsb*0x20)&^x | x&high) & msb
}

// scanString validates the string whose opening quote is at d.pos and moves
// past its closing quote. It returns the flags, and ok false on error.
func (d *decoder) scanString() (flags uint8, ok bool) {
	data := d.data
	i := d.pos + 1
	high := true // bytes >= 0x80 are of interest until the first
	for {
		if i = d.win.nextSpecial(data, i, high); i >= len(data) {
			d.pos = i
			d.failEOF("")
			return 0, false
		}
		switch c := data[i]; {
		case c == '"':
			d.pos = i + 1
			return flags, true
		case c == '\\':
			flags |= strEscaped
			i++
			if i >= len(data) {
				d.pos = i
				d.failEOF("in string escape code")
				return 0, false
			}
			switch data[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				for n := 0; n < 4; n++ {
					i++
					if i >= len(data) {
						d.pos = i
						d.failEOF(`in \u hexadecimal character escape`)
						return 0, false
					}
					if c := data[i]; unhex(c) < 0 {
						d.pos = i
						d.fail(c, `in \u hexadecimal character escape`)
						return 0, false
					}
				}
				i++
			default:
				d.pos = i
				d.fail(data[i], "in string escape code")
				return 0, false
			}
		case c < 0x20:
			d.pos = i
			d.fail(c, "in string literal")
			return 0, false
		default:
			flags |= strHigh
			d.high = true
			high = false
			i++
		}
	}
}

// skipString steps over the string at d.pos: a plain one by the window's
// masks (quickEnd), anything else by scanString.
func (d *decoder) skipString() bool {
	if end := d.win.quickEnd(d.data, d.pos+1); end >= 0 {
		d.pos = end + 1
		return true
	}
	_, ok := d.scanString()
	return ok
}

func unhex(c byte) rune {
	switch {
	case '0' <= c && c <= '9':
		return rune(c - '0')
	case 'a' <= c && c <= 'f':
		return rune(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return rune(c - 'A' + 10)
	}
	return -1
}

// str reads the string at d.pos (its opening quote) and returns its value.
// The value aliases the input unless it has escapes or invalid UTF-8: Decode
// promises views into doc, and that is where most of the speed comes from.
func (d *decoder) str() string {
	// Most strings are plain ASCII: the first special byte is the closing
	// quote, found in the window's masks without scanString's bookkeeping
	// (quickEnd, inlined).
	data := d.data
	start := d.pos + 1
	if i := d.win.quickEnd(data, start); i >= 0 {
		d.pos = i + 1
		return bytesString(data[start:i])
	}
	return d.strRest()
}

// strRest is str for a string quickEnd did not end: strVal, which has
// tried quickEnd itself, calls it rather than str.
func (d *decoder) strRest() string {
	start := d.pos + 1
	if s, ok := d.strQuick(); ok {
		return s
	}
	flags, ok := d.scanString()
	if !ok {
		return ""
	}
	raw := d.data[start : d.pos-1]
	if flags == 0 || flags == strHigh && utf8.Valid(raw) {
		return bytesString(raw)
	}
	return d.unquote(raw, start, flags == strEscaped)
}

// unquote is unquote into the decoder's arena while it has room. raw is
// data[start:start+len(raw)]; ascii says it has no byte >= 0x80, so its
// escapes are the only special bytes in the window's masks.
func (d *decoder) unquote(raw []byte, start int, ascii bool) string {
	var a []byte
	inArena := d.arena != nil && cap(*d.arena)-len(*d.arena) >= len(raw)+utf8.UTFMax
	if inArena {
		a = (*d.arena)[len(*d.arena):len(*d.arena):cap(*d.arena)]
	} else {
		a = make([]byte, 0, len(raw)+utf8.UTFMax)
	}
	var b []byte
	if ascii {
		b = d.appendUnquoteASCII(a, start, start+len(raw))
	} else {
		b = appendUnquote(a, raw)
	}
	if inArena && cap(b) == cap(a) { // still in the arena (invalid UTF-8 may grow it past)
		*d.arena = (*d.arena)[:len(*d.arena)+len(b)]
	}
	return bytesString(b)
}

// appendUnquoteASCII is appendUnquote for the body data[start:end] of a
// valid string with escapes and no byte >= 0x80: the plain runs between
// escapes are found in the window's masks. (The escape decoder may look
// one \u escape past a trailing surrogate: past end is the closing quote,
// which it turns away, as appendUnquote's end of input.)
func (d *decoder) appendUnquoteASCII(b []byte, start, end int) []byte {
	data := d.data
	for r := start; r < end; {
		j := min(d.win.nextSpecial(data, r, false), end)
		b = append(b, data[r:j]...)
		if j == end {
			break
		}
		b, r, _ = appendEscape(b, data, j)
	}
	return b
}

func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// unquote decodes the body of a syntactically valid JSON string exactly as
// encoding/json's unquoteBytes does: invalid UTF-8 becomes U+FFFD byte by
// byte (utf8.DecodeRune's rule), and a \u surrogate that does not pair
// with the next \u escape becomes one U+FFFD while the next escape is
// decoded on its own.
func unquote(s []byte) string {
	return bytesString(appendUnquote(make([]byte, 0, len(s)+utf8.UTFMax), s))
}

// appendUnquote appends what unquote returns to b.
func appendUnquote(b, s []byte) []byte {
	for r := 0; r < len(s); {
		// Copy the plain run up to the next escape or non-ASCII byte at once:
		// the usual escaped string is an RBAC reason with a few \" in it.
		j := r
		for j+8 <= len(s) {
			m := special(binary.LittleEndian.Uint64(s[j:]), msb)
			if m != 0 {
				j += bits.TrailingZeros64(m) >> 3
				break
			}
			j += 8
		}
		for j < len(s) && s[j] != '\\' && s[j] < utf8.RuneSelf {
			j++
		}
		b = append(b, s[r:j]...)
		if r = j; r == len(s) {
			break
		}
		c := s[r]
		switch {
		case c == '\\':
			switch s[r+1] {
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				rr := getu4(s[r:])
				r += 6
				if utf16.IsSurrogate(rr) {
					if dec := utf16.DecodeRune(rr, getu4(s[r:])); dec != unicode.ReplacementChar {
						r += 6
						b = utf8.AppendRune(b, dec)
						continue
					}
					rr = unicode.ReplacementChar
				}
				b = utf8.AppendRune(b, rr)
				continue
			default: // '"', '\\', '/'
				b = append(b, s[r+1])
			}
			r += 2
		case c < utf8.RuneSelf:
			b = append(b, c)
			r++
		default:
			rr, size := utf8.DecodeRune(s[r:])
			r += size
			b = utf8.AppendRune(b, rr)
		}
	}
	return b
}

// getu4 decodes \uXXXX at the start of s, or returns -1.
func getu4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		h := unhex(c)
		if h < 0 {
			return -1
		}
		r = r*16 + h
	}
	return r
}

// foldEq reports whether key names the field called name (ASCII letters)
// under encoding/json's case-insensitive matching, which folds ASCII letters
// to upper case and every other rune to the smallest rune of its
// unicode.SimpleFold orbit. Only two non-ASCII runes fold onto ASCII: ſ
// (long s) onto S and the Kelvin sign onto K.
func foldEq(key, name string) bool {
	j := 0
	for i := 0; i < len(key); j++ {
		c := key[i]
		if c < utf8.RuneSelf {
			i++
		} else {
			r, n := utf8.DecodeRuneInString(key[i:])
			i += n
			switch r {
			case '\u017F': // long s
				c = 'S'
			case '\u212A': // Kelvin sign
				c = 'K'
			default:
				return false
			}
		}
		if j >= len(name) || upper(c) != upper(name[j]) {
			return false
		}
	}
	return j == len(name)
}

func upper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

// lookupFold finds key among names case-insensitively; -1 if absent. The
// decoders try an exact switch first, which encoding/json also does, and
// since no two names here fold alike the fallback cannot disagree with it.
func lookupFold(key string, names []string) int {
	ascii := true
	for i := 0; i < len(key); i++ {
		if key[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	for i, n := range names {
		if ascii && len(n) != len(key) {
			continue
		}
		if foldEq(key, n) {
			return i
		}
	}
	return -1
}
