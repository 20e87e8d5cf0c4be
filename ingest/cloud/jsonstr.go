package cloud

import (
	"unicode/utf8"

	"github.com/kaudit/kaudit/internal/jsonstr"
)

// appendString writes s as a JSON string exactly as encoding/json does for
// a Go string that encoding/json itself decoded: each byte of invalid UTF-8
// as a literal U+FFFD, as json.Unmarshal would have replaced it.
func appendString(dst, s []byte) []byte {
	return jsonstr.Append(dst, s, jsonstr.Literal)
}

// fixUTF8 replaces each byte of invalid UTF-8 with U+FFFD, as
// json.Unmarshal does.
func fixUTF8(p []byte) []byte {
	if utf8.Valid(p) {
		return p
	}
	out := make([]byte, 0, len(p)+8)
	for len(p) > 0 {
		r, size := utf8.DecodeRune(p)
		if r == utf8.RuneError && size == 1 {
			out = append(out, "\uFFFD"...)
		} else {
			out = append(out, p[:size]...)
		}
		p = p[size:]
	}
	return out
}
