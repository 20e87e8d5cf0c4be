package e2e

import (
	"encoding/json"
	"testing"

	"github.com/kaudit/kaudit/forward"
	"github.com/kaudit/kaudit/internal/testotlp"
)

// sinkStats is the sink's counters as kaudit status -o json shows them.
func sinkStats(t *testing.T, state, sink string) forward.Stats {
	t.Helper()
	code, out, errOut := kaudit(t, "status", "--state-dir", state, "-o", "json")
	if code != exitOK {
		t.Fatalf("status exit %d: %s", code, errOut)
	}
	var rows []struct {
		Sink    string         `json:"sink"`
		Forward *forward.Stats `json:"forward"`
	}
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Sink == sink && r.Forward != nil {
			return *r.Forward
		}
	}
	t.Fatalf("no counters for %s in %s", sink, out)
	return forward.Stats{}
}

func newOTLPFake(t *testing.T) *testotlp.Fake { return testotlp.New(t) }
