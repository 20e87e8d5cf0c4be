package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kaudit/kaudit/internal/testwait"
)

// TestE2ESecondWatcherRefused: while a headless watch holds a state dir,
// a second watch on it, typed in a terminal, is refused with a message
// naming the holder, and so is the terminal UI when it forwards (the UI
// alone keeps no position and needs no lock).
func TestE2ESecondWatcherRefused(t *testing.T) {
	bin := kauditBin(t)
	dir, state := t.TempDir(), t.TempDir()
	log := filepath.Join(dir, "audit.log")
	if err := os.WriteFile(log, []byte(evLine(evID(1), evUser(1))+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out lockedBuffer
	first := exec.Command(bin, "watch", "-o", "jsonl", "--state-dir", state, log)
	first.Stdout = &out
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { first.Process.Kill(); first.Wait() }()
	testwait.Until(t, "the first watcher to print", func() bool { return strings.Contains(out.String(), evID(1)) })

	cmd := fmt.Sprintf("env TERM=xterm-256color %s watch -o jsonl --state-dir %s %s; echo KAUDIT-EXITED $?; sleep 30", bin, state, log)
	p := newPane(t, 120, 30, cmd)
	s := p.waitFor("the refusal", contains("KAUDIT-EXITED"))
	if !strings.Contains(s, "is in use by pid "+fmt.Sprint(first.Process.Pid)) || strings.Contains(s, "KAUDIT-EXITED 0") {
		t.Errorf("second watcher not refused with the holder's pid:\n%s", s)
	}
	ui := fmt.Sprintf("env TERM=xterm-256color %s watch --forward otlp+http://127.0.0.1:1 --state-dir %s %s; echo KAUDIT-UI-EXITED $?; sleep 30", bin, state, log)
	p.tmux("clear-history", "-t", p.name)
	p.tmux("respawn-pane", "-k", "-t", p.name, ui)
	s = p.waitFor("the UI's refusal", contains("KAUDIT-UI-EXITED"))
	if !strings.Contains(s, "is in use by pid") || strings.Contains(s, "KAUDIT-UI-EXITED 0") {
		t.Errorf("the forwarding UI was not refused:\n%s", s)
	}
}
