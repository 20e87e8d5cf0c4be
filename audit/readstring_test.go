package audit

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzReadString: ReadString reads what encoding/json reads, finds the same
// end, and aliases its input only for a plain string.
func FuzzReadString(f *testing.F) {
	for _, s := range []string{`"plain"`, `"a\"b\\c\/d\b\f\n\r\t" rest`, `"\u00e9\ud83d\ude00"`, `"\ud800\u0041"`, `"\ud800"`,
		"\"\xff\xfe ok\"", "\"caf\xc3\xa9\"", `"unterminated`, "\"ctl\x01\"", `"\x"`, `"\u12"`, `"\uZZZZ"`, `"a","b"`, `""`,
		`"{\"kind\":\"Event\",\"verb\":\"get\"}"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, s []byte) {
		val, n, ok := ReadString(s, nil)
		dec := json.NewDecoder(bytes.NewReader(s))
		tok, err := dec.Token()
		ref, isStr := tok.(string)
		refOK := err == nil && isStr && s[0] == '"'
		if ok != refOK {
			t.Fatalf("%q: ok %v, encoding/json %v (%v)", s, ok, refOK, err)
		}
		if !ok {
			return
		}
		if string(val) != ref || int64(n) != dec.InputOffset() {
			t.Fatalf("%q: got %q (%d bytes), want %q (%d)", s, val, n, ref, dec.InputOffset())
		}
		plain := !bytes.ContainsRune(s[:n], '\\') && string(val) == string(s[1:n-1])
		if aliased := len(val) > 0 && &val[0] == &s[1]; aliased != (plain && len(val) > 0) {
			t.Fatalf("%q: aliased %v", s, aliased)
		}
	})
}
