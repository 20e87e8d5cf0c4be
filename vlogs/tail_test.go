package vlogs

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
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
