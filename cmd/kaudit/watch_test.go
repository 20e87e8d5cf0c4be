package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/natefinch/lumberjack.v2"

	"github.com/kaudit/kaudit/internal/testwait"
)

// syncBuffer is a bytes.Buffer safe to read while watch writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func init() { watchPoll = 20 * time.Millisecond }

// patience is how long a test waits for a condition before it gives up: a
// guard against a hang, not a budget (a busy machine under -race is slow).
const patience = 2 * time.Minute

// watchRun is kaudit watch running in the background.
type watchRun struct {
	cancel      context.CancelFunc
	code        chan int
	out, errOut *syncBuffer
}

func startWatch(t *testing.T, args ...string) *watchRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &watchRun{cancel: cancel, code: make(chan int, 1), out: &syncBuffer{}, errOut: &syncBuffer{}}
	go func() { w.code <- run(ctx, append([]string{"watch"}, args...), strings.NewReader(""), w.out, w.errOut) }()
	t.Cleanup(cancel)
	return w
}

// stop interrupts watch (as SIGINT does) and returns its exit code.
func (w *watchRun) stop(t *testing.T) int {
	t.Helper()
	w.cancel()
	select {
	case c := <-w.code:
		return c
	case <-time.After(time.Until(testwait.Deadline(t))):
		t.Fatal("watch did not stop")
		return -1
	}
}

func (w *watchRun) waitLines(t *testing.T, n int) []string {
	t.Helper()
	deadline := testwait.Deadline(t)
	for {
		lines := strings.Split(strings.TrimSuffix(w.out.String(), "\n"), "\n")
		if lines[0] == "" {
			lines = nil
		}
		if len(lines) >= n {
			return lines
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %d lines, want %d; stderr: %s", len(lines), n, w.errOut.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// evLine is an audit event line by user with auditID id.
func evLine(id, user string) string {
	return `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"` + id +
		`","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods","verb":"list",` +
		`"user":{"username":"` + user + `","groups":["system:authenticated"]},"sourceIPs":["10.0.0.7"],` +
		`"objectRef":{"resource":"pods","namespace":"default","apiVersion":"v1"},"responseStatus":{"code":200},` +
		`"requestReceivedTimestamp":"2026-11-25T17:53:17.123456Z","stageTimestamp":"2026-11-25T17:53:17.223456Z"}`
}

func writeEvents(t *testing.T, lj *lumberjack.Logger, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		user := "alice"
		if i%2 == 1 {
			user = "bob"
		}
		if _, err := lj.Write([]byte(evLine(fmt.Sprintf("00000000-0000-0000-0000-%012d", i), user) + "\n")); err != nil {
			t.Fatal(err)
		}
	}
}

// TestWatchRestartEmitsOnce: watch -o jsonl, stopped and restarted while the
// log rotates (a backup gzipped): every kept event is printed once overall.
func TestWatchRestartEmitsOnce(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	lj := &lumberjack.Logger{Filename: filepath.Join(dir, "audit.log"), MaxSize: 100, Compress: true}
	defer lj.Close()
	writeEvents(t, lj, 0, 40)
	args := []string{"-o", "jsonl", "-f", "user:alice", "--state-dir", state, dir}
	w := startWatch(t, args...)
	w.waitLines(t, 20)
	writeEvents(t, lj, 40, 60)
	lj.Rotate()
	writeEvents(t, lj, 60, 80)
	first := w.waitLines(t, 40)
	if c := w.stop(t); c != exitOK {
		t.Fatalf("exit %d: %s", c, w.errOut.String())
	}
	// Down: three rotations (lumberjack gzips the backups).
	writeEvents(t, lj, 80, 100)
	time.Sleep(2 * time.Millisecond) // lumberjack names backups by the millisecond
	lj.Rotate()
	writeEvents(t, lj, 100, 120)
	time.Sleep(2 * time.Millisecond)
	lj.Rotate()
	writeEvents(t, lj, 120, 140)
	time.Sleep(2 * time.Millisecond)
	lj.Rotate()
	writeEvents(t, lj, 140, 160)
	w2 := startWatch(t, args...)
	w2.waitLines(t, 40)
	time.Sleep(80 * time.Millisecond)
	if c := w2.stop(t); c != exitOK {
		t.Fatalf("exit %d: %s", c, w2.errOut.String())
	}
	second := w2.waitLines(t, 40)
	seen := map[string]bool{}
	for _, l := range append(first, second...) {
		var e struct {
			AuditID string `json:"auditID"`
			User    struct{ Username string }
		}
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("not JSON: %q", l)
		}
		if e.User.Username != "alice" || seen[e.AuditID] {
			t.Fatalf("unexpected or repeated line %s", l)
		}
		seen[e.AuditID] = true
	}
	if len(seen) != 80 || len(first) != 40 || len(second) != 40 {
		t.Fatalf("printed %d+%d lines, %d distinct; want 40+40", len(first), len(second), len(seen))
	}

	// kaudit status shows the position, with no lag.
	code, out, errOut := kaudit(t, "", "status", "--state-dir", state, "-o", "json")
	if code != exitOK {
		t.Fatalf("status: exit %d: %s", code, errOut)
	}
	var rows []statusRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) != 1 {
		t.Fatalf("status -o json: %v %q", err, out)
	}
	if r := rows[0]; r.LagBytes != 0 || r.Rotated || r.Offset != r.Size || r.Line != 20 || r.LastEvent.IsZero() {
		t.Errorf("status row %+v", r)
	}
	code, out, _ = kaudit(t, "", "status", "--state-dir", state)
	if code != exitOK || !strings.Contains(out, "LAG") || !strings.Contains(out, filepath.Join(dir, "audit.log")) {
		t.Errorf("status table: exit %d\n%s", code, out)
	}
	// Written but not read yet: lag in bytes and events.
	writeEvents(t, lj, 160, 170)
	_, out, _ = kaudit(t, "", "status", "--state-dir", state, "-o", "json")
	json.Unmarshal([]byte(out), &rows)
	if r := rows[0]; r.LagEvents != 10 || r.LagBytes <= 0 {
		t.Errorf("status after 10 more events: %+v", r)
	}
}

