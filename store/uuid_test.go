package store

import (
	"encoding/hex"
	"regexp"
	"strings"
	"testing"
)

var uuidForm = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// FuzzParseUUID checks the table-driven parser against a regexp and
// encoding/hex.
func FuzzParseUUID(f *testing.F) {
	for _, s := range []string{id1, "841d3e6d-90d2-43df-8da4-684738bee3d5", "841D3E6D-90D2-43DF-8DA4-684738BEE3D5", "841d3e6d-90d2-43df-8da4-684738bee3dz", "", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, ok := parseUUID(s)
		if want := uuidForm.MatchString(s); ok != want {
			t.Fatalf("%q: ok=%v, want %v", s, ok, want)
		}
		if !ok {
			return
		}
		b, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
		if err != nil || string(b) != string(u[:]) {
			t.Fatalf("%q: parsed %x, want %x (%v)", s, u, b, err)
		}
	})
}
