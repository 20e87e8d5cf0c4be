package e2e

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
// that is being written and rotated; the header follows the count. The UI
// keeps no position (a headless agent's stays put): after quitting and
// writing more, a restart loads the last hour again, across backups.
func TestE2EWatchTUI(t *testing.T) {
	bin := kauditBin(t)
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

	if files, _ := filepath.Glob(filepath.Join(state, "*")); len(files) > 0 {
		t.Errorf("the interactive UI wrote to the state dir: %v", files)
	}
	// Down: 5 more events. The restart shows the history, all 45.
	writeEvents(t, lj, 40, 45)
	p.tmux("resize-window", "-t", p.name, "-x", "80", "-y", "24")
	p.tmux("respawn-pane", "-k", "-t", p.name, cmd)
	p.waitFor("the restarted UI with its history", func(s string) bool { return strings.Contains(s, "LIVE") && events(s) == 45 })
	p.keys("q")
	p.waitFor("exit", func(s string) bool { return strings.Contains(s, "KAUDIT-EXITED 0") })
}

// TestBrowseE2E runs the real binary in a tmux pane (120×40) over the
// sample logs and drives it with keys: tabs, filter, drill-down, detail,
// quit. It needs tmux.
func TestBrowseE2E(t *testing.T) {
	bin := kauditBin(t)
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("KAUDIT_E2E=1 but tmux is not installed")
	}
	dir := t.TempDir()
	sample := repoPath(t, "testdata/sample")
	session := fmt.Sprintf("kaudit-e2e-%d", os.Getpid())
	tmux := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("tmux", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	// A private server socket: no interference with the user's tmux.
	sock := filepath.Join(dir, "tmux.sock")
	tmux("-S", sock, "-f", "/dev/null", "new-session", "-d", "-s", session, "-x", "120", "-y", "40",
		"env TERM=xterm-256color NO_COLOR=1 "+bin+" replay "+sample+"; echo KAUDIT-EXITED $?; sleep 30")
	defer exec.Command("tmux", "-S", sock, "kill-server").Run()

	screen := func() string { return tmux("-S", sock, "capture-pane", "-p", "-t", session) }
	waitFor := func(what string, ok func(string) bool) string {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			s := screen()
			if ok(s) {
				return s
			}
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; screen:\n%s", what, s)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	contains := func(sub string) func(string) bool { return func(s string) bool { return strings.Contains(s, sub) } }
	keys := func(k ...string) { tmux(append([]string{"-S", sock, "send-keys", "-t", session}, k...)...) }

	waitFor("the loaded sample", func(s string) bool {
		return strings.Contains(s, "4200 events") && !strings.Contains(s, "loading")
	})
	keys("2")
	waitFor("the Users tab", contains("[2 Users]"))
	waitFor("its table", contains("REQUESTS"))
	keys("3", "tab")
	waitFor("tab to Resources", contains("[4 Resources]"))
	keys("/", "verb:get", "Enter")
	waitFor("the filter applied", contains("filter: verb:get"))
	keys("1", "g")
	waitFor("the Events tab", contains("[1 Events]"))
	keys("Enter")
	s := waitFor("the detail page", contains(`"auditID"`))
	if !strings.Contains(s, `"verb": "get"`) {
		t.Errorf("detail of a filtered event is not a get:\n%s", s)
	}
	keys("Escape")
	waitFor("back to the table", contains("LATENCY"))
	keys("?")
	waitFor("the full help", contains("shift+tab"))
	keys("x", "q")
	waitFor("exit", contains("KAUDIT-EXITED 0"))

	// The demo: live events arrive and the screen follows them.
	// Respawn in the same session: killing the last session ends the
	// server, and a new one on the same socket can race its exit.
	tmux("-S", sock, "resize-window", "-t", session, "-x", "80", "-y", "24")
	tmux("-S", sock, "respawn-pane", "-k", "-t", session,
		"env TERM=xterm-256color "+bin+" demo --rate 2000; echo KAUDIT-EXITED $?; sleep 30")
	waitFor("live demo", contains("LIVE"))
	first := waitFor("events", contains("events/"))
	keys("7")
	waitFor("denials", contains("SUBJECT"))
	time.Sleep(400 * time.Millisecond)
	if screen() == first {
		t.Error("the demo screen did not change")
	}
	keys("q")
	waitFor("demo exit", contains("KAUDIT-EXITED 0"))
}

// TestBrowseSuspendAndPanicE2E runs the binary from an interactive shell
// in a tmux pane, with job control: ctrl+z gives the shell prompt back
// with the terminal in cooked mode (stty shows icanon and echo), fg brings
// the UI back and it answers keys; then a panic, in Update and in a
// background command (the hidden test-only KAUDIT_TEST_PANIC trigger),
// ends the program with the terminal restored and the panic printed on
// the normal screen.
func TestBrowseSuspendAndPanicE2E(t *testing.T) {
	bin := kauditBin(t)
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("KAUDIT_E2E=1 but tmux is not installed")
	}
	sample := repoPath(t, "testdata/sample")
	dir := t.TempDir()
	sock := filepath.Join(dir, "tmux.sock")
	session := fmt.Sprintf("kaudit-e2e-suspend-%d", os.Getpid())
	tmux := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("tmux", append([]string{"-S", sock}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	tmux("-f", "/dev/null", "new-session", "-d", "-s", session, "-x", "120", "-y", "40",
		"env PS1='E2E$ ' TERM=xterm-256color NO_COLOR=1 bash --norc --noprofile -i")
	t.Cleanup(func() { exec.Command("tmux", "-S", sock, "kill-server").Run() })

	// screen is the visible pane; history adds the scrollback (a panic's
	// stack scrolls its first lines away).
	screen := func() string { return tmux("capture-pane", "-p", "-t", session) }
	history := func() string { return tmux("capture-pane", "-p", "-S", "-500", "-t", session) }
	waitFor := func(what string, get func() string, ok func(string) bool) (string, time.Duration) {
		t.Helper()
		start := time.Now()
		for {
			s := get()
			if ok(s) {
				return s, time.Since(start)
			}
			if time.Since(start) > 15*time.Second {
				t.Fatalf("timed out waiting for %s; screen:\n%s", what, s)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	has := func(subs ...string) func(string) bool {
		return func(s string) bool {
			for _, sub := range subs {
				if !strings.Contains(s, sub) {
					return false
				}
			}
			return true
		}
	}
	keys := func(k ...string) { tmux(append([]string{"send-keys", "-t", session}, k...)...) }
	// prompt: the last non-empty line is the shell's prompt.
	prompt := func(s string) bool {
		lines := strings.Split(strings.TrimRight(s, "\n "), "\n")
		return strings.HasPrefix(lines[len(lines)-1], "E2E$")
	}
	run := func(cmd string) { keys("clear; "+cmd, "Enter") }
	// cooked checks that stty reports a terminal in canonical mode with
	// echo: what a shell needs after kaudit let go of it.
	cooked := func(where string) {
		t.Helper()
		// $((…)) so that the marker is in the output, not the command.
		run("stty -a | tr ' ;' '\\n\\n' | grep -E -x -e '-?icanon' -e '-?echo' | tr '\\n' ' '; echo STTY-$((6*7))")
		s, _ := waitFor("stty", screen, has("STTY-42"))
		if !strings.Contains(s, "icanon echo STTY-42") {
			t.Errorf("%s: terminal not restored, stty says:\n%s", where, s)
		}
	}
	waitFor("the shell", screen, prompt)

	run(bin + " replay " + sample)
	_, took := waitFor("the loaded sample", screen, func(s string) bool { return has("4200 events", "[1 Events]")(s) && !strings.Contains(s, "loading") })
	t.Logf("UI up with 4200 events after %v", took.Round(time.Millisecond))
	keys("C-z")
	s, took := waitFor("the shell prompt after ctrl+z", screen, func(s string) bool { return has("Stopped")(s) && prompt(s) })
	if strings.Contains(s, "[1 Events]") {
		t.Errorf("the UI is still on the screen after ctrl+z:\n%s", s)
	}
	t.Logf("ctrl+z: prompt back after %v", took.Round(time.Millisecond))
	cooked("after ctrl+z")
	keys("clear", "Enter")
	waitFor("a clear screen", screen, func(s string) bool { return prompt(s) && !strings.Contains(s, "STTY-42") })
	keys("fg", "Enter")
	_, took = waitFor("the UI after fg", screen, has("[1 Events]", "4200 events", "LATENCY"))
	t.Logf("fg: UI back after %v", took.Round(time.Millisecond))
	keys("2")
	waitFor("keys after fg", screen, has("[2 Users]", "REQUESTS"))
	keys("q")
	waitFor("the prompt after q", screen, prompt)
	keys("echo EXIT=$?", "Enter") // not run: clear would set $?
	waitFor("exit status 0", screen, has("EXIT=0"))
	cooked("after q")

	for _, c := range []struct{ mode, text string }{
		{"update", "KAUDIT_TEST_PANIC: test-only panic in Update"},
		{"cmd", "KAUDIT_TEST_PANIC: test-only panic in a command"},
	} {
		run("KAUDIT_TEST_PANIC=" + c.mode + " " + bin + " replay " + sample)
		waitFor("the UI ("+c.mode+")", screen, has("[1 Events]", "4200 events"))
		keys("!")
		h, took := waitFor("the panic printed ("+c.mode+")", history, has("Caught panic", c.text, "Restoring terminal"))
		waitFor("the prompt after the panic", screen, prompt)
		if s := screen(); strings.Contains(s, "[1 Events]") {
			t.Errorf("%s: the UI is still on the screen after the panic:\n%s", c.mode, s)
		}
		if c.mode == "cmd" && !strings.Contains(h, "in a background command") {
			t.Errorf("cmd: the panic's own stack is not printed:\n%s", h)
		}
		t.Logf("panic in %s: printed and prompt back after %v", c.mode, took.Round(time.Millisecond))
		keys("echo EXIT=$?", "Enter")
		waitFor("exit status 1", screen, has("EXIT=1"))
		cooked("after a panic in " + c.mode)
	}
}
