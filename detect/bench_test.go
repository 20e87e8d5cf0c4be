package detect

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/kaudit/kaudit/gen"
	"github.com/kaudit/kaudit/ingest"
	"github.com/kaudit/kaudit/store"
)

// benchEvents is the size of the generated log: 1 M events is about 1.2 GB,
// the "1 GiB benchmark log". KAUDIT_BENCH_EVENTS makes it smaller or larger.
func benchEvents() int {
	if n, err := strconv.Atoi(os.Getenv("KAUDIT_BENCH_EVENTS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

var (
	genLogOnce sync.Once
	genLogPath string
	genLogErr  error
)

// genLog writes n events of the generator's traffic (seed 1) to a file
// that lives as long as the test binary.
func genLog(tb testing.TB, n int) string {
	tb.Helper()
	genLogOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kaudit-detect-bench")
		if err != nil {
			genLogErr = err
			return
		}
		genLogPath = filepath.Join(dir, "audit.log")
		f, err := os.Create(genLogPath)
		if err != nil {
			genLogErr = err
			return
		}
		w := bufio.NewWriterSize(f, 1<<20)
		g := gen.New(gen.Config{Seed: 1})
		var line []byte
		for range n {
			line = g.Next(line[:0])
			w.Write(line)
		}
		if err := w.Flush(); err != nil {
			genLogErr = err
		}
		f.Close()
	})
	if genLogErr != nil {
		tb.Fatal(genLogErr)
	}
	return genLogPath
}

func replayInto(tb testing.TB, path string) *store.Store {
	st := store.New()
	r := &ingest.Replay{Paths: []string{path}}
	if _, err := r.Run(context.Background(), func(b ingest.Batch) error {
		st.Append(b.Events, b.Raw, b.Offsets)
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
	return st
}

// BenchmarkPack measures a plain replay of the generated log into a store,
// then the whole built-in pack over its requests, and reports the cost of
// replay + pack relative to the replay alone (x-replay; the target is ≤ 2).
//
//	go test -run X -bench Pack -benchtime 3x ./detect
func BenchmarkPack(b *testing.B) {
	path := genLog(b, benchEvents())
	set, err := Builtin()
	if err != nil {
		b.Fatal(err)
	}
	var replay, pack time.Duration
	hits := 0
	for b.Loop() {
		t0 := time.Now()
		st := replayInto(b, path)
		t1 := time.Now()
		eng, err := NewEngine(set, Options{})
		if err != nil {
			b.Fatal(err)
		}
		hs, err := eng.Eval(context.Background(), st, st.Requests())
		if err != nil {
			b.Fatal(err)
		}
		replay += t1.Sub(t0)
		pack += time.Since(t1)
		hits = len(hs)
	}
	b.ReportMetric(replay.Seconds()/float64(b.N), "replay-s/op")
	b.ReportMetric(pack.Seconds()/float64(b.N), "pack-s/op")
	b.ReportMetric(float64(replay+pack)/float64(replay), "x-replay")
	b.ReportMetric(float64(hits), "hits")
}

// TestMain removes the generated log when the tests are done.
func TestMain(m *testing.M) {
	code := m.Run()
	if genLogPath != "" {
		os.RemoveAll(filepath.Dir(genLogPath))
	}
	os.Exit(code)
}
