// Package jsonstr writes a JSON string byte for byte as encoding/json does
// with HTML escaping on (the json.Marshal default, which kube-apiserver's
// audit backend and Google's exporters use). gen writes events with it and
// ingest/cloud rewrites cloud entries into audit events with it; both are
// held to encoding/json's exact bytes, so they share this one writer.
package jsonstr

import "unicode/utf8"

// Invalid is what Append writes for each byte of invalid UTF-8. The two
// callers differ on purpose: json.Marshal of a Go string writes the escape,
// while a string that json.Unmarshal decoded already holds a literal
// U+FFFD, which json.Marshal then writes as it is.
type Invalid string

const (
	// Escaped is json.Marshal's `\ufffd`.
	Escaped Invalid = `\ufffd`
	// Literal is the UTF-8 of U+FFFD, as decode-then-encode writes it.
	Literal Invalid = "\uFFFD"
)

const hexDigits = "0123456789abcdef"

// plain marks the ASCII bytes encoding/json writes unescaped: not '"',
// '\\', controls, nor the HTML characters & < >.
var plain = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// Append appends s as a JSON string, quotes included: & < > as \u0026
// \u003c \u003e; \b \f \n \r \t short; other controls \u00XX; U+2028 and
// U+2029 escaped; each byte of invalid UTF-8 as bad.
func Append[S string | []byte](dst []byte, s S, bad Invalid) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if plain[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			dst = appendASCII(dst, c)
			i++
			start = i
			continue
		}
		var r rune
		var size int
		if str, ok := any(s).(string); ok {
			r, size = utf8.DecodeRuneInString(str[i:])
		} else {
			r, size = utf8.DecodeRune([]byte(s[i:]))
		}
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, bad...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendASCII appends the escape of an ASCII byte that is not plain.
func appendASCII(dst []byte, c byte) []byte {
	switch c {
	case '\\', '"':
		return append(dst, '\\', c)
	case '\b':
		return append(dst, '\\', 'b')
	case '\f':
		return append(dst, '\\', 'f')
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	return append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
}
