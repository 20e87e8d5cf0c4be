package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kaudit/kaudit/gen"
)

// Off a terminal, the interactive entry points refuse with a usage error
// (the headless replay modes are tested in replay_test.go).
func TestBrowseNeedsTerminal(t *testing.T) {
	for _, args := range [][]string{
		{"demo"},
		{"replay", "-o", "tui", fixtures + "audit2rbac-demo-v1.jsonl"},
	} {
		code, _, stderr := kaudit(t, "", args...)
		if code != exitUsage || !strings.Contains(stderr, "terminal") {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}
	if code, _, stderr := kaudit(t, "", "demo", "--rate", "0"); code != exitUsage {
		t.Errorf("--rate 0: exit %d, stderr %q", code, stderr)
	}
}

// The demo's simulated API server writes, at each tick, the events due by
// then (at most demoBurst), as whole lines in the generator's order, and
// stops with its context. The test drives the ticks, so the machine's load
// does not matter.
func TestDemoLogWriter(t *testing.T) {
	start := time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC)
	cfg := gen.Config{Seed: 1, Start: start, EventsPerSecond: 1000}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ticks := make(chan time.Time)
	done := make(chan error, 1)
	var out syncBuffer
	go func() { done <- writeDue(ctx, gen.New(cfg), &out, ticks) }()
	// tick delivers a tick at start+d, then one at start (when nothing is
	// due), whose receipt means the first one's events are written.
	tick := func(d time.Duration) {
		ticks <- start.Add(d)
		ticks <- start
	}
	ref := gen.New(cfg)
	var want []byte
	var wantTime time.Time // the last event's
	wrote := 0
	check := func(what string, due time.Time) (n int) {
		t.Helper()
		got := out.String()
		n = strings.Count(got, "\n") - wrote
		var prev time.Time
		for range n {
			prev = wantTime
			want = ref.Next(want)
			wantTime = ref.Time()
		}
		wrote += n
		if got != string(want) {
			t.Fatalf("%s: wrote %d bytes, not the generator's %d", what, len(got), len(want))
		}
		if n == 0 || !prev.Before(due) {
			t.Errorf("%s: %d events, the one before the last at %v: want only those due by %v", what, n, prev, due)
		}
		if n < demoBurst && wantTime.Before(due) {
			t.Errorf("%s: %d events, up to %v: want all due by %v", what, n, wantTime, due)
		}
		return n
	}
	tick(2 * time.Second)
	if n := check("2 s of 1000 events/s", start.Add(2*time.Second)); n < 1500 || n > 2500 {
		t.Errorf("2 s of 1000 events/s: %d events", n)
	}
	tick(time.Minute) // far behind: one burst now, the rest at the next ticks
	if n := check("a minute later", start.Add(time.Minute)); n != demoBurst {
		t.Errorf("a minute later: %d events, want a burst of %d", n, demoBurst)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// writeDemoLog ticks by itself, and a write error ends it.
func TestDemoLogWriterTicks(t *testing.T) {
	g := gen.New(gen.Config{Seed: 1, Start: time.Now().Add(-time.Second), EventsPerSecond: 1000})
	err := writeDemoLog(context.Background(), g, failWriter{})
	if err == nil || err.Error() != "disk full" || g.Count() == 0 {
		t.Errorf("writeDemoLog into a failing writer: %v after %d events", err, g.Count())
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }
