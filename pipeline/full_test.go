package pipeline

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/kaudit/kaudit/ingest"
	"github.com/kaudit/kaudit/store"
)

// TestStoreFullSaidOnce: a store without retention whose IDs ran out
// (store.IDSpace, lowered) refuses the events past them, and the pipeline
// says so once on Errs (the UI says it in its header) rather than let the IDs wrap.
func TestStoreFullSaidOnce(t *testing.T) {
	lines := fixture(t, 12)
	path := writeLog(t, t.TempDir(), lines...)
	var warn bytes.Buffer
	st := store.New(store.IDSpace(5))
	r := &ingest.Replay{Paths: []string{path}}
	p, err := Run(context.Background(), Config{Source: Replay(r), Store: st, Errs: &warn})
	if err != nil {
		t.Fatal(err)
	}
	if p.Store.Len() != 5 || p.Store.RebaseStats().Refused != len(lines)-5 {
		t.Fatalf("stored %d, refused %d; want 5 and %d", p.Store.Len(), p.Store.RebaseStats().Refused, len(lines)-5)
	}
	if n := strings.Count(warn.String(), "store is full"); n != 1 {
		t.Fatalf("said %d times: %q", n, warn.String())
	}
}
