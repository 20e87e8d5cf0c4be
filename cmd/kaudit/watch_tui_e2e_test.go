package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/natefinch/lumberjack.v2"
)

// pane is a tmux session on a private server running one command.
type pane struct {
	t          *testing.T
	sock, name string
}

func newPane(t *testing.T, w, h int, command string) *pane {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("KAUDIT_E2E=1 but tmux is not installed")
	}
	p := &pane{t: t, sock: filepath.Join(t.TempDir(), "tmux.sock"), name: fmt.Sprintf("kaudit-%d", os.Getpid())}
	p.tmux("-f", "/dev/null", "new-session", "-d", "-s", p.name, "-x", strconv.Itoa(w), "-y", strconv.Itoa(h), command)
	t.Cleanup(func() { exec.Command("tmux", "-S", p.sock, "kill-server").Run() })
	return p
}

func (p *pane) tmux(args ...string) string {
	p.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", p.sock}, args...)...).CombinedOutput()
	if err != nil {
		p.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (p *pane) screen() string   { return p.tmux("capture-pane", "-p", "-t", p.name) }
func (p *pane) keys(k ...string) { p.tmux(append([]string{"send-keys", "-t", p.name}, k...)...) }

// waitFor polls the screen until ok holds, and returns it.
func (p *pane) waitFor(what string, ok func(string) bool) string {
	p.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		s := p.screen()
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("timed out waiting for %s; screen:\n%s", what, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var eventsShown = regexp.MustCompile(`(\d+) events/(\d+) req`)

// events is the event count the header shows, -1 if none.
func events(screen string) int {
	m := eventsShown.FindStringSubmatch(screen)
	if m == nil {
		return -1
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// TestE2EWatchTUI: kaudit watch on a terminal opens the live UI over a log
// that is being written and rotated; the header follows the count; after
// quitting and writing more, a restart resumes from the saved position.
func TestE2EWatchTUI(t *testing.T) {
	e2e(t)
	bin := buildKaudit(t)
	dir, state := t.TempDir(), t.TempDir()
	lj := &lumberjack.Logger{Filename: filepath.Join(dir, "audit.log"), MaxSize: 100}
	defer lj.Close()
	writeEvents(t, lj, 0, 10)
	cmd := fmt.Sprintf("env TERM=xterm-256color NO_COLOR=1 %s watch --state-dir %s %s; echo KAUDIT-EXITED $?; sleep 30", bin, state, dir)
	p := newPane(t, 120, 40, cmd)
	p.waitFor("the live UI with the current file", func(s string) bool { return strings.Contains(s, "LIVE") && events(s) == 10 })
	writeEvents(t, lj, 10, 25)
	time.Sleep(2 * time.Millisecond)
	lj.Rotate()
	writeEvents(t, lj, 25, 40)
	p.waitFor("events written and rotated while watching", func(s string) bool { return events(s) == 40 })
	p.keys("2")
	users := p.waitFor("the Users tab", func(s string) bool { return strings.Contains(s, "alice") && strings.Contains(s, "bob") })
	if !strings.Contains(users, "20") {
		t.Errorf("Users tab without alice's and bob's 20 requests each:\n%s", users)
	}
	p.keys("q")
	p.waitFor("exit", func(s string) bool { return strings.Contains(s, "KAUDIT-EXITED 0") })

	// Down: 5 more events. The restart reads only what it had not.
	writeEvents(t, lj, 40, 45)
	p.tmux("resize-window", "-t", p.name, "-x", "80", "-y", "24")
	p.tmux("respawn-pane", "-k", "-t", p.name, cmd)
	p.waitFor("the resumed UI", func(s string) bool { return strings.Contains(s, "LIVE") && events(s) == 5 })
	p.keys("q")
	p.waitFor("exit", func(s string) bool { return strings.Contains(s, "KAUDIT-EXITED 0") })
}
