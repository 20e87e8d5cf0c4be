package audit

import (
	"encoding/binary"
	"math/bits"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// ReadString reads the JSON string that s starts with (at its opening
// quote) in one pass, and decodes it as encoding/json does: invalid UTF-8
// becomes U+FFFD byte by byte, and a \u surrogate that does not pair with
// the next \u escape becomes one U+FFFD (the next escape is decoded on its
// own). n is the string's length in s, quotes included. ok is false when s
// does not start with a valid JSON string (a control character, a bad
// escape, no closing quote).
//
// val aliases s when the string has no escapes and is valid UTF-8 (the
// caller copies it if s is reused); otherwise it is appended to buf
// (which may be nil) and does not alias s.
func ReadString(s, buf []byte) (val []byte, n int, ok bool) {
	if len(s) == 0 || s[0] != '"' {
		return nil, 0, false
	}
	b, copied := buf, false // b holds the value up to from once copied
	from, i := 1, 1
	for {
		// The plain run, eight bytes at a time.
		for i+8 <= len(s) {
			if m := special(binary.LittleEndian.Uint64(s[i:]), msb); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				goto found
			}
			i += 8
		}
		for i < len(s) && s[i] != '"' && s[i] != '\\' && s[i] >= 0x20 && s[i] < utf8.RuneSelf {
			i++
		}
		if i >= len(s) {
			return nil, 0, false
		}
	found:
		switch c := s[i]; {
		case c == '"':
			if !copied {
				return s[1:i], i + 1, true
			}
			return append(b, s[from:i]...), i + 1, true
		case c == '\\':
			b, copied = append(b, s[from:i]...), true
			if i+1 >= len(s) {
				return nil, 0, false
			}
			if e := s[i+1]; e == '"' || e == '\\' || e == '/' {
				from, i = i+1, i+2 // the escaped byte starts the next run
				continue
			}
			var esc bool
			if b, i, esc = appendEscape(b, s, i); !esc {
				return nil, 0, false
			}
			from = i
		case c < 0x20:
			return nil, 0, false
		default:
			r, size := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && size == 1 {
				b, copied = append(b, s[from:i]...), true
				b = utf8.AppendRune(b, unicode.ReplacementChar)
				from = i + 1
			}
			i += size
		}
	}
}

// appendEscape decodes the escape at s[i] (a backslash) onto b and returns
// the index after it; ok is false for an invalid escape.
func appendEscape(b, s []byte, i int) ([]byte, int, bool) {
	switch e := s[i+1]; e {
	case '"', '\\', '/':
		return append(b, e), i + 2, true
	case 'b':
		return append(b, '\b'), i + 2, true
	case 'f':
		return append(b, '\f'), i + 2, true
	case 'n':
		return append(b, '\n'), i + 2, true
	case 'r':
		return append(b, '\r'), i + 2, true
	case 't':
		return append(b, '\t'), i + 2, true
	case 'u':
		rr := getu4(s[i:])
		if rr < 0 {
			return nil, 0, false
		}
		i += 6
		if utf16.IsSurrogate(rr) {
			if dec := utf16.DecodeRune(rr, getu4(s[i:])); dec != unicode.ReplacementChar {
				return utf8.AppendRune(b, dec), i + 6, true
			}
			rr = unicode.ReplacementChar
		}
		return utf8.AppendRune(b, rr), i, true
	}
	return nil, 0, false
}
