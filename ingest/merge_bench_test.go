package ingest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/kaudit/kaudit/gen"
)

// BenchmarkMerge compares replaying benchSize bytes as one input, read in
// input order (Window -1) and through its reorder window, with the same
// total split over N inputs whose times overlap (N API servers' logs),
// merged by time. The ratio of their MB/s is the cost of merging.
func BenchmarkMerge(b *testing.B) {
	dir := b.TempDir()
	one := filepath.Join(dir, "one.log")
	genLog(b, one, benchSize)
	b.Run("1-input/unmerged", func(b *testing.B) { benchMerge(b, []string{one}, -1) })
	b.Run("1-input/window", func(b *testing.B) { benchMerge(b, []string{one}, 0) })
	for _, n := range []int{3, 8} {
		var paths []string
		for i := range n {
			p := filepath.Join(dir, fmt.Sprintf("n%d-cp%d", n, i), "audit.log")
			g := gen.New(gen.Config{Seed: uint64(100 + i)})
			if err := mkdirFor(p); err != nil {
				b.Fatal(err)
			}
			writeLog(b, p, benchSize/n, func(dst []byte) []byte { return g.Next(dst) })
			paths = append(paths, filepath.Dir(p))
		}
		b.Run(fmt.Sprintf("%d-inputs/merged", n), func(b *testing.B) { benchMerge(b, paths, 0) })
	}
}

func benchMerge(b *testing.B, paths []string, window int) {
	var bytes, events int64
	for b.Loop() {
		sum, err := (&Replay{Paths: paths, Window: window}).Run(context.Background(), func(Batch) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
		bytes, events = sum.Bytes, sum.Events
	}
	b.SetBytes(bytes)
	b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func mkdirFor(path string) error { return os.MkdirAll(filepath.Dir(path), 0o755) }
