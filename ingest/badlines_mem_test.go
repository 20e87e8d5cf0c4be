package ingest

import (
	"context"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const heapBound = 96 << 20

// watchHeap samples the heap in use until the returned function is called,
// which returns the largest sample. Sampling may miss a short peak, never
// invent one: a failure is real.
func watchHeap() func() uint64 {
	runtime.GC()
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak.Load() {
				peak.Store(ms.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	return func() uint64 {
		close(stop)
		<-done
		return peak.Load()
	}
}

// TestBadLinesMemoryBounded: runs of blank or bad lines cost counters, not
// memory per line (issue: 50 MB of blank lines reached 4.7 GB RSS). The
// bytes allocated while decoding each input stay within a small multiple
// of the input, whatever the number of lines, and every bad line is still
// counted.
func TestBadLinesMemoryBounded(t *testing.T) {
	const size = 4 << 20
	tests := []struct {
		name     string
		line     string
		kind     ProblemKind
		problems int
	}{
		{"blank", "\n", 0, 0},
		{"x", "x\n", Malformed, size / 2},
		{"empty object", "{}\n", Unrecognised, size / 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := lines(ev("first")) + strings.Repeat(tt.line, size/len(tt.line))
			var reported int
			r := &Replay{Paths: []string{"-"}, Stdin: strings.NewReader(in), Workers: 1,
				OnProblem: func(p Problem) { reported += p.Count() }}
			peak := watchHeap()
			events := 0
			sum, err := r.Run(context.Background(), func(b Batch) error { events += len(b.Events); return nil })
			maxHeap := peak()
			if err != nil {
				t.Fatal(err)
			}
			if events != 1 {
				t.Errorf("events = %d, want 1", events)
			}
			if got := sum.Problems[tt.kind]; tt.problems > 0 && got != tt.problems {
				t.Errorf("summary counts %d %s problems, want %d", got, tt.kind, tt.problems)
			}
			if reported != sum.TotalProblems() {
				t.Errorf("OnProblem heard of %d problems, summary says %d", reported, sum.TotalProblems())
			}
			// Chunks in flight, the spool of stdin and per-line garbage
			// the GC has not collected yet: tens of MB at most. Per-line
			// events and problems held hundreds of MB per chunk.
			if maxHeap > heapBound {
				t.Errorf("heap reached %d MB reading %d MB of %q lines: memory grows with the bad lines", maxHeap>>20, len(in)>>20, tt.line)
			}
		})
	}
}
