package termsafe

import (
	"encoding/json"
	"testing"
)

func TestJSON(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"a":"plain","b":"é ✓"}`, `{"a":"plain","b":"é ✓"}`},
		{"{\"name\":\"evil\u202etxt.exe\"}", `{"name":"evil\u202etxt.exe"}`},
		{"[\"\u0085\u009b[2J\",\"\u200bx\u2028\ufeff\x7f\"]", `["\u0085\u009b[2J","\u200bx\u2028\ufeff\u007f"]`},
	} {
		got := string(JSON([]byte(tc.in)))
		if got != tc.want {
			t.Errorf("JSON(%q) = %q, want %q", tc.in, got, tc.want)
		}
		var a, b any
		if json.Unmarshal([]byte(tc.in), &a) != nil || json.Unmarshal([]byte(got), &b) != nil {
			t.Fatalf("invalid JSON %q", got)
		}
		if ja, _ := json.Marshal(a); string(ja) != func() string { jb, _ := json.Marshal(b); return string(jb) }() {
			t.Errorf("value changed: %q -> %q", tc.in, got)
		}
	}
	plain := []byte(`{"a":"b"}`)
	if got := JSON(plain); &got[0] != &plain[0] {
		t.Error("copied although nothing to escape")
	}
}

func TestJSONEveryPosition(t *testing.T) {
	for _, r := range []string{"\x7f", "\u202e", "\u0085"} {
		for i := 0; i < 20; i++ {
			in := []byte(`"` + string(make([]byte, 0)) + pad(i) + r + pad(20-i) + `"`)
			got := string(JSON(in))
			if got == string(in) {
				t.Errorf("%q at %d not escaped", r, i)
			}
		}
	}
}

func pad(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a'
	}
	return string(b)
}
