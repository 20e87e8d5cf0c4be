package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kaudit/kaudit/gen"
	"github.com/kaudit/kaudit/store"
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

// The demo writer appends paced events through the batch path; each
// event's bytes read back from the spool are that event.
func TestDemoWriter(t *testing.T) {
	f := newFeed("demo")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	// Start in the past: the first tick catches up on 2000 events at once.
	g := gen.New(gen.Config{Seed: 1, Start: time.Now().Add(-2 * time.Second), EventsPerSecond: 1000})
	go func() {
		defer close(done)
		runDemo(ctx, g, f)
	}()
	select {
	case <-f.sig:
	case <-time.After(5 * time.Second):
		t.Fatal("no batch within 5s")
	}
	cancel()
	<-done
	n := f.st.Len()
	if n < 1000 {
		t.Fatalf("stored %d events, want the ~2000 already due", n)
	}
	if p := f.progress(); p.Events != int64(n) || p.Bytes == 0 {
		t.Errorf("progress %+v, store has %d", p, n)
	}
	for _, id := range []store.ID{0, store.ID(n / 2), store.ID(n - 1)} {
		raw, err := f.st.Raw(id, nil)
		if err != nil {
			t.Fatal(err)
		}
		var ev struct {
			AuditID string `json:"auditID"`
		}
		if err := json.Unmarshal(raw, &ev); err != nil || ev.AuditID != f.st.Entry(id).AuditID {
			t.Errorf("event %d: raw %q (%v) is not the stored event %s", id, raw, err, f.st.Entry(id).AuditID)
		}
	}
}
