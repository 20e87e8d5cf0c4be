package audit

import (
	"strconv"
	"strings"
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

// checkMicro compares parseMicroUTC with time.Parse on s three times: with
// no date remembered, with s's own date remembered, and with the date of
// the stamp before remembered (the loops above change one byte at a time).
func checkMicro(t *testing.T, s string) {
	t.Helper()
	ref, err := time.Parse(time.RFC3339Nano, s)
	want := err == nil && inRange(ref) && s[19] == '.' && s[26] == 'Z'
	check := func(memo string) {
		got, ok := parseMicroUTC(s)
		if ok != want || ok && got != ref.UTC() {
			t.Fatalf("parseMicroUTC(%q) %s = %v, %v; time.Parse = %v, %v", s, memo, got, ok, ref, err)
		}
	}
	check("after the stamp before")
	for i := range lastDays {
		lastDays[i].Store(nil)
	}
	check("with no dates remembered")
	check("with its own date remembered")
}

// TestShortCode holds code's fast path to strconv.ParseInt (what the
// status code's decoding did before it): a literal it takes must parse to
// the same int32, and every literal of up to nine digits is taken.
func TestShortCode(t *testing.T) {
	lits := []string{"0", "7", "200", "403", "999999999", "1000000000", "2147483647", "2147483648",
		"-0", "-1", "1.0", "1e2", "1E+2", "0.5", "-2147483648", "12345678901234567890"}
	for _, lit := range lits {
		got, ok := shortCode([]byte(lit))
		ref, err := strconv.ParseInt(lit, 10, 32)
		digits := len(lit) <= 9 && strings.Trim(lit, "0123456789") == ""
		if ok != digits || ok && (err != nil || int64(got) != ref) {
			t.Errorf("shortCode(%q) = %d, %v; strconv.ParseInt = %d, %v", lit, got, ok, ref, err)
		}
	}
}
