package audit

import (
	"testing"
	"time"
)

// TestParseMicroUTC holds the fixed-layout path to time.Parse: every byte
// value at every position of a few valid stamps (digits out of range, a
// byte just below '0' or above '9', separators swapped), and the dates
// around month and leap-year ends.
func TestParseMicroUTC(t *testing.T) {
	stamps := []string{"2026-01-15T08:59:59.995550Z", "2024-02-29T23:59:59.999999Z", "1678-01-01T00:00:00.000000Z",
		"2261-12-31T23:59:59.999999Z", "2023-02-28T00:00:00.000001Z", "2000-04-30T12:30:45.123456Z"}
	for _, stamp := range stamps {
		for i := range len(stamp) {
			for c := range 256 {
				s := []byte(stamp)
				s[i] = byte(c)
				checkMicro(t, string(s))
			}
		}
	}
	for _, s := range []string{"2023-02-29T00:00:00.000000Z", "2023-04-31T00:00:00.000000Z", "1677-12-31T23:59:59.999999Z",
		"2262-01-01T00:00:00.000000Z", "2026-00-01T00:00:00.000000Z", "2026-01-00T00:00:00.000000Z", "2026-01-15T24:00:00.000000Z"} {
		checkMicro(t, s)
	}
}

func checkMicro(t *testing.T, s string) {
	t.Helper()
	got, ok := parseMicroUTC(s)
	ref, err := time.Parse(time.RFC3339Nano, s)
	want := err == nil && inRange(ref) && s[19] == '.' && s[26] == 'Z'
	if ok != want || ok && got != ref.UTC() {
		t.Fatalf("parseMicroUTC(%q) = %v, %v; time.Parse = %v, %v", s, got, ok, ref, err)
	}
}
