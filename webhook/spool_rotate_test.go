package webhook

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kaudit/kaudit/ingest"
	"github.com/kaudit/kaudit/store"
)

// TestWebhookSpoolRotates: in memory mode the receiver starts a new spool
// once one holds memorySpoolSize bytes, so a store with retention
// releases the old spools with the events it drops, instead of one spool
// holding every event the receiver was ever sent.
func TestWebhookSpoolRotates(t *testing.T) {
	defer func(n int64) { memorySpoolSize = n }(memorySpoolSize)
	memorySpoolSize = 4 << 10
	const requests, perRequest = 40, 25
	st := store.New(store.ChunkEvents(64))
	var raws []io.ReaderAt
	w := &Receiver{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(ctx, func(b ingest.Batch) error {
			if len(raws) == 0 || raws[len(raws)-1] != b.Raw {
				raws = append(raws, b.Raw)
			}
			st.Append(b.Events, b.Raw, b.Offsets)
			st.Retain(128, 0)
			return nil
		})
	}()
	for r := range requests {
		items := make([]string, perRequest)
		for i := range items {
			items[i] = fmt.Sprintf(`{"auditID":"%04d-%04d","stage":"ResponseComplete","verb":"get","user":{"username":"u%d"}}`, r, i, i)
		}
		rec := httptest.NewRecorder()
		w.ServeHTTP(rec, httptest.NewRequest("POST", "/", strings.NewReader(eventList(t, "v1", items...))))
		if rec.Code != 200 {
			t.Fatal(rec.Code, rec.Body)
		}
	}
	cancel()
	<-done
	if len(raws) < 4 {
		t.Fatalf("%d spools for %d requests of about %d bytes each: no rotation", len(raws), requests, perRequest*80)
	}
	// The oldest spools were released with their events; the kept events
	// still read back from theirs.
	if _, err := raws[0].ReadAt(make([]byte, 1), 0); err == nil {
		t.Error("the first spool still reads after retention dropped all its events")
	}
	last := store.ID(st.Len() - 1)
	b, err := st.Raw(last, nil)
	if want := fmt.Sprintf(`"auditID":"%04d-%04d"`, requests-1, perRequest-1); err != nil || !strings.Contains(string(b), want) {
		t.Fatalf("newest event reads %q, %v; want it to hold %s", b, err, want)
	}
}
