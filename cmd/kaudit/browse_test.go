package main

import (
	"context"
	"encoding/json"
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

// The demo's simulated API server writes the events that are due, as
// whole JSON lines, and stops with its context.
func TestDemoLogWriter(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out syncBuffer
	// Start in the past: the first tick catches up on 2000 events at once.
	g := gen.New(gen.Config{Seed: 1, Start: time.Now().Add(-2 * time.Second), EventsPerSecond: 1000})
	go func() { done <- writeDemoLog(ctx, g, &out) }()
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(out.String(), "\n") < 2000 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) < 2000 || len(lines) > 4000 {
		t.Fatalf("wrote %d lines; want the ~2000 due, and not many more", len(lines))
	}
	ids := map[string]bool{}
	for _, l := range lines {
		var ev struct {
			AuditID string `json:"auditID"`
			Stage   string `json:"stage"`
		}
		if err := json.Unmarshal([]byte(l), &ev); err != nil || ev.AuditID == "" {
			t.Fatalf("not an audit event: %q (%v)", l, err)
		}
		ids[ev.AuditID+ev.Stage] = true
	}
	if len(ids) != len(lines) {
		t.Errorf("%d lines, %d distinct (auditID, stage)", len(lines), len(ids))
	}
}
