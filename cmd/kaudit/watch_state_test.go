package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kaudit/kaudit/ingest"
)

// TestWatchStateDirFailing: positions that cannot be saved (here a
// directory where the file goes, which defeats even root) are an error on
// stderr while watch runs, kaudit status says so, saving is retried, and
// watch exits non-zero.
func TestWatchStateDirFailing(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	log := filepath.Join(dir, "audit.log")
	if err := os.WriteFile(log, []byte(evLine("a-1", "alice")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w := startWatch(t, "-o", "jsonl", "--state-dir", state, log)
	w.waitLines(t, 1)
	blocker := filepath.Join(state, ingest.PositionsFile)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		os.Remove(blocker)
		if os.MkdirAll(filepath.Join(blocker, "x"), 0o700) == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("cannot put a directory in the way")
		}
	}
	f, err := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(evLine("a-2", "alice") + "\n")
	f.Close()
	w.waitLines(t, 2)
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(w.errOut.String(), "cannot save positions"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no error while positions cannot be saved; stderr: %q", w.errOut.String())
		}
	}
	var out, errOut syncBuffer
	if code := run(context.Background(), []string{"status", "--state-dir", state}, strings.NewReader(""), &out, &errOut); code == 0 || !strings.Contains(errOut.String(), "cannot save positions") {
		t.Errorf("status: exit %d, stderr %q; want an error saying positions cannot be saved", code, errOut.String())
	}
	if code := w.stop(t); code == 0 {
		t.Errorf("watch exited 0 although its positions could not be saved; stderr: %q", w.errOut.String())
	}
}

// TestWatchStateDirInUse: a second watch on the same state dir is refused
// with a message naming the first.
func TestWatchStateDirInUse(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	log := filepath.Join(dir, "audit.log")
	if err := os.WriteFile(log, []byte(evLine("a-1", "alice")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w := startWatch(t, "-o", "jsonl", "--state-dir", state, log)
	w.waitLines(t, 1)
	var out, errOut syncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code := run(ctx, []string{"watch", "-o", "jsonl", "--state-dir", state, log}, strings.NewReader(""), &out, &errOut)
	if code == 0 || !strings.Contains(errOut.String(), "is in use by pid "+itoa(os.Getpid())) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Errorf("second watch: exit %d, stderr %q; want refused, naming pid %d", code, errOut.String(), os.Getpid())
	}
	if code := w.stop(t); code != 0 {
		t.Errorf("first watch exit %d: %s", code, w.errOut.String())
	}
}