func TestStatusUnreadableStateDir(t *testing.T) {
	code, _, errOut := kaudit(t, "", "status", "--state-dir", filepath.Join(t.TempDir(), "missing"))
	if code != exitError || !strings.Contains(errOut, "state dir") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "positions.json"), []byte("{"), 0o600)
	if code, _, _ := kaudit(t, "", "status", "--state-dir", dir); code != exitError {
		t.Fatalf("corrupt positions: exit %d", code)
	}
}

func TestWatchUsage(t *testing.T) {
	for _, args := range [][]string{
		{"watch", "--history", "yesterday", "x"},
		{"watch", "-f", ".verb ==", "x"},
		{"watch", "a", "b"},
		{"watch", "--max-memory", "lots", "x"},
		{"watch", "-o", "table", "--jq", ".verb", "x"},
	} {
		if code, _, _ := kaudit(t, "", args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
}

func TestWatchJQStreams(t *testing.T) {
	dir := t.TempDir()
	lj := &lumberjack.Logger{Filename: filepath.Join(dir, "audit.log"), MaxSize: 100}
	defer lj.Close()
	writeEvents(t, lj, 0, 6)
	w := startWatch(t, "--no-state", "-f", "user:bob", "--jq", "[.user.username, .verb]", dir)
	w.waitLines(t, 3)
	writeEvents(t, lj, 6, 10)
	lines := w.waitLines(t, 5)
	if c := w.stop(t); c != exitOK {
		t.Fatalf("exit %d: %s", c, w.errOut.String())
	}
	for _, l := range lines {
		if l != `["bob","list"]` {
			t.Fatalf("--jq output %q", l)
		}
	}
	if len(lines) != 5 {
		t.Fatalf("%d lines, want 5 (bob's events)", len(lines))
	}
}

// TestLiveDetectOnly: watch and serve with --detect-only print the same
// hits as kaudit detect over the same events, and nothing else; with the
// terminal UI, another format or --jq it is a usage error.
func TestLiveDetectOnly(t *testing.T) {
	events := readTestFile(t, detectFixtures+"handmade/events.jsonl")
	want := detectJSONL(t, "--severity", "medium", detectFixtures+"handmade/events.jsonl")
	if len(want) == 0 {
		t.Fatal("the fixture has no hits at --severity medium")
	}
	check := func(name string, w *watchRun) {
		t.Helper()
		w.waitLines(t, len(want))
		if c := w.stop(t); c != exitOK {
			t.Fatalf("%s: exit %d: %s", name, c, w.errOut.String())
		}
		got := strings.Split(strings.TrimSuffix(w.out.String(), "\n"), "\n")
		if len(got) != len(want) || !strings.Contains(got[0], `"rule":`) {
			t.Errorf("%s: %d lines, want %d hits:\n%.400s", name, len(got), len(want), w.out.String())
		}
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "audit.log"), []byte(events), 0o600); err != nil {
		t.Fatal(err)
	}
	check("watch", startWatch(t, "--no-state", "--detect-only", "--severity", "medium", "-o", "jsonl", dir))

	s := startServe(t, "--no-state", "--detect-only", "--severity", "medium", "-o", "jsonl")
	lines := strings.Split(strings.TrimSpace(events), "\n")
	if code := postTo(t, http.DefaultClient, s.url, eventListOf(lines...)); code != 200 {
		t.Fatalf("serve: status %d", code)
	}
	check("serve", s.watchRun)

	for _, args := range [][]string{
		{"watch", "--detect-only", "-o", "table", dir},
		{"watch", "--detect-only", "--jq", ".verb", dir},
		{"serve", "--detect-only", "-o", "json"},
	} {
		if code, _, errOut := kaudit(t, "", args...); code != exitUsage || !strings.Contains(errOut, "--detect-only") {
			t.Errorf("%v: exit %d, %s", args, code, errOut)
		}
	}
}
