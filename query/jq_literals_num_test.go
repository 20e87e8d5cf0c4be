package query

import "testing"

// TestNumberPair: the pair "code":403 is ruled out only when every
// "code" value is a plain integer other than 403.
func TestNumberPair(t *testing.T) {
	l, ok := pairLit("code", 403)
	if !ok {
		t.Fatal("no pair literal for an integer")
	}
	tests := []struct {
		raw  string
		want bool
	}{
		{`{"code":403}`, true},
		{`{"code" :  403 }`, true},
		{`{"code":200}`, false},
		{`{"code":4030}`, false},
		{`{"code":40}`, false},
		{`{"code":-403}`, false},
		{`{"code":403.0}`, true},
		{`{"code":4.03e2}`, true},
		{`{"code":4030e-1}`, true},
		{`{"code":40300E-2}`, true},
		{`{"code":0403}`, true},                // no JSON: may be anything
		{`{"code":4030000000000000000}`, true}, // too long to read
		{`{"code":"403"}`, false},              // a string is never 403
		{`{"code":null,"x":403}`, false},
		{`{"code":200,"code":403}`, true},
		{`{"a":{"code":200},"b":{"code":403}}`, true},
		{`{"reason":"code","x":403}`, false}, // "code" as a value
		{`{"x":403}`, false},
	}
	for _, tt := range tests {
		if got := mayContainAll([]byte(tt.raw), []lit{l}); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.raw, got, tt.want)
		}
	}
	// An escape that may spell a letter of the key keeps every event.
	if !mayContainAll([]byte(`{"\u0063ode":200}`), []lit{l}) {
		t.Error(`"\u0063ode" ruled out`)
	}
	zero, _ := pairLit("code", 0)
	if !mayContainAll([]byte(`{"code":-0}`), []lit{zero}) {
		t.Error("-0 is 0")
	}
}
