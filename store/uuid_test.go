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

// parseUUIDBytes is parseUUID a digit at a time: what hexWord must agree
// with.
func parseUUIDBytes(s string) (u [16]byte, ok bool) {
	if !uuidForm.MatchString(s) {
		return u, false
	}
	b, _ := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	return [16]byte(b), true
}

// TestParseUUIDEveryByte puts every byte value at every position of a
// few UUIDs (all 16 digits at each place among them) and compares with
// the digit-at-a-time parse.
func TestParseUUIDEveryByte(t *testing.T) {
	for _, base := range []string{id1, "01234567-89ab-cdef-0123-456789abcdef", "fedcba98-7654-3210-fedc-ba9876543210", "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff"} {
		for i := range 36 {
			for c := range 256 {
				s := base[:i] + string([]byte{byte(c)}) + base[i+1:]
				u, ok := parseUUID(s)
				wu, wok := parseUUIDBytes(s)
				if ok != wok || ok && u != wu {
					t.Fatalf("%q: %x %v, want %x %v", s, u, ok, wu, wok)
				}
			}
		}
	}
}
