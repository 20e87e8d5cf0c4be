package e2e

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestE2ESSHWatchRotate: watch follows a host over the real sshd; its ssh
// client is killed with -9 and the log rotated (renamed, a new file
// begun) before a new session may start: the new session reads the rest
// of the rotated file from where the last one stopped, then the new
// file, and every event is printed exactly once.
func TestE2ESSHWatchRotate(t *testing.T) {
	bin := kauditBin(t)
	binDir := sshHosts(t)
	// An ssh that waits while the gate file exists: the host unreachable.
	gateDir := t.TempDir()
	gate := filepath.Join(gateDir, "gate")
	writeFile(t, filepath.Join(gateDir, "ssh"), "#!/bin/sh\nwhile [ -e "+gate+" ]; do sleep 0.05; done\nexec "+binDir+"/ssh \"$@\"\n")
	os.Chmod(filepath.Join(gateDir, "ssh"), 0o755)
	logs := t.TempDir()
	logf := filepath.Join(logs, "cp1", "audit.log")
	next := 0
	write := func(n int) {
		for range n {
			next++
			appendTo(t, logf, sshEvent(next))
		}
	}
	write(10)
	cmd := exec.Command(bin, "watch", "-o", "jsonl", "--no-state", "ssh://cp1"+logf)
	cmd.Env = append(os.Environ(), "PATH="+gateDir+":"+binDir+":"+os.Getenv("PATH"))
	var mu sync.Mutex
	var stderr strings.Builder
	cmd.Stderr = writerFunc(func(p []byte) { mu.Lock(); stderr.Write(p); mu.Unlock() })
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	var got []string
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var e struct{ AuditID string }
			json.Unmarshal(sc.Bytes(), &e)
			mu.Lock()
			got = append(got, e.AuditID)
			mu.Unlock()
		}
	}()
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(got) }
	waitUntil(t, "the first 10 events", func() bool { return count() >= 10 })

	writeFile(t, gate, "")
	// The real ssh client (the wrapper execs it): a child of kaudit.
	if err := syscall.Kill(childOf(t, cmd.Process.Pid, "cp1"), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the kill reported", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return strings.Contains(stderr.String(), "signal: killed")
	})
	write(5) // into the file about to be rotated, unread
	if err := os.Rename(logf, filepath.Join(logs, "cp1", "audit-2026-11-25T10-00-15.000.log")); err != nil {
		t.Fatal(err)
	}
	write(5) // the new file
	os.Remove(gate)
	waitUntil(t, "all 20 events", func() bool { return count() >= 20 })
	write(5)
	waitUntil(t, "all 25 events", func() bool { return count() >= 25 })
	time.Sleep(500 * time.Millisecond) // a duplicate would come now
	mu.Lock()
	defer mu.Unlock()
	seen := map[string]int{}
	for _, id := range got {
		seen[id]++
	}
	for i := 1; i <= 25; i++ {
		if seen[evID(i)] != 1 {
			t.Errorf("event %d printed %d times", i, seen[evID(i)])
		}
	}
	if len(got) != 25 {
		t.Errorf("%d events printed, want 25; stderr:\n%s", len(got), stderr.String())
	}
	t.Logf("stderr:\n%s", stderr.String())
}
