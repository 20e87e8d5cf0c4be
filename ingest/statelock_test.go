package ingest

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestHelperHoldStateDir is not a test: run by TestStateDirLock as another
// process, it opens the positions in KAUDIT_HOLD_DIR, says "locked" and
// waits for its stdin to close.
func TestHelperHoldStateDir(t *testing.T) {
	dir := os.Getenv("KAUDIT_HOLD_DIR")
	if dir == "" {
		t.Skip("helper process only")
	}
	p, err := OpenPositions(dir)
	if err != nil {
		os.Stdout.WriteString("error: " + err.Error() + "\n")
		os.Exit(1)
	}
	p.Set(Checkpoint{Source: "/other/audit.log", Path: "/other/audit.log", Offset: 300, Line: 3})
	if err := p.Flush(); err != nil {
		os.Exit(1)
	}
	os.Stdout.WriteString("locked\n")
	bufio.NewReader(os.Stdin).ReadString('\n')
	os.Exit(0)
}

// TestStateDirLock: a second process on the same state dir is refused with
// a message naming the first; once the first is gone, the dir is free.
func TestStateDirLock(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperHoldStateDir$")
	cmd.Env = append(os.Environ(), "KAUDIT_HOLD_DIR="+dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if line != "locked\n" {
		t.Fatalf("helper: %q", line)
	}
	_, err = OpenPositions(dir)
	var busy *StateDirBusyError
	if !errors.As(err, &busy) {
		t.Fatalf("second OpenPositions: %v, want a StateDirBusyError", err)
	}
	msg := err.Error()
	if busy.PID != cmd.Process.Pid || !strings.Contains(msg, "in use by pid "+strconv.Itoa(cmd.Process.Pid)+" (ingest.test ") ||
		strings.Contains(msg, `\x0a`) || !strings.Contains(msg, dir) {
		t.Errorf("message %q does not name the dir and pid %d", msg, cmd.Process.Pid)
	}
	stdin.Close()
	cmd.Wait()
	p, err := OpenPositions(dir)
	if err != nil {
		t.Fatalf("after the holder exited: %v", err)
	}
	defer p.Close()
	if _, ok := p.Get("/other/audit.log"); !ok {
		t.Error("the other process's checkpoint is missing")
	}
}

// TestPositionsMerge: a flush replaces only the entries this process set;
// what another writer put in the file meanwhile stays (it used to be
// overwritten by the copy loaded at open).
func TestPositionsMerge(t *testing.T) {
	dir := t.TempDir()
	p, err := OpenPositions(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.Set(Checkpoint{Source: "/a", Path: "/a/audit.log", Offset: 10})
	if err := p.Flush(); err != nil {
		t.Fatal(err)
	}
	// Another writer (one without the lock: an older kaudit, or an
	// operator's tool) adds its entry and moves ours.
	m, _ := LoadPositions(dir)
	m["/b"] = Checkpoint{Source: "/b", Path: "/b/audit.log", Offset: 300}
	if err := SavePositions(dir, m); err != nil {
		t.Fatal(err)
	}
	p.Set(Checkpoint{Source: "/a", Path: "/a/audit.log", Offset: 20})
	if err := p.Flush(); err != nil {
		t.Fatal(err)
	}
	got, err := LoadPositions(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got["/a"].Offset != 20 || got["/b"].Offset != 300 {
		t.Errorf("after the merge: /a at %d (want 20), /b at %d (want 300)", got["/a"].Offset, got["/b"].Offset)
	}
}

// TestPositionsFlushFailure: a state dir that cannot be written is a
// recorded, retried failure, not a silent one; the next flush that can
// write saves what was pending.
func TestPositionsFlushFailure(t *testing.T) {
	dir := t.TempDir()
	p, err := OpenPositions(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	// A directory where the file goes: the rename fails, even for root.
	blocker := filepath.Join(dir, PositionsFile)
	if err := os.MkdirAll(filepath.Join(blocker, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	p.Set(Checkpoint{Source: "/a", Path: "/a/audit.log", Offset: 10})
	if err := p.Flush(); err == nil {
		t.Fatal("Flush over a directory succeeded")
	}
	h := p.Health()
	if h.Failures != 1 || !h.Failing || h.LastError == "" || h.LastFail.IsZero() {
		t.Errorf("after a failed flush: %+v", h)
	}
	info, err := ReadStateDir(dir)
	if err != nil || !info.Held || info.PID != os.Getpid() || !info.Failing || info.Failures != 1 || info.LastError == "" {
		t.Errorf("the lock file says %+v, %v; want held by us, failing once", info, err)
	}
	if err := os.RemoveAll(blocker); err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	if err := p.Flush(); err != nil {
		t.Fatalf("retry: %v", err)
	}
	h = p.Health()
	if h.Failures != 1 || h.Failing || h.LastSaved.Before(before) {
		t.Errorf("after the retry: %+v", h)
	}
	if info, _ := ReadStateDir(dir); info.Failing {
		t.Errorf("the lock file still says failing: %+v", info)
	}
	if m, _ := LoadPositions(dir); m["/a"].Offset != 10 {
		t.Errorf("the retry did not save the pending checkpoint: %v", m)
	}
}
