package webhook

import (
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kaudit/kaudit/ingest"
)

// A flood of unauthenticated requests is counted in full but logged a few
// times per window; the next window's first line says how many were left out.
func TestRejectionLinesRateLimited(t *testing.T) {
	a := &Auth{}
	if err := a.SetToken("tok"); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var lines []string
	w := &Receiver{Auth: a, OnProblem: func(p ingest.Problem) { mu.Lock(); lines = append(lines, p.Msg); mu.Unlock() }}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w.logs.now = func() time.Time { return now }
	post := func() int {
		rec := httptest.NewRecorder()
		w.ServeHTTP(rec, httptest.NewRequest("POST", "/", strings.NewReader("{}")))
		return rec.Code
	}
	for range 100 {
		if code := post(); code != 401 {
			t.Fatalf("status %d", code)
		}
	}
	if len(lines) != logBurst || w.Stats().Rejected[ReasonUnauthenticated] != 100 {
		t.Fatalf("%d lines, %d counted; want %d and 100", len(lines), w.Stats().Rejected[ReasonUnauthenticated], logBurst)
	}
	now = now.Add(logWindow)
	post()
	if last := lines[len(lines)-1]; !strings.Contains(last, "(and 95 more like it not logged)") {
		t.Errorf("next window: %q", last)
	}
}

// The Bearer scheme is case-insensitive (RFC 6750, RFC 7235).
func TestBearerSchemeCaseInsensitive(t *testing.T) {
	a := &Auth{}
	if err := a.SetToken("tok"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		header string
		want   int
	}{
		{"Bearer tok", 0}, {"bearer tok", 0}, {"BEARER tok", 0}, {"BeArEr tok", 0},
		{"Basic tok", 401}, {"Bearertok", 401}, {"bearer wrong", 401}, {"", 401},
	} {
		r := httptest.NewRequest("POST", "/", nil)
		r.Header.Set("Authorization", tc.header)
		if _, status, why := a.check(r); status != tc.want {
			t.Errorf("%q: status %d (%s), want %d", tc.header, status, why, tc.want)
		}
	}
}
