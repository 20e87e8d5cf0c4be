package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestE2ESSHWatchRotate: watch follows a host over the real sshd; its ssh
// client is killed with -9 and the log rotated (renamed, a new file
// begun) before a new session may start: the new session reads the rest
// of the rotated file from where the last one stopped, then the new
// file, and every event is printed exactly once.
func TestE2ESSHWatchRotate(t *testing.T) {
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
	w := startWatch(t, gateDir+":"+binDir, auditID, "ssh://cp1"+logf)
	waitUntil(t, "the first 10 events", func() bool { return w.count() >= 10 })

	writeFile(t, gate, "")
	// The real ssh client (the wrapper execs it): a child of kaudit.
	if err := syscall.Kill(childOf(t, w.cmd.Process.Pid, "cp1"), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the kill reported", func() bool { return strings.Contains(w.stderrText(), "signal: killed") })
	write(5) // into the file about to be rotated, unread
	if err := os.Rename(logf, filepath.Join(logs, "cp1", "audit-2026-11-25T10-00-15.000.log")); err != nil {
		t.Fatal(err)
	}
	write(5) // the new file
	os.Remove(gate)
	waitUntil(t, "all 20 events", func() bool { return w.count() >= 20 })
	write(5)
	waitUntil(t, "all 25 events", func() bool { return w.count() >= 25 })
	write(1) // an event read twice comes before this one
	waitUntil(t, "event 26", func() bool { return w.printed(evIDs(26, 26)) })
	w.printedOnce(t, evIDs(1, 26))
}
