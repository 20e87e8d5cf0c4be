package ingest

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"gopkg.in/natefinch/lumberjack.v2"
)

// TestTailLumberjackRotationUnderLoad writes as fast as lumberjack goes,
// rotating (with compression in the background) many times while the Tail
// lags behind by several files: every line must arrive exactly once.
func TestTailLumberjackRotationUnderLoad(t *testing.T) {
	dir := t.TempDir()
	lj := &lumberjack.Logger{Filename: filepath.Join(dir, "audit.log"), MaxSize: 1, Compress: true}
	defer lj.Close()
	t.Cleanup(func() { // let lumberjack finish compressing before TempDir's cleanup
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if plain, _ := filepath.Glob(filepath.Join(dir, "audit-*.log")); len(plain) == 0 {
				return
			}
		}
	})
	if _, err := lj.Write([]byte(ev("ld-first") + "\n")); err != nil {
		t.Fatal(err)
	}
	r := startTail(t, &Tail{Path: dir, Poll: DefaultPoll})
	r.waitN(1)
	want := []string{"ld-first"}
	for i := range 30000 { // ~700 bytes a line: ~20 rotations
		id := fmt.Sprintf("ld-%06d", i)
		want = append(want, id)
		if _, err := lj.Write([]byte(ev(id) + "\n")); err != nil {
			t.Fatal(err)
		}
	}
	checkExactlyOnce(t, waitAllSend(t, r, want, func(id string) { ljWrite(t, lj, []string{id}) }), want)
	if p := r.problemList(); len(p) != 0 {
		t.Errorf("problems: %v", p)
	}
}

// missingRuns logs the runs of ids of want that got lacks.
func missingRuns(t *testing.T, got, want []string) {
	seen := map[string]bool{}
	for _, id := range got {
		seen[id] = true
	}
	start := -1
	for i := 0; i <= len(want); i++ {
		if i < len(want) && !seen[want[i]] {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			t.Logf("missing %s..%s (%d)", want[start], want[i-1], i-start)
			start = -1
		}
	}
}

// TestTailRotatedWhileCurrentMissing: a rotation finds no current file
// (lumberjack between its rename and its create); while the backups are
// read, the next file is created, filled and rotated too. That backup is
// read before the file after it is followed.
func TestTailRotatedWhileCurrentMissing(t *testing.T) {
	dir := t.TempDir()
	cur := filepath.Join(dir, "audit.log")
	bak := func(s int) string { return filepath.Join(dir, fmt.Sprintf("audit-2026-01-01T00-00-%02d.000.log", s)) }
	appendLines(t, cur, idsN("a", 0, 5)...)
	var once sync.Once
	openTarget = func(stage, p string) (*os.File, error) {
		missing := false
		if stage != stageRotated {
			return os.Open(p)
		}
		once.Do(func() { // B rotated away, its successor not yet created
			missing = os.Rename(cur, bak(2)) == nil
		})
		if missing {
			return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
		}
		return os.Open(p)
	}
	t.Cleanup(func() { openTarget = defaultOpenTarget })
	var rotateC sync.Once
	r := startTailHook(t, &Tail{Path: dir, OnProblem: func(p Problem) { t.Log(p) }}, func(id string) {
		if id == "b-000004" { // reading B's backup: C comes and goes
			rotateC.Do(func() {
				appendLines(t, cur, idsN("c", 0, 5)...)
				if err := os.Rename(cur, bak(3)); err != nil {
					t.Error(err)
				}
				appendLines(t, cur, idsN("d", 0, 5)...)
			})
		}
	})
	r.waitN(5)
	if err := os.Rename(cur, bak(1)); err != nil {
		t.Fatal(err)
	}
	// B appears whole: a Tail may see it (and rotate it away) at once.
	appendLines(t, filepath.Join(dir, "b.tmp"), idsN("b", 0, 5)...)
	if err := os.Rename(filepath.Join(dir, "b.tmp"), cur); err != nil {
		t.Fatal(err)
	}
	want := append(append(append(idsN("a", 0, 5), idsN("b", 0, 5)...), idsN("c", 0, 5)...), idsN("d", 0, 5)...)
	checkExactlyOnce(t, waitAll(t, r, cur, want), want)
}

// startTailHook is startTail whose emit calls hook with each event's ID
// (on Run's goroutine) after recording it (and where its bytes are).
func startTailHook(t *testing.T, tl *Tail, hook func(id string)) *tailRun {
	t.Helper()
	tl.Poll = 20 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	r := &tailRun{t: t, tail: tl, cancel: cancel, done: make(chan error, 1)}
	go func() {
		r.done <- tl.Run(ctx, func(b Batch) error {
			for i, e := range b.Events {
				r.mu.Lock()
				r.ids = append(r.ids, e.AuditID)
				r.refs = append(r.refs, rawRef{b.Raw, b.Offsets[i], string(e.Raw)})
				r.mu.Unlock()
				hook(e.AuditID)
			}
			return nil
		})
	}()
	t.Cleanup(func() { r.stop() })
	return r
}
