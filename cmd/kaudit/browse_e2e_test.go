package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBrowseE2E runs the real binary in a tmux pane (120×40) over the
// sample logs and drives it with keys: tabs, filter, drill-down, detail,
// quit. It needs tmux and runs only with KAUDIT_E2E=1 (.ci/run sets it).
func TestBrowseE2E(t *testing.T) {
	if os.Getenv("KAUDIT_E2E") != "1" {
		t.Skip("set KAUDIT_E2E=1 (needs tmux) to run the terminal end-to-end test")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("KAUDIT_E2E=1 but tmux is not installed")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "kaudit")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	sample, err := filepath.Abs("../../testdata/sample")
	if err != nil {
		t.Fatal(err)
	}
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
	e2e(t)
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("KAUDIT_E2E=1 but tmux is not installed")
	}
	bin := buildKaudit(t)
	sample, err := filepath.Abs("../../testdata/sample")
	if err != nil {
		t.Fatal(err)
	}
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
