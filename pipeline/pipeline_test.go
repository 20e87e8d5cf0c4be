package pipeline

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kaudit/kaudit/ingest"
	"github.com/kaudit/kaudit/internal/testwait"
	"github.com/kaudit/kaudit/query"
)

// fixture is the first n lines of a public fixture, and the fixture file.
func fixture(t *testing.T, n int) []string {
	t.Helper()
	data, err := os.ReadFile("../testdata/public/audit2rbac-demo-v1.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	ls := strings.Split(strings.TrimSpace(string(data)), "\n")
	return ls[:n]
}

func writeLog(t *testing.T, dir string, lines ...string) string {
	t.Helper()
	p := filepath.Join(dir, "audit.log")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// waitFor polls cond until it holds; the deadline is generous (a busy
// machine under -race), it is not a budget.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestReplayConsumers(t *testing.T) {
	lines := fixture(t, 5)
	path := writeLog(t, t.TempDir(), append(lines[:3:3], "{not json", lines[3], lines[4])...)
	for _, tc := range []struct {
		name       string
		each       bool
		filter     string
		wantStored int
		wantBatch  int // events seen by Each or OnStored
		wantPrint  int // lines printed
	}{
		{name: "store", wantStored: 5, wantBatch: 5},
		{name: "store and print all", filter: "", wantStored: 5, wantBatch: 5, wantPrint: 5},
		{name: "store and print some", filter: "code:200", wantStored: 5, wantBatch: 5, wantPrint: -1},
		{name: "each instead of a store", each: true, wantStored: 0, wantBatch: 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var problems []ingest.Problem
			var seen atomic.Int64
			var out bytes.Buffer
			sourceDone := false
			cfg := Config{
				Source:     Replay(&ingest.Replay{Paths: []string{path}, OnProblem: func(p ingest.Problem) { problems = append(problems, p) }}),
				SourceDone: func() { sourceDone = true },
			}
			count := func(b ingest.Batch) { seen.Add(int64(len(b.Events))) }
			if tc.each {
				cfg.Each = func(b ingest.Batch) error { count(b); return nil }
			} else {
				cfg.OnStored = count
			}
			if tc.wantPrint != 0 {
				flt, err := query.Compile(tc.filter)
				if err != nil {
					t.Fatal(err)
				}
				cfg.Print = &Printer{Out: &out, Errs: &out, Filter: flt}
			}
			p, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if p.Store.Len() != tc.wantStored || int(seen.Load()) != tc.wantBatch {
				t.Errorf("stored %d, seen %d; want %d, %d", p.Store.Len(), seen.Load(), tc.wantStored, tc.wantBatch)
			}
			if len(problems) != 1 || problems[0].Line != 4 {
				t.Errorf("problems %v, want one at line 4", problems)
			}
			if !sourceDone {
				t.Error("SourceDone was not called")
			}
			printed := strings.Split(strings.TrimSpace(out.String()), "\n")
			switch {
			case tc.wantPrint > 0 && (len(printed) != tc.wantPrint || printed[0] != lines[0]):
				t.Errorf("printed %d lines, want %d original lines:\n%s", len(printed), tc.wantPrint, out.String())
			case tc.wantPrint < 0 && (len(printed) == 0 || len(printed) >= 5 || !strings.Contains(printed[0], `"code":200`)):
				t.Errorf("the filter printed:\n%s", out.String())
			}
		})
	}
}

// TestReplayInterrupted: a replay stopped by its context is not an error
// of the pipeline (the caller knows it cancelled).
func TestReplayInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	path := writeLog(t, t.TempDir(), fixture(t, 3)...)
	if _, err := Run(ctx, Config{Source: Replay(&ingest.Replay{Paths: []string{path}})}); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// funcSource is a Source made of a function.
type funcSource func(ctx context.Context, emit func(ingest.Batch) error) error

func (f funcSource) Run(ctx context.Context, emit func(ingest.Batch) error) error {
	return f(ctx, emit)
}

