package pipeline

import (
	"bytes"
	"context"
	"testing"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/ingest"
)

// TestSourceName: events that come without a source get Config.SourceName;
// those a reader named keep theirs.
func TestSourceName(t *testing.T) {
	line := []byte(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a","stage":"ResponseComplete","verb":"get","stageTimestamp":"2026-11-25T10:00:00Z"}`)
	src := funcSource(func(ctx context.Context, emit func(ingest.Batch) error) error {
		evs, err := audit.Decode(line, nil)
		if err != nil {
			return err
		}
		named := evs[0]
		named.AuditID, named.Source = "b", "cp2"
		return emit(ingest.Batch{Events: []audit.Event{evs[0], named}, Offsets: []int64{0, 0}, Raw: bytes.NewReader(line)})
	})
	p, err := Run(context.Background(), Config{Source: src, SourceName: "cp1"})
	if err != nil {
		t.Fatal(err)
	}
	if a, b := p.Store.Entry(0).Source, p.Store.Entry(1).Source; a != "cp1" || b != "cp2" {
		t.Errorf("sources %q, %q; want cp1, cp2", a, b)
	}
}
