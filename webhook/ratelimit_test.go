package webhook

import (
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kaudit/kaudit/ingest"
)

// TestBearerScheme: the scheme is case-insensitive (RFC 6750), blanks
// around the token do not matter, anything else is 401.
func TestBearerScheme(t *testing.T) {
	a := &Auth{}
	if err := a.SetToken("s3cret"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		header string
		status int
	}{
		{"Bearer s3cret", 0},
		{"bearer s3cret", 0},
		{"BEARER s3cret", 0},
		{"bEaReR   s3cret  ", 0},
		{"Bearer wrong", 401},
		{"Basic s3cret", 401},
		{"Bearers3cret", 401},
		{"Bearer", 401},
		{"Bearer ", 401},
		{"s3cret", 401},
		{"", 401},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("POST", "/", nil)
		r.Header.Set("Authorization", tt.header)
		if _, status, why := a.check(r); status != tt.status {
			t.Errorf("%q: status %d (%s), want %d", tt.header, status, why, tt.status)
		}
	}
}

// TestRejectionLinesRateLimited: a flood of 401s and 429s gives one line
// per reason per second; the next line says how many were not shown, and
// FlushSuppressed reports those no later line mentioned. Every request is
// still counted.
func TestRejectionLinesRateLimited(t *testing.T) {
	a := &Auth{}
	a.SetToken("s3cret")
	var mu sync.Mutex
	var lines []string
	w := &Receiver{Auth: a, MaxBody: 1 << 20, MaxBuffered: 3 << 20,
		OnProblem: func(p ingest.Problem) { mu.Lock(); lines = append(lines, p.Msg); mu.Unlock() }}
	startWebhook(t, w, &collector{})
	w.init()
	now := time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC)
	w.lines.now = func() time.Time { return now }
	w.buffered.take(3 << 20) // every authenticated body: 429 buffers_full
	post := func(token string) int {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/", strings.NewReader(`{"kind":"EventList","items":[]}`))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		w.ServeHTTP(rec, req)
		return rec.Code
	}
	got := func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), lines...) }
	for i := range 100 {
		if c := post(""); c != 401 {
			t.Fatalf("request %d: %d", i, c)
		}
		if c := post("s3cret"); c != 429 {
			t.Fatalf("request %d: %d", i, c)
		}
	}
	if l := got(); len(l) != 2 || !strings.HasPrefix(l[0], "401 ") || !strings.HasPrefix(l[1], "429 ") {
		t.Fatalf("lines after 100+100 refusals at once: %q", l)
	}
	if st := w.Stats(); st.Rejected[ReasonUnauthenticated] != 100 || st.Rejected[ReasonBuffersFull] != 100 {
		t.Errorf("stats %+v", st)
	}
	now = now.Add(time.Second)
	post("wrong")
	if l := got(); len(l) != 3 || !strings.Contains(l[2], "wrong bearer token (and 99 more like it before") {
		t.Fatalf("the next second's line: %q", l)
	}
	for range 10 {
		post("")
	}
	w.FlushSuppressed() // the 429s' last line is a second old; the 401s' is new
	if l := got(); len(l) != 4 || !strings.Contains(l[3], "99 more requests refused (buffers_full) in the last 1s") {
		t.Fatalf("flushed: %q", l[3:])
	}
	now = now.Add(time.Second)
	w.FlushSuppressed()
	if l := got(); len(l) != 5 || !strings.Contains(l[4], "10 more requests refused (unauthenticated)") {
		t.Fatalf("flushed: %q", l[3:])
	}
	w.FlushSuppressed()
	if len(got()) != 5 {
		t.Errorf("flushed twice: %q", got()[5:])
	}
}
