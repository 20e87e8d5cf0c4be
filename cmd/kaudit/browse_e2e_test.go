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
