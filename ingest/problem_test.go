package ingest

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"
)

func TestProblemString(t *testing.T) {
	for _, tt := range []struct {
		p    Problem
		want string
	}{
		{Problem{Path: "a.log", Line: 3, Kind: Malformed, Msg: "malformed JSON at byte 5: x"}, "a.log:3: malformed JSON at byte 5: x"},
		{Problem{Path: "d", Kind: NoAuditFiles, Msg: "no audit log files"}, "d: no audit log files"},
	} {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
	for k := range ProblemKind(NumProblemKinds) {
		if s := k.String(); s == "" || strings.HasPrefix(s, "problem ") {
			t.Errorf("kind %d has no name", k)
		}
	}
}

func TestReporter(t *testing.T) {
	var out strings.Builder
	r := NewReporter(&out, 2)
	for i := range 5 {
		r.Report(Problem{Path: "a.log", Line: int64(i + 1), Kind: Malformed, Msg: "bad"})
	}
	r.Report(Problem{Path: "a.log", Line: 9, Kind: TooLong, Msg: "long"})
	r.Report(Problem{Path: "b.log", Line: 1, Kind: Unrecognised, Msg: "odd"})
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	want := `kaudit: warning: a.log:1: bad
kaudit: warning: a.log:2: bad
kaudit: warning: a.log:9: long
kaudit: warning: b.log:1: odd
kaudit: warning: a.log: ... and 3 more malformed
kaudit: 7 problems in 2 files: 5 malformed, 1 too long, 1 unrecognised
`
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}
	if r.Total() != 7 || r.Counts()[Malformed] != 5 {
		t.Errorf("counts %v", r.Counts())
	}

	var quiet strings.Builder
	q := NewReporter(&quiet, 0)
	q.Close()
	if quiet.String() != "" || q.Summary() != "" {
		t.Errorf("no problems printed %q", quiet.String())
	}
	one := NewReporter(&quiet, 0)
	one.Report(Problem{Path: "x", Kind: Empty, Msg: "empty file"})
	if got := one.Summary(); got != "kaudit: 1 problem in 1 file: 1 empty" {
		t.Errorf("summary %q", got)
	}
}

// TestReporterConcurrent: one Reporter shared by goroutines (run with -race).
func TestReporterConcurrent(t *testing.T) {
	var out syncBuilder
	r := NewReporter(&out, 3)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				r.Report(Problem{Path: string(rune('a' + g)), Line: int64(i), Kind: ProblemKind(i % NumProblemKinds), Msg: "m"})
			}
		}()
	}
	wg.Wait()
	r.Close()
	if r.Total() != 800 || !strings.Contains(r.Summary(), "800 problems in 8 files") {
		t.Errorf("summary %q", r.Summary())
	}
}

type syncBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuilder) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// TestRunStops: emit's error and cancellation end the run.
func TestRunStops(t *testing.T) {
	var ls []string
	for _, id := range seq("s", 5000) {
		ls = append(ls, ev(id))
	}
	p := writeFile(t, t.TempDir(), "a.log", lines(ls...))

	boom := errors.New("store full")
	calls := 0
	_, err := (&Replay{Paths: []string{p}, chunk: 4096}).Run(context.Background(), func(Batch) error {
		calls++
		if calls == 3 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || calls != 3 {
		t.Errorf("emit error: err %v after %d calls", err, calls)
	}

	ctx, cancel := context.WithCancel(context.Background())
	calls = 0
	_, err = (&Replay{Paths: []string{p}, chunk: 4096}).Run(ctx, func(Batch) error {
		if calls++; calls == 2 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || calls != 2 {
		t.Errorf("cancel: err %v after %d calls", err, calls)
	}

	// A stdin that goes quiet: cancellation still returns.
	ctx, cancel = context.WithCancel(context.Background())
	release := make(chan struct{})
	defer close(release)
	stdin := blockAfter{iotest.OneByteReader(strings.NewReader(lines(ev("x")))), release}
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err = (&Replay{Paths: []string{"-"}, Stdin: stdin}).Run(ctx, func(Batch) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("blocked stdin: err %v", err)
	}
}

// blockAfter reads r, then blocks until release is closed, like a quiet pipe.
type blockAfter struct {
	r       io.Reader
	release chan struct{}
}

func (b blockAfter) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil {
		<-b.release
		return 0, io.EOF
	}
	return n, nil
}
