package redact

import (
	"bytes"
	"testing"
)

// The fast path's checks at each colon (key's last byte, key length,
// the two bytes after the colon) only turn away colons early, and \u
// escapes are found by bytefind: mayHold must answer exactly as the plain
// walk over every colon it replaced, kept here as the reference.

func mayHoldRef(raw []byte) bool {
	if !hasBody(raw) {
		return false
	}
	if i := bytes.Index(raw, []byte(`\u00`)); i >= 0 && refEscapedLetter(raw[i:]) {
		return true
	}
	for i := 0; ; i++ {
		j := bytes.IndexByte(raw[i:], ':')
		if j < 0 {
			return false
		}
		i += j
		if refSensitiveBefore(raw[:i]) || refSecretAfter(raw[i+1:]) {
			return true
		}
	}
}

func refEscapedLetter(b []byte) bool {
	for {
		if len(b) >= 5 && b[4] >= '4' && b[4] <= '7' {
			return true
		}
		i := bytes.Index(b[1:], []byte(`\u00`))
		if i < 0 {
			return false
		}
		b = b[i+1:]
	}
}

func refSensitiveBefore(b []byte) bool {
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	if len(b) < 2 || b[len(b)-1] != '"' {
		return false
	}
	b = b[:len(b)-1]
	start := max(0, len(b)-maxKey-1)
	k := bytes.LastIndexByte(b[start:], '"')
	if k < 0 {
		return false
	}
	key := b[start+k+1:]
	for _, s := range sensitiveKeys {
		if len(s) == len(key) && bytes.EqualFold(key, []byte(s)) {
			return true
		}
	}
	return false
}

func refSecretAfter(b []byte) bool {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	return bytes.HasPrefix(b, []byte(`"secrets"`)) || bytes.HasPrefix(b, []byte(`"Secret"`)) || bytes.HasPrefix(b, []byte(`"SecretList"`))
}

// fastPathCases are members that the checks must not turn away: every
// sensitive key in three cases and with spaces, and the secret marks.
func fastPathCases() [][]byte {
	var out [][]byte
	wrap := func(member string) []byte {
		return []byte(`{"kind":"Event","requestObject":{"a":1,` + member + `}}`)
	}
	for _, k := range sensitiveKeys {
		for _, key := range []string{k, string(bytes.ToUpper([]byte(k))), string(bytes.ToLower([]byte(k)))} {
			out = append(out, wrap(`"`+key+`":"v"`), wrap(`"`+key+`" :  "v"`), wrap(`"`+key+"\"\t\n:1"))
			out = append(out, wrap(`"`+key[1:]+`":"v"`), wrap(`"x`+key+`":"v"`), wrap(`"`+key+`x":"v"`))
		}
	}
	for _, v := range []string{`"secrets"`, `"Secret"`, `"SecretList"`, `"secret"`, `"Secrets"`, `"sEcret"`} {
		out = append(out, wrap(`"kind":`+v), wrap(`"kind" : `+v), wrap(`"x:`+v[1:]))
	}
	out = append(out, wrap(`"`), wrap(`":`), wrap(`:"s`), wrap(`"a":"`), []byte(`{"requestObject":`))
	for _, esc := range []string{`\u0026`, `\u003c\u0041`, `\\u0041`, `\u00`, `\u004`, `x\u007f`, `\u0080`, `\"\u0030\u0065`} {
		out = append(out, wrap(`"k":"`+esc+`"`), wrap(`"`+esc+`":1`))
	}
	return out
}

func TestFastPathSameAsWalk(t *testing.T) {
	lines := append(genLines(t, 3000), fastPathCases()...)
	for _, l := range fixture(t) {
		lines = append(lines, l)
	}
	held := 0
	for _, l := range lines {
		got, want := mayHold(l), mayHoldRef(l)
		if got != want {
			t.Fatalf("mayHold = %v, the walk over every colon says %v: %s", got, want, l)
		}
		if got {
			held++
		}
	}
	if held < len(sensitiveKeys)*3 {
		t.Fatalf("only %d inputs may hold secrets: the cases prove little", held)
	}
}

func FuzzFastPath(f *testing.F) {
	for _, l := range fastPathCases() {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if got, want := mayHold(raw), mayHoldRef(raw); got != want {
			t.Fatalf("mayHold = %v, want %v: %q", got, want, raw)
		}
	})
}
