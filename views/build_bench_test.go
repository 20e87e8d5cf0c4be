package views_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/gen"
	"github.com/kaudit/kaudit/ingest"
	"github.com/kaudit/kaudit/internal/testcpu"
	"github.com/kaudit/kaudit/pipeline"
	"github.com/kaudit/kaudit/store"
	"github.com/kaudit/kaudit/views"
)

// benchStore is built once: 300 k generated events, or with
// KAUDIT_BENCH_FILE set, that audit log read as a headless replay reads
// it (the 1 GiB benchmark log: 901 k events).
var benchStore = sync.OnceValue(func() *store.Store {
	st := store.New(store.LazyPostings())
	if path := os.Getenv("KAUDIT_BENCH_FILE"); path != "" {
		cfg := pipeline.Config{Store: st, Source: pipeline.Replay(&ingest.Replay{Paths: []string{path}, Window: -1})}
		if _, err := pipeline.Run(context.Background(), cfg); err != nil {
			panic(fmt.Sprintf("loading %s: %v", path, err))
		}
		return st
	}
	g := gen.New(gen.Config{Seed: 1})
	var buf []byte
	var evs []audit.Event
	var offs []int64
	for range 300_000 {
		start := len(buf)
		buf = g.Next(buf)
		k := len(evs)
		var err error
		if evs, err = audit.Decode(bytes.TrimRight(buf[start:], "\n"), evs); err != nil {
			panic(err)
		}
		for range evs[k:] {
			offs = append(offs, int64(start))
		}
	}
	st.Append(evs, bytes.NewReader(buf), offs)
	return st
})

// BenchmarkBuild is a headless replay's last step, the view over every
// request, on one goroutine ("parts=1") and split between the cores
// ("parts=0"); denials and latency are ranked views, the rest grouped.
func BenchmarkBuild(b *testing.B) {
	st := benchStore()
	req := st.Requests()
	for _, v := range []views.View{views.ViewUsers, views.ViewResources, views.ViewDenials, views.ViewLatency} {
		for _, parts := range []int{1, 0} {
			b.Run(fmt.Sprintf("%s/parts=%d", v, parts), func(b *testing.B) {
				cpu := testcpu.Time()
				for b.Loop() {
					a, err := views.BuildAggregate(st, req, v, 0, parts)
					if err != nil {
						b.Fatal(err)
					}
					if t := a.Table(); len(t.Rows) == 0 {
						b.Fatal("no rows")
					}
				}
				b.ReportMetric(float64((testcpu.Time()-cpu).Microseconds())/1000/float64(b.N), "cpu-ms/op")
			})
		}
	}
}