// TestFrontStopsFirst: on cancellation the front stops before the source
// is cancelled, and either ending stops the other.
func TestFrontStopsFirst(t *testing.T) {
	errFront := errors.New("front failed")
	errSource := errors.New("source failed")
	for _, tc := range []struct {
		name      string
		cancel    bool  // the caller cancels
		frontErr  error // the front fails at once
		sourceErr error // the source fails at once
		want      error
	}{
		{name: "cancelled", cancel: true},
		{name: "front fails", frontErr: errFront, want: errFront},
		{name: "source fails", sourceErr: errSource, want: errSource},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var order []string
			note := func(s string) { mu.Lock(); order = append(order, s); mu.Unlock() }
			cfg := Config{
				Front: func(ctx context.Context) error {
					if tc.frontErr != nil {
						note("front stopped")
						return tc.frontErr
					}
					<-ctx.Done()
					note("front stopped")
					return nil
				},
				Source: funcSource(func(ctx context.Context, emit func(ingest.Batch) error) error {
					if tc.sourceErr != nil {
						note("source stopped")
						return tc.sourceErr
					}
					<-ctx.Done()
					note("source stopped")
					return ctx.Err()
				}),
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			p, err := Start(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if tc.cancel {
				cancel()
			}
			if err := p.Wait(); !errors.Is(err, tc.want) {
				t.Errorf("Err %v, want %v", err, tc.want)
			}
			want := "front stopped,source stopped"
			if tc.sourceErr != nil {
				want = "source stopped,front stopped"
			}
			if got := strings.Join(order, ","); got != want {
				t.Errorf("order %s, want %s", got, want)
			}
		})
	}
}

// TestChangedNeverBlocks: nobody listens, the writer goes on; one signal
// is pending afterwards.
func TestChangedNeverBlocks(t *testing.T) {
	src := funcSource(func(ctx context.Context, emit func(ingest.Batch) error) error {
		for range 1000 {
			if err := emit(ingest.Batch{}); err != nil {
				return err
			}
		}
		return nil
	})
	p, err := Run(context.Background(), Config{Source: src})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Changed:
	default:
		t.Fatal("no change signalled")
	}
}

// TestFollowResumes: a followed log's position is saved at stop, and a
// second pipeline over the same state dir starts after what the first
// one stored.
func TestFollowResumes(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	lines := fixture(t, 6)
	path := writeLog(t, dir, lines[:4]...)
	follow := func(want int) *Pipeline {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		p, err := Start(ctx, Config{Source: &ingest.Tail{Path: path, Poll: 10 * time.Millisecond}, StateDir: state, Flush: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the events", func() bool { return p.Store.Len() >= want })
		cancel()
		if err := p.Wait(); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if p := follow(4); p.Store.Len() != 4 {
		t.Fatalf("first run stored %d, want 4", p.Store.Len())
	}
	pos, err := ingest.LoadPositions(state)
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(path)
	fi, _ := os.Stat(path)
	if cp, ok := pos[abs]; !ok || cp.Offset != fi.Size() {
		t.Fatalf("saved position %+v, want offset %d", pos[abs], fi.Size())
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(lines[4] + "\n" + lines[5] + "\n")
	f.Close()
	if p := follow(2); p.Store.Len() != 2 {
		t.Fatalf("second run stored %d, want only the 2 new events", p.Store.Len())
	}
}

func TestMemoryLimit(t *testing.T) {
	for _, tc := range []struct{ maxBytes, want int64 }{
		{1 << 30, 2<<30 + 256<<20},
		{100 << 20, 200<<20 + 256<<20},
		{1 << 62, 1<<63 - 1},
	} {
		if got := memoryLimit(tc.maxBytes); got != tc.want {
			t.Errorf("memoryLimit(%d) = %d, want %d", tc.maxBytes, got, tc.want)
		}
	}
}

func TestLimitFor(t *testing.T) {
	for _, tc := range []struct{ live, held, want int64 }{
		{0, 0, minRoom},
		{100 << 20, 130 << 20, 130<<20 + minRoom},   // a small store: the least room above what is held
		{300 << 20, 360 << 20, 360<<20 + 75<<20},    // room for a quarter of the live heap above the overhead
		{2 << 30, 2<<30 + 300<<20, 2<<30 + 812<<20}, // a large store: a quarter of it
		{100 << 20, 90 << 20, 100<<20 + minRoom},    // never below the live heap, whatever the samples say
	} {
		if got := limitFor(tc.live, tc.held); got != tc.want {
			t.Errorf("limitFor(%d, %d) = %d, want %d", tc.live, tc.held, got, tc.want)
		}
	}
}

// TestAfterEachGC: the hook runs again after every collection.
func TestAfterEachGC(t *testing.T) {
	var runs atomic.Int32
	afterEachGC(func() { runs.Add(1) })
	for i := int32(1); i <= 3; i++ {
		testwait.Until(t, "the hook after a collection", func() bool {
			runtime.GC()
			return runs.Load() >= i
		})
	}
}
