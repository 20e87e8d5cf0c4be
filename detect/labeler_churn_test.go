package detect

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kaudit/kaudit/audit"
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
