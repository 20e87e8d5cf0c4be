package bytefind

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestIndex(t *testing.T) {
	json := `{"kind":"Event","verb":"list","objectRef":{"resource":"secrets"},"responseStatus":{"code":403,"reason":"Forbidden"}}`
	for _, c := range []struct{ s, needle string }{
		{json, "secrets"}, {json, "Forbidden"}, {json, `"code":`}, {json, "}}"}, {json, "zzz"},
		{json, "Event"}, {json, json}, {json, json + "x"}, {"", "ab"}, {"ab", ""}, {"a", "a"},
		{"aaaaaaaaaaaaaaaaaaab", "ab"}, {"aaaaaaaaaaaaaaaaaaaa", "aaa"}, {strings.Repeat("s", 100) + "secrets", "secrets"},
		{"xx\x80\xffyy", "\x80\xff"}, {"secretsecretsecrets", "secrets"},
	} {
		want := strings.Index(c.s, c.needle)
		if got := New([]byte(c.needle)).Index([]byte(c.s)); got != want {
			t.Errorf("Index(%q, %q) = %d, want %d", c.s, c.needle, got, want)
		}
	}
}

// Random texts over a small alphabet (so needles occur, overlap and
// straddle the 8- and 32-byte blocks of the pair scan, whose vector path
// starts at 32 bytes) agree with bytes.Index.
func TestIndexRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alpha := []byte(`es"aF:c`)
	rnd := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = alpha[r.IntN(len(alpha))]
		}
		return b
	}
	for range 20000 {
		s, needle := rnd(r.IntN(80)), rnd(1+r.IntN(6))
		if r.IntN(4) == 0 {
			s, needle = rnd(r.IntN(400)), rnd(1+r.IntN(40))
			at := r.IntN(len(s) + 1) // and plant it, so long needles are found too
			s = append(s[:at:at], append(append([]byte{}, needle...), s[at:]...)...)
		}
		if got, want := New(needle).Index(s), bytes.Index(s, needle); got != want {
			t.Fatalf("Index(%q, %q) = %d, want %d", s, needle, got, want)
		}
	}
}

func FuzzIndex(f *testing.F) {
	f.Add([]byte(`{"a":"secrets"}`), []byte("secrets"))
	f.Add([]byte("aaaaab"), []byte("ab"))
	f.Fuzz(func(t *testing.T, s, needle []byte) {
		if got, want := New(needle).Index(s), bytes.Index(s, needle); got != want {
			t.Fatalf("Index(%q, %q) = %d, want %d", s, needle, got, want)
		}
	})
}

func TestRarest(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
	}{
		{"", 0},
		{`"e"`, 1},          // a quote is the most common byte of all
		{`"verb":"get"`, 8}, // 'g' (72 in 10,000) beats 'v' (97), 'b' (145) and ':' (378)
		{"kube-system", 6},  // 'y' (63)
		{"\xff\"", 0},       // bytes from 128 count as rarest
		{"aa", 0},           // the first of equals
	} {
		if got := Rarest([]byte(c.in)); got != c.want {
			t.Errorf("Rarest(%q) = %d, want %d", c.in, got, c.want)
		}
	}
}
