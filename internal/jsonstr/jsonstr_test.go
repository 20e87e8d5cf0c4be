package jsonstr

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
)

// reference is what encoding/json writes for s: json.Marshal for Escaped,
// and for Literal the same string after a json.Unmarshal round trip (which
// turns each invalid byte into a literal U+FFFD).
func reference(t *testing.T, s string, bad Invalid) []byte {
	t.Helper()
	want, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if bad == Escaped {
		return want
	}
	var decoded string
	if err := json.Unmarshal(want, &decoded); err != nil {
		t.Fatal(err)
	}
	want, err = json.Marshal(decoded)
	if err != nil {
		t.Fatal(err)
	}
	return want
}

func check(t *testing.T, s string) {
	t.Helper()
	for _, bad := range []Invalid{Escaped, Literal} {
		want := reference(t, s, bad)
		if got := Append(nil, s, bad); !bytes.Equal(got, want) {
			t.Errorf("Append(%q, %q) = %s, want %s", s, bad, got, want)
		}
		if got := Append([]byte("x"), []byte(s), bad); !bytes.Equal(got, append([]byte("x"), want...)) {
			t.Errorf("Append([]byte %q, %q) = %s, want x%s", s, bad, got, want)
		}
	}
}

func TestAppend(t *testing.T) {
	cases := []string{"", "plain", `q"b\s`, "a&b<c>d", "\b\f\n\r\t\x00\x1f\x7f", "µs ünï", "\u2028\u2029",
		"bad\xffutf8\xc3", "\xed\xa0\x80", "emoji 🙂", "\xf0\x9f\x99"}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		b := make([]byte, r.IntN(12))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		check(t, s)
	}
}

// TestInvalid pins the one difference between the two modes.
func TestInvalid(t *testing.T) {
	for _, tc := range []struct {
		bad  Invalid
		want string
	}{
		{Escaped, `"a\ufffdb"`},
		{Literal, "\"a\uFFFDb\""},
	} {
		if got := string(Append(nil, "a\xffb", tc.bad)); got != tc.want {
			t.Errorf("Append(a\\xffb, %q) = %s, want %s", tc.bad, got, tc.want)
		}
	}
}

func FuzzAppend(f *testing.F) {
	for _, s := range []string{"", "a<b>&c", "\x00\u2028", "bad\xff\xc3", "🙂"} {
		f.Add(s)
	}
	f.Fuzz(check)
}
