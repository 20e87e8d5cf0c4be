// Package testwait lets tests wait for a condition instead of for a time
// budget. A budget that is ample on an idle laptop (300 ms, 10 s) expires
// on a busy CI machine under -race; the only limit worth having is the
// test binary's own -timeout, so waits give up just before it, with a
// message that says what they were waiting for.
package testwait

import (
	"testing"
	"time"
)

// deadliner is *testing.T (and not testing.B or F before Go knows one).
type deadliner interface {
	Deadline() (time.Time, bool)
}

// Deadline is when a wait in t gives up: shortly before the test binary's
// -timeout (a tenth of what is left, at most a minute, is kept to report
// the failure), or in ten minutes without a -timeout.
func Deadline(t testing.TB) time.Time {
	if d, ok := t.(deadliner); ok {
		if end, ok := d.Deadline(); ok {
			return end.Add(-min(time.Minute, time.Until(end)/10))
		}
	}
	return time.Now().Add(10 * time.Minute)
}

// Until polls cond every few milliseconds until it holds, and fails t
// (Fatal) if Deadline passes first.
func Until(t testing.TB, what string, cond func() bool) {
	t.Helper()
	end := Deadline(t)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
