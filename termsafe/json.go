package termsafe

import (
	"encoding/binary"
	"fmt"
	"unicode/utf8"
)

// JSON returns the JSON text b with every rune that Printable would escape
// and JSON leaves raw (DEL, C1 controls, bidirectional overrides and
// isolates, zero-width characters, line and paragraph separators) written
// as a \uXXXX escape: the same JSON value, safe to show on a terminal and
// visible to a reviewer. Such runes can only occur inside strings of valid
// JSON, where the escape means the same rune; the same holds for YAML whose
// strings are all double-quoted. Invalid UTF-8 is left as it is (callers
// replace it first). b is returned unchanged, without allocating, when it
// has nothing to escape.
func JSON(b []byte) []byte {
	i := firstUnsafe(b)
	if i < 0 {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	out = append(out, b[:i]...)
	for i < len(b) {
		r, size := utf8.DecodeRune(b[i:])
		if (r == 0x7f || unsafeRune(r)) && !(r == utf8.RuneError && size == 1) {
			out = fmt.Appendf(out, `\u%04x`, r)
		} else {
			out = append(out, b[i:i+size]...)
		}
		i += size
	}
	return out
}

// firstUnsafe is the index of the first rune JSON escapes, or -1. Eight
// bytes at a time while they are ASCII other than DEL, as most audit JSON is.
func firstUnsafe(b []byte) int {
	const lsb, msb = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		del := x ^ (lsb * 0x7f) // a zero byte where x has DEL
		if x&msb != 0 || (del-lsb)&^del&msb != 0 {
			break
		}
	}
	for ; i < len(b); i++ {
		c := b[i]
		if c < 0x7f {
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == 0x7f || size > 1 && unsafeRune(r) {
			return i
		}
		i += size - 1
	}
	return -1
}
