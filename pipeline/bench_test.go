package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"gopkg.in/natefinch/lumberjack.v2"

	"github.com/kaudit/kaudit/gen"
	"github.com/kaudit/kaudit/ingest"
	"github.com/kaudit/kaudit/internal/testcpu"
)

// BenchmarkFollow measures the live path end to end: a writer appends
// generated audit events through lumberjack (rotating every 10 MB, gzip on,
// as kube-apiserver does) as fast as it can while the tail follows it into
// a store, with kaudit watch's default --max-memory (200k events stay far
// below it; it also sets the collector, see tuneGC: without it the live
// path took 2-3x the CPU, mostly GC). It reports events/s into the store
// (from the first write to the last event stored) and the lag: how long
// after the last write the last event was in the store. The retained
// variant keeps at most 70 000 events, as --max-events does: it drops
// chunks and closes their files.
func BenchmarkFollow(b *testing.B) {
	b.Run("unbounded", func(b *testing.B) { benchmarkFollow(b, 0, watchMaxBytes) })
	b.Run("max-events=70000", func(b *testing.B) { benchmarkFollow(b, 70000, watchMaxBytes) })
	// --max-memory 0: no bound, so the collector follows the live heap
	// (tuneGC, once per process: run it alone to measure that).
	b.Run("max-memory=0", func(b *testing.B) { benchmarkFollow(b, 0, 0) })
	b.Run("catch-up", benchmarkCatchUp)
}

// benchmarkCatchUp is the tail's side alone: the events are all in the
// file before the watch starts, so nothing else runs in the process (no
// writer, no gzip) and events/s is the most the live path stores on this
// machine, cpu-µs/event its own cost (read, decode, store). It keeps
// kaudit watch's default retention (--max-memory 1GiB), which also sets the
// collector (tuneGC, once per process: run it alone to measure that).
func benchmarkCatchUp(b *testing.B) {
	lines, _ := benchLines(200_000)
	var rate, cpu float64
	for b.Loop() {
		dir := b.TempDir()
		f, err := os.Create(filepath.Join(dir, "audit.log"))
		if err != nil {
			b.Fatal(err)
		}
		for _, l := range lines {
			f.Write(l)
		}
		f.Close()
		ctx, cancel := context.WithCancel(context.Background())
		start, cpu0 := time.Now(), testcpu.Time()
		live, err := Start(ctx, Config{Source: &ingest.Tail{Path: dir}, MaxBytes: watchMaxBytes})
		if err != nil {
			b.Fatal(err)
		}
		for live.Store.Len() < len(lines) {
			<-live.Changed
		}
		rate = float64(len(lines)) / time.Since(start).Seconds()
		cpu = float64((testcpu.Time() - cpu0).Microseconds()) / float64(len(lines))
		cancel()
		<-live.Done
	}
	b.ReportMetric(rate, "events/s")
	b.ReportMetric(cpu, "cpu-µs/event")
}

// checkOnce writes one more line after the n stored and waits for it: an
// event read twice (dropped as a duplicate by the store, or stored again
// once retention dropped the first copy) would have come before it.
func checkOnce(b *testing.B, live *Pipeline, lj *lumberjack.Logger, sentinel []byte, n int) {
	if _, err := lj.Write(sentinel); err != nil {
		b.Fatal(err)
	}
	deadline := time.After(60 * time.Second)
	for live.Store.Len() < n+1 {
		select {
		case <-live.Changed:
		case <-deadline:
			b.Fatalf("the line after the %d events never came (stored %d)", n, live.Store.Len())
		}
	}
	if st := live.Store.Stats(); live.Store.Len() != n+1 || st.Duplicates != 0 {
		b.Fatalf("read twice: %d stored for %d written, %d duplicates", live.Store.Len(), n+1, st.Duplicates)
	}
}

// removeWhenCompressed removes dir once lumberjack compressed every
// backup (it goes on after Close, and would write into a removed dir's
// remains).
func removeWhenCompressed(dir string) {
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if plain, _ := filepath.Glob(filepath.Join(dir, "audit-*.log")); len(plain) == 0 {
			break
		}
	}
	os.RemoveAll(dir)
}

// dirList names dir's files and their sizes (what a failed run left).
func dirList(dir string) []string {
	ents, _ := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		if fi, err := e.Info(); err == nil {
			out = append(out, fmt.Sprintf("%s %d", e.Name(), fi.Size()))
		}
	}
	return out
}

// watchMaxBytes is kaudit watch's default --max-memory.
const watchMaxBytes = 1 << 30

// benchLines generates n audit events, one a line, and their total size.
func benchLines(n int) (lines [][]byte, size int) {
	g := gen.New(gen.Config{Seed: 7})
	lines = make([][]byte, n)
	for i := range lines {
		lines[i] = g.Next(nil)
		size += len(lines[i])
	}
	return lines, size
}

func benchmarkFollow(b *testing.B, maxEvents int, maxBytes int64) {
	const n = 200_000
	all, _ := benchLines(n + 1)
	lines, sentinel := all[:n], all[n]
	bytes := 0
	for _, l := range lines {
		bytes += len(l)
	}
	var rate, lag, fds, cpu float64
	for b.Loop() {
		// Not b.TempDir: lumberjack may still be compressing a backup
		// after Close, and its cleanup would fail.
		dir, err := os.MkdirTemp("", "kaudit-bench")
		if err != nil {
			b.Fatal(err)
		}
		lj := &lumberjack.Logger{Filename: filepath.Join(dir, "audit.log"), MaxSize: 10, Compress: true}
		lj.Write(lines[0])
		ctx, cancel := context.WithCancel(context.Background())
		var problems []string
		var pmu sync.Mutex
		tail := &ingest.Tail{Path: dir, Poll: ingest.DefaultPoll, OnProblem: func(p ingest.Problem) {
			pmu.Lock()
			problems = append(problems, p.String())
			pmu.Unlock()
		}}
		live, err := Start(ctx, Config{Source: tail, MaxEvents: maxEvents, MaxBytes: maxBytes})
		if err != nil {
			b.Fatal(err)
		}
		for live.Store.Len() < 1 {
			<-live.Changed
		}
		start, cpu0 := time.Now(), testcpu.Time()
		for _, l := range lines[1:] {
			if _, err := lj.Write(l); err != nil {
				b.Fatal(err)
			}
		}
		wrote := time.Now()
		deadline := time.After(60 * time.Second)
		for live.Store.Len() < n {
			select {
			case <-live.Changed:
			case <-deadline:
				pmu.Lock()
				b.Logf("problems: %q", problems)
				pmu.Unlock()
				b.Logf("acked: %+v; files: %v", tail.Acked(), dirList(dir))
				b.Fatalf("stored %d of %d events (pipeline error: %v)", live.Store.Len(), n, live.Err())
			}
		}
		end := time.Now()
		cpu = float64((testcpu.Time() - cpu0).Microseconds()) / float64(n-1)
		rate = float64(n-1) / end.Sub(start).Seconds()
		lag = end.Sub(wrote).Seconds()
		fds = float64(tail.OpenFiles())
		checkOnce(b, live, lj, sentinel, n)
		cancel()
		<-live.Done
		lj.Close()
		removeWhenCompressed(dir)
	}
	b.ReportMetric(rate, "events/s")
	b.ReportMetric(lag*1000, "ms-lag")
	b.ReportMetric(fds, "open-fds")
	b.ReportMetric(cpu, "cpu-µs/event")
	b.ReportMetric(float64(bytes)/n, "B/event")
}
