package vlogs

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/kaudit/kaudit/ingest"
	"github.com/kaudit/kaudit/store"
)

// TestReaderSpoolRotates: a reader starts a new spool once one holds
// spoolSize bytes, so a live tail's store with retention releases the old
// spools with the events it drops; the batches' positions still grow.
func TestReaderSpoolRotates(t *testing.T) {
	defer func(n int64) { spoolSize = n }(spoolSize)
	spoolSize = 4 << 10
	st := store.New(store.ChunkEvents(64))
	var raws []io.ReaderAt
	var last int64
	r := &reader{raw: ingest.NewSpool(), emit: func(b ingest.Batch) error {
		if len(raws) == 0 || raws[len(raws)-1] != b.Raw {
			raws = append(raws, b.Raw)
		}
		if b.Pos.Offset <= last {
			t.Errorf("position %d after %d", b.Pos.Offset, last)
		}
		last = b.Pos.Offset
		st.Append(b.Events, b.Raw, b.Offsets)
		st.Retain(128, 0)
		return nil
	}}
	const n = 1000
	for i := range n {
		msg := fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"%06d","stage":"ResponseComplete","verb":"get","user":{"username":"u%d"}}`, i, i)
		if err := r.add([]byte(msg), "cluster-a"); err != nil {
			t.Fatal(err)
		}
		if i%20 == 19 {
			if err := r.flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(raws) < 4 {
		t.Fatalf("%d spools for %d events: no rotation", len(raws), n)
	}
	if _, err := raws[0].ReadAt(make([]byte, 1), 0); err == nil {
		t.Error("the first spool still reads after retention dropped all its events")
	}
	b, err := st.Raw(store.ID(st.Len()-1), nil)
	if err != nil || !strings.Contains(string(b), fmt.Sprintf(`"auditID":"%06d"`, n-1)) {
		t.Fatalf("newest event reads %q, %v", b, err)
	}
}
