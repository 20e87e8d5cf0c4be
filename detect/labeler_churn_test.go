package detect

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/ingest"
)

// A Labeler that runs for days sees an endless stream of new pod names and
// user agents: its store keeps LabelWindow events, and its dictionaries
// stay about that size too (retention compacts them), instead of holding
// every name ever seen.
func TestLabelerMemoryBoundedUnderChurn(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	lab := e.Labeler()
	const batch, batches = 500, 300
	raw := []byte("{}")
	offs := make([]int64, batch)
	t0 := time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC)
	for b := range batches {
		evs := make([]audit.Event, batch)
		for k := range evs {
			i := b*batch + k
			evs[k] = audit.Event{
				AuditID: fmt.Sprintf("%08x-0000-4000-8000-%012x", i>>16, i),
				Stage:   audit.StageResponseComplete, Level: audit.LevelMetadata, Verb: "get",
				User:      audit.UserInfo{Name: "system:serviceaccount:ci:runner"},
				UserAgent: fmt.Sprintf("runner/%d", i),
				Object:    audit.ObjectRef{Resource: "pods", Namespace: "ci", Name: fmt.Sprintf("job-%d-x7k2p", i), APIVersion: "v1"},
				Code:      200,
				Received:  t0.Add(time.Duration(i) * time.Millisecond), StageTime: t0.Add(time.Duration(i)*time.Millisecond + time.Millisecond),
				Raw: raw,
			}
		}
		if _, err := lab.Label(context.Background(), evs, bytes.NewReader(raw), offs); err != nil {
			t.Fatal(err)
		}
	}
	st := lab.st.Stats()
	// Two columns get a new string per event; each dictionary compacts
	// once it doubled what was live (about the window, plus a chunk).
	if bound := 2 * 4 * (LabelWindow + 1024); st.Strings > bound {
		t.Fatalf("after %d events the labeler's store holds %d strings (keeps %d events); want at most %d", batch*batches, st.Strings, st.Events, bound)
	}
}

// A Labeler starts a new store before its IDs run out: it labels on as
// before, and its store's length stays below the restart point.
func TestLabelerRestarts(t *testing.T) {
	defer func(n int) { restartAfter = n }(restartAfter)
	restartAfter = 500
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	newEngine := func() *Engine {
		e, err := NewEngine(set, Options{})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	b := handmadeBatch(t)
	restarting, plain := newEngine().Labeler(), newEngine().Labeler()
	restarts, labelled := 0, 0
	for round := range 40 {
		// The fixture again under new auditIDs each round: new requests.
		evs := slices.Clone(b.Events)
		for i := range evs {
			if evs[i].AuditID != "" {
				evs[i].AuditID = fmt.Sprintf("%s-%d", evs[i].AuditID, round)
			}
		}
		before := restarting.st
		got, err := restarting.Label(context.Background(), evs, b.Raw, b.Offsets)
		if err != nil {
			t.Fatal(err)
		}
		if restarting.st != before {
			restarts++
		}
		want, err := plain.Label(context.Background(), evs, b.Raw, b.Offsets)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d: labels after %d restarts differ from a labeler that never restarted", round, restarts)
		}
		for _, l := range got {
			labelled += len(l)
		}
		if n := restarting.st.Len(); n >= restartAfter+len(evs) {
			t.Fatalf("round %d: store length %d, restart point %d", round, n, restartAfter)
		}
	}
	if restarts == 0 || labelled == 0 {
		t.Fatalf("%d restarts, %d labels: the test checks nothing", restarts, labelled)
	}
}

// handmadeBatch is the handmade fixture as one batch.
func handmadeBatch(t *testing.T) ingest.Batch {
	t.Helper()
	var b ingest.Batch
	r := &ingest.Replay{Paths: []string{"testdata/handmade/events.jsonl"}}
	if _, err := r.Run(context.Background(), func(x ingest.Batch) error {
		if b.Raw != nil {
			t.Fatal("the fixture came in more than one batch")
		}
		b = x
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return b
}
