package vlogs

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kaudit/kaudit/ingest"
)

// BenchmarkRun: read-back throughput of one page of recorded records
// (decode, spool, batches), over loopback HTTP.
func BenchmarkRun(b *testing.B) {
	rec := mustReadB(b, "testdata/query.jsonl")
	const copies = 200
	body := bytes.Repeat(rec, copies)
	n := bytes.Count(body, []byte("\n"))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.FormValue("query"), "| stats ") {
			fmt.Fprintf(w, `{"t0":"2026-01-15T09:00:00Z","t1":"2026-01-15T09:00:01Z","n":"%d"}`+"\n", n)
			return
		}
		w.Write(body)
	}))
	defer srv.Close()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		src, _ := New(srv.URL, Auth{}, NewPushdown(nil, nil, nil), nil)
		src.PageEvents = n
		got := 0
		if err := src.Run(context.Background(), func(bt ingest.Batch) error { got += len(bt.Events); return nil }); err != nil || got != n {
			b.Fatal(err, got)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
}

func mustReadB(b *testing.B, path string) []byte {
	b.Helper()
	return mustRead(b, path)
}
