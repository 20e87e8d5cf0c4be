package ingest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/kaudit/kaudit/gen"
	"github.com/kaudit/kaudit/internal/testcpu"
)

// BenchmarkMerge compares replaying benchSize bytes as one input, read in
// input order (Window -1) and through its reorder window, with the same
// lines dealt round robin over N inputs (N API servers behind a load
// balancer: their times overlap, and consecutive events come from
// different inputs), merged by time. The ratio of their cpu-ns/B is the
// cost of merging.
//
// KAUDIT_MERGE_MB sets the size (default benchSize): with 8 inputs, 8
// reorder windows of 4096 events (about 5 MB each) are filled before the
// first event is handed on, which weighs on a 64 MB run.
func BenchmarkMerge(b *testing.B) {
	dir := b.TempDir()
	one := filepath.Join(dir, "one.log")
	size := benchSize
	if mb, err := strconv.Atoi(os.Getenv("KAUDIT_MERGE_MB")); err == nil && mb > 0 {
		size = mb << 20
	}
	genLog(b, one, size)
	b.Run("1-input/unmerged", func(b *testing.B) { benchMerge(b, []string{one}, -1) })
	b.Run("1-input/window", func(b *testing.B) { benchMerge(b, []string{one}, 0) })
	data, err := os.ReadFile(one)
	if err != nil {
		b.Fatal(err)
	}
	lines := bytes.SplitAfter(data, []byte{'\n'})
	for _, n := range []int{2, 3, 8} {
		parts := make([][]byte, n)
		for i, l := range lines {
			parts[i%n] = append(parts[i%n], l...)
		}
		var paths []string
		for i, part := range parts {
			p := filepath.Join(dir, fmt.Sprintf("n%d-cp%d", n, i), "audit.log")
			if err := mkdirFor(p); err != nil {
				b.Fatal(err)
			}
			if err := os.WriteFile(p, part, 0o644); err != nil {
				b.Fatal(err)
			}
			paths = append(paths, filepath.Dir(p))
		}
		b.Run(fmt.Sprintf("%d-inputs/merged", n), func(b *testing.B) { benchMerge(b, paths, 0) })
		for _, p := range paths {
			os.RemoveAll(p)
		}
	}
}

func benchMerge(b *testing.B, paths []string, window int) {
	var bytes, events int64
	cpu0 := testcpu.Time()
	for b.Loop() {
		// Recycle, as kaudit replay's pipeline sets it: emit keeps nothing.
		sum, err := (&Replay{Paths: paths, Window: window, Recycle: true}).Run(context.Background(), func(Batch) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
		bytes, events = sum.Bytes, sum.Events
	}
	cpu := testcpu.Time() - cpu0
	b.SetBytes(bytes)
	b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	// CPU (user+sys, all goroutines) per byte: what merging costs, less
	// noisy than MB/s on a shared machine.
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(bytes*int64(b.N)), "cpu-ns/B")
}

func mkdirFor(path string) error { return os.MkdirAll(filepath.Dir(path), 0o755) }

// BenchmarkMerger measures the merge alone (reorder windows and k-way
// merge, no reading or decoding): batches decoded beforehand from
// benchSize/8 bytes of generated log per run, split over N inputs, are
// handed to the merger as the readers would. ns/event against replay's
// ns/event is the merge's share of the work.
func BenchmarkMerger(b *testing.B) {
	dir := b.TempDir()
	for _, n := range []int{1, 2, 8} {
		var all [][]Batch
		events := 0
		for i := range n {
			p := filepath.Join(dir, fmt.Sprintf("m%d-%d.log", n, i))
			g := gen.New(gen.Config{Seed: uint64(100 + i)})
			writeLog(b, p, benchSize/8/n, func(dst []byte) []byte { return g.Next(dst) })
			var bs []Batch
			if _, err := (&Replay{Paths: []string{p}, Window: -1}).Run(context.Background(), func(bt Batch) error {
				bs = append(bs, bt)
				events += len(bt.Events)
				return nil
			}); err != nil {
				b.Fatal(err)
			}
			all = append(all, bs)
		}
		b.Run(fmt.Sprintf("%d-inputs", n), func(b *testing.B) {
			cpu0 := testcpu.Time()
			for b.Loop() {
				streams := make([]*stream, n)
				for i, bs := range all {
					s := &stream{name: fmt.Sprint(i), ch: make(chan Batch, 4)}
					streams[i] = s
					go func() {
						defer close(s.ch)
						for _, bt := range bs {
							s.ch <- bt
						}
					}()
				}
				m := merger{streams: streams, window: DefaultWindow, emit: func(Batch) error { return nil }, multi: n > 1}
				if err := m.run(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(events*b.N), "ns/event")
			b.ReportMetric(float64((testcpu.Time()-cpu0).Nanoseconds())/float64(events*b.N), "cpu-ns/event")
		})
	}
}
