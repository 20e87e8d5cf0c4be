package webhook

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kaudit/kaudit/ingest"
)

// Every EventList item that is not an event is named before the 200, and
// not written to the spool: the spool's reader takes every line it holds.
func TestWebhookBadItemsNamed(t *testing.T) {
	v1 := fixtureLines(t, "audit2rbac-demo-v1.jsonl", 2)
	sp, err := OpenSpoolFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	var mu sync.Mutex
	var probs []string
	w := &Receiver{Spool: sp, OnProblem: func(p ingest.Problem) { mu.Lock(); probs = append(probs, p.Msg); mu.Unlock() }}
	body := eventList(t, "v1", v1[0], `null`, `{"foo":1}`, `5`, `"x"`,
		`{"kind":"Pod","apiVersion":"v1","auditID":"z","stage":"ResponseComplete"}`, `[1]`, v1[1])
	rec := httptest.NewRecorder()
	w.ServeHTTP(rec, httptest.NewRequest("POST", "/", strings.NewReader(body)))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"accepted":2`) {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	mu.Lock()
	got := strings.Join(probs, "\n")
	mu.Unlock()
	for i := 1; i <= 6; i++ {
		if !strings.Contains(got, "items["+string(rune('0'+i))+"]") {
			t.Errorf("items[%d] not named:\n%s", i, got)
		}
	}
	if st := w.Stats(); st.RejectedItems != 6 || st.Events != 2 {
		t.Errorf("stats %+v", st)
	}
	var n, bad atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	tail := &ingest.Tail{Path: sp.Path(), Poll: 10 * time.Millisecond, OnProblem: func(ingest.Problem) { bad.Add(1) }}
	go func() {
		for i := 0; i < 300 && n.Load() < 2; i++ {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
	}()
	tail.Run(ctx, func(b ingest.Batch) error { n.Add(int64(len(b.Events))); return nil })
	if n.Load() != 2 || bad.Load() != 0 {
		t.Errorf("the spool's reader took %d events with %d problems, want 2 and 0", n.Load(), bad.Load())
	}
}
