package vlogs

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kaudit/kaudit/ingest"
)

// TestTail: records arrive in two bursts; each burst is handed on as soon
// as it is read (no waiting for more), with the live-tail arguments set,
// and cancelling stops the tail.
func TestTail(t *testing.T) {
	lines := bytes.SplitAfter(mustRead(t, "testdata/query.jsonl"), []byte("\n"))
	second := make(chan struct{})
	var args chan string = make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		args <- r.URL.Path + " " + r.FormValue("offset") + " " + r.FormValue("start_offset") + " " + r.FormValue("query")
		for _, l := range lines[:3] {
			w.Write(l)
		}
		w.(http.Flusher).Flush()
		<-second
		w.Write(lines[3])
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer srv.Close()
	defer close(second)
	src, err := New(srv.URL, Auth{}, NewPushdown(nil, []string{"fx2"}, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	batches := make(chan int, 10)
	done := make(chan error, 1)
	go func() {
		done <- src.Follow(time.Hour).Run(ctx, func(b ingest.Batch) error { batches <- len(b.Events); return nil })
	}()
	got := <-args
	if !strings.HasPrefix(got, "/select/logsql/tail "+tailDelay+" 1h0m0s (("+Stream+` k8s.cluster.name:in("fx2")) or (`+DatadogStream+` kube_cluster_name:in("fx2"))) | fields _msg`) {
		t.Errorf("request: %s", got)
	}
	n := 0
	for n < 3 {
		n += <-batches // the first burst, without waiting for the fourth record
	}
	second <- struct{}{}
	if n += <-batches; n != 4 {
		t.Fatalf("%d events", n)
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("Run after cancel: %v", err)
	}
}

// TestTailReconnect: the server drops the tail twice (the answer ends,
// then a connection is refused with 503): the tail says it was lost,
// reconnects with backoff, says it is back, and asks again from shortly
// before the newest event it handed on.
func TestTailReconnect(t *testing.T) {
	defer func(b, o time.Duration, s []time.Duration) { tailBackoff, tailOverlap, tailSweeps = b, o, s }(tailBackoff, tailOverlap, tailSweeps)
	tailBackoff, tailOverlap, tailSweeps = 10*time.Millisecond, 2*time.Second, []time.Duration{20 * time.Millisecond, 20 * time.Millisecond}
	lines := bytes.SplitAfter(mustRead(t, "testdata/query.jsonl"), []byte("\n"))
	offsets := make(chan string, 10)
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls := calls.Add(1)
		offsets <- r.FormValue("start_offset")
		switch calls {
		case 1: // two records, then the answer ends
			w.Write(lines[0])
			w.Write(lines[1])
		case 2:
			http.Error(w, "restarting", http.StatusServiceUnavailable)
		default: // the second record again, and a third
			w.Write(lines[1])
			w.Write(lines[2])
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}
	}))
	defer srv.Close()
	src, _ := New(srv.URL, Auth{}, NewPushdown(nil, nil, nil), nil)
	tail := src.Follow(3 * 365 * 24 * time.Hour) // the records are from January 2026
	var mu sync.Mutex
	var gaps []string
	tail.OnGap = func(m string) { mu.Lock(); gaps = append(gaps, m); mu.Unlock() }
	ctx, cancel := context.WithCancel(context.Background())
	var idMu sync.Mutex
	var ids []string
	done := make(chan error, 1)
	go func() {
		done <- tail.Run(ctx, func(b ingest.Batch) error {
			idMu.Lock()
			defer idMu.Unlock()
			for _, ev := range b.Events {
				ids = append(ids, ev.AuditID)
			}
			return nil
		})
	}()
	// 1, refused, reconnected, two sweeps (the last stays open): the
	// second record is read again after the reconnect, the third too.
	seen := func() (n int, again bool) {
		idMu.Lock()
		defer idMu.Unlock()
		for _, id := range ids[min(2, len(ids)):] {
			again = again || len(ids) >= 2 && id == ids[1]
		}
		return len(ids), again
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		n, again := seen()
		if calls.Load() >= 5 && n >= 4 && again {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d tail requests, events %v", calls.Load(), ids)
		}
	}
	time.Sleep(100 * time.Millisecond)
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("Run: %v", err)
	}
	if n := calls.Load(); n != 5 {
		t.Errorf("%d tail requests, want 5 (1, refused, reconnected, 2 sweeps)", n)
	}
	first, _ := time.ParseDuration(<-offsets)
	<-offsets // the refused one
	// From the newest record's stageTimestamp, less tailOverlap.
	newest, _ := time.Parse(time.RFC3339Nano, "2026-01-15T09:00:00.05Z")
	resumed, err := time.ParseDuration(<-offsets)
	if err != nil || resumed >= first || resumed < time.Since(newest) {
		t.Errorf("start_offset %v, then %v (%v)", first, resumed, err)
	}
	for range 2 { // the sweeps read again from the same point
		if off, _ := time.ParseDuration(<-offsets); off < resumed || off > resumed+time.Second {
			t.Errorf("sweep from %v, the reconnect from %v", off, resumed)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(gaps) != 2 || !strings.Contains(gaps[0], "lost: the server ended the live tail") || !strings.Contains(gaps[1], "back after") ||
		!strings.Contains(gaps[1], "reading again from 2026-01-15T08:59:5") {
		t.Errorf("gap reports %q", gaps)
	}
}

// TestTailFirstConnection: a server that refuses the first connection
// is an error (a wrong address or credentials), not a retry loop.
func TestTailFirstConnection(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusUnauthorized)
	}))
	defer srv.Close()
	src, _ := New(srv.URL, Auth{}, NewPushdown(nil, nil, nil), nil)
	err := src.Follow(0).Run(context.Background(), func(ingest.Batch) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("Run: %v", err)
	}
}
