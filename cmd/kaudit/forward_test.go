package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/natefinch/lumberjack.v2"

	"github.com/kaudit/kaudit/forward"
	"github.com/kaudit/kaudit/ingest"
	"github.com/kaudit/kaudit/internal/testotlp"
	"github.com/kaudit/kaudit/internal/testwait"
)

func newOTLPFake(t *testing.T) *testotlp.Fake { return testotlp.New(t) }

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testwait.Until(t, what, cond)
}

// sinkCheckpoint is the sink's saved position, if any.
func sinkCheckpoint(t *testing.T, state, src, sink string) (ingest.Checkpoint, bool) {
	t.Helper()
	m, err := ingest.LoadPositions(state)
	if err != nil {
		t.Fatal(err)
	}
	cp, ok := m[ingest.Checkpoint{Source: src, Sink: sink}.Key()]
	return cp, ok
}

// TestWatchForwardCommitsOnAck: while the receiver refuses (503), watch
// still prints every event (the store is not held back) but the sink's
// position stays where nothing was acknowledged; once the receiver is back
// every event arrives, in file order, and the sink's position reaches the
// end of the file. A restart resends nothing and goes on with new events.
func TestWatchForwardCommitsOnAck(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	fake := newOTLPFake(t)
	fake.Status.Store(503)
	lj := &lumberjack.Logger{Filename: filepath.Join(dir, "audit.log"), MaxSize: 100}
	defer lj.Close()
	writeEvents(t, lj, 0, 50)
	// One sender: file order is asserted (several may deliver out of order).
	args := []string{"-o", "jsonl", "--state-dir", state, "--forward", fake.URL(), "--forward-concurrency", "1", "--cluster-name", "test", dir}
	w := startWatch(t, args...)
	w.waitLines(t, 50)
	waitUntil(t, "retries", func() bool { return fake.Posts() >= 2 })
	// A positions flush after the 50 lines were handed on: the reader's
	// own position says so, and the sink's, with nothing acknowledged,
	// was not saved by it.
	waitUntil(t, "the reader's own position at 50 lines", func() bool {
		cp, ok := sinkCheckpoint(t, state, dir, "")
		return ok && cp.Line == 50
	})
	if cp, ok := sinkCheckpoint(t, state, dir, fake.URL()); ok {
		t.Fatalf("sink position %+v saved with nothing acknowledged", cp)
	}
	fake.Status.Store(0)
	lj.Rotate()
	writeEvents(t, lj, 50, 70)
	waitUntil(t, "70 events at the receiver", func() bool { _, ids := fake.Got(); return len(ids) >= 70 })
	waitUntil(t, "the sink's position", func() bool {
		cp, ok := sinkCheckpoint(t, state, dir, fake.URL())
		return ok && cp.Line == 20 && cp.Path == filepath.Join(dir, "audit.log")
	})
	if c := w.stop(t); c != exitOK {
		t.Fatalf("exit %d: %s", c, w.errOut.String())
	}
	writeEvents(t, lj, 70, 80)
	w2 := startWatch(t, args...)
	waitUntil(t, "80 events at the receiver", func() bool { _, ids := fake.Got(); return len(ids) >= 80 })
	writeEvents(t, lj, 80, 81) // a resent event would arrive before this one
	waitUntil(t, "81 events at the receiver", func() bool { _, ids := fake.Got(); return len(ids) >= 81 })
	if c := w2.stop(t); c != exitOK {
		t.Fatalf("exit %d: %s", c, w2.errOut.String())
	}
	bodies, ids := fake.Got()
	if len(bodies) != 81 {
		t.Fatalf("%d events at the receiver, want 81 (no resend)", len(bodies))
	}
	for i, b := range bodies {
		if want := evLine(evID(i), evUser(i)); b != want {
			t.Fatalf("event %d: body %q, want %q (file order, byte-identical)", i, b, want)
		}
		if ids[i] != forward.EventID("test", hostname(), []byte(b)) {
			t.Fatalf("event %d: id %q", i, ids[i])
		}
	}
	code, out, errOut := kaudit(t, "", "status", "--state-dir", state)
	if code != exitOK || !strings.Contains(out, "-> "+fake.URL()) || !strings.Contains(out, "SINK") {
		t.Fatalf("status exit %d: %s %s", code, out, errOut)
	}
	_, out, _ = kaudit(t, "", "status", "--state-dir", state, "-o", "json")
	var rows []statusRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range rows {
		if r.Sink == fake.URL() {
			found = true
			if r.Forward == nil || r.Forward.Acked != 11 || r.Forward.Queue != 0 || r.Line != 31 {
				t.Errorf("sink row %+v forward %+v: the second run acked 11, position at line 31", r, r.Forward)
			}
		}
	}
	if !found {
		t.Errorf("no sink row in %s", out)
	}
}

func evID(i int) string { return "00000000-0000-0000-0000-" + pad12(i) }

func pad12(i int) string {
	s := strings.Repeat("0", 12) + itoa(i)
	return s[len(s)-12:]
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func evUser(i int) string {
	if i%2 == 1 {
		return "bob"
	}
	return "alice"
}

func hostname() string { h, _ := os.Hostname(); return h }

// TestReplayForward: replay sends every event in input order; a receiver
// that refuses for good (400) sends them to the dead-letter file, counted
// in kaudit status.
func TestReplayForward(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	var lines []string
	for i := range 30 {
		lines = append(lines, evLine(evID(i), evUser(i)))
	}
	path := filepath.Join(dir, "audit.log")
	os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600)
	fake := newOTLPFake(t)
	code, out, errOut := kaudit(t, "", "replay", "-o", "table", "--view", "users", "--state-dir", state, "--forward", fake.URL(), path)
	if code != exitOK || !strings.Contains(out, "alice") {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	bodies, _ := fake.Got()
	if strings.Join(bodies, "\n") != strings.Join(lines, "\n") {
		t.Fatalf("receiver got %d events, not the file in order", len(bodies))
	}
	fake.Status.Store(400)
	code, _, errOut = kaudit(t, "", "replay", "-o", "jsonl", "--state-dir", state, "--forward", fake.URL(), path)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	dead, err := os.ReadFile(filepath.Join(state, "deadletter-"+fileSafe(fake.URL())+".jsonl"))
	if err != nil || strings.Count(string(dead), "\n") != 30 || !strings.Contains(string(dead), `"error":"HTTP 400: scripted"`) {
		t.Fatalf("dead-letter file (%v): %.300s", err, dead)
	}
	_, out, _ = kaudit(t, "", "status", "--state-dir", state)
	if !strings.Contains(out, "HTTP 400: scripted") || !strings.Contains(out, fake.URL()) {
		t.Errorf("status: %s", out)
	}
	t.Setenv("DD_API_KEY", "")
	if code, _, errOut := kaudit(t, "", "replay", "-o", "jsonl", "--forward", "datadog://datadoghq.eu", path); code != exitUsage || !strings.Contains(errOut, "API key") {
		t.Errorf("datadog without a key: exit %d %s", code, errOut)
	}
	if code, _, errOut := kaudit(t, "", "replay", "-o", "jsonl", "--forward", fake.URL(), "--forward-concurrency", "0", path); code != exitUsage || !strings.Contains(errOut, "--forward-concurrency") {
		t.Errorf("--forward-concurrency 0: exit %d %s", code, errOut)
	}
}

// TestWatchForwardBackupDeleted: events not yet sent were in a backup that
// was deleted while kaudit was down: the restart says so for the sink, with
// the exact count (the store's reader had read the file to its end, and its
// record of finished files was saved with the positions).
func TestWatchForwardBackupDeleted(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	fake := newOTLPFake(t)
	lj := &lumberjack.Logger{Filename: filepath.Join(dir, "audit.log"), MaxSize: 100}
	defer lj.Close()
	writeEvents(t, lj, 0, 10)
	args := []string{"-o", "jsonl", "--state-dir", state, "--forward", fake.URL(), "--forward-drain", "200ms", dir}
	w := startWatch(t, args...)
	waitUntil(t, "10 events at the receiver", func() bool { _, ids := fake.Got(); return len(ids) == 10 })
	waitUntil(t, "the sink's position", func() bool { cp, ok := sinkCheckpoint(t, state, dir, fake.URL()); return ok && cp.Line == 10 })
	release := fake.HoldRequests() // the receiver stops answering
	writeEvents(t, lj, 10, 15)     // read by the store's reader, never sent
	lj.Rotate()
	writeEvents(t, lj, 15, 20)
	w.waitLines(t, 20)
	if c := w.stop(t); c != exitOK {
		t.Fatalf("exit %d: %s", c, w.errOut.String())
	}
	backups, _ := filepath.Glob(filepath.Join(dir, "audit-*.log"))
	if len(backups) != 1 {
		t.Fatalf("backups %v, want 1", backups)
	}
	os.Remove(backups[0])
	waitUntil(t, "the held request abandoned", func() bool { return fake.Held() == 0 })
	release()
	w = startWatch(t, args...)
	waitUntil(t, "the 5 newest events at the receiver", func() bool { _, ids := fake.Got(); return len(ids) == 15 })
	if c := w.stop(t); c != exitOK {
		t.Fatalf("exit %d: %s", c, w.errOut.String())
	}
	e := w.errOut.String()
	if !strings.Contains(e, "--forward "+fake.URL()+": rotated and deleted") {
		t.Errorf("stderr does not say what the sink lost: %s", e)
	}
	if want := "5 events lost (lines 11..15 of " + backups[0] + ")"; !strings.Contains(e, want) {
		t.Errorf("stderr does not say %q: %s", want, e)
	}
	if lost := sinkStats(t, state, fake.URL()).Lost; lost != 5 {
		t.Errorf("status: %d events lost, want 5", lost)
	}
}

// sinkStats is the sink's counters as kaudit status -o json shows them.
func sinkStats(t *testing.T, state, sink string) forward.Stats {
	t.Helper()
	code, out, errOut := kaudit(t, "", "status", "--state-dir", state, "-o", "json")
	if code != exitOK {
		t.Fatalf("status exit %d: %s", code, errOut)
	}
	var rows []statusRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Sink == sink && r.Forward != nil {
			return *r.Forward
		}
	}
	t.Fatalf("no counters for %s in %s", sink, out)
	return forward.Stats{}
}

// TestWatchForwardLostWhilePaused: the receiver does not answer, so the
// sink's reader pauses in file A while the store's reader goes on; the log
// rotates three times (A, B, C) and B is deleted (as --audit-log-maxbackup
// would) before the sink gets to it. Once the receiver answers, the sink
// sends everything else, in order, and reports exactly B's 5 events lost:
// on stderr and in kaudit status.
func TestWatchForwardLostWhilePaused(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	fake := newOTLPFake(t)
	release := fake.HoldRequests()
	lj := &lumberjack.Logger{Filename: filepath.Join(dir, "audit.log"), MaxSize: 100}
	defer lj.Close()
	writeEvents(t, lj, 0, 10)
	w := startWatch(t, "-o", "jsonl", "--state-dir", state, "--forward", fake.URL(), "--forward-max-inflight", "1KiB",
		"--forward-drain", "200ms", dir)
	w.waitLines(t, 10)
	waitUntil(t, "a post", func() bool { return fake.Posts() >= 1 })
	for k := range 3 { // A: events 0..14, B: 15..19, C: 20..24
		writeEvents(t, lj, 10+5*k, 15+5*k)
		time.Sleep(2 * time.Millisecond) // distinct backup names
		lj.Rotate()
	}
	writeEvents(t, lj, 25, 30)
	w.waitLines(t, 30) // the store's reader finished A, B and C
	backups, _ := filepath.Glob(filepath.Join(dir, "audit-*.log"))
	if len(backups) != 3 {
		t.Fatalf("backups %v, want 3", backups)
	}
	os.Remove(backups[1])
	release()
	waitUntil(t, "25 events at the receiver", func() bool { _, ids := fake.Got(); return len(ids) >= 25 })
	waitUntil(t, "the loss reported", func() bool { return strings.Contains(w.errOut.String(), "events lost") })
	writeEvents(t, lj, 30, 31) // an event sent twice would arrive before this one
	waitUntil(t, "26 events at the receiver", func() bool { _, ids := fake.Got(); return len(ids) >= 26 })
	if c := w.stop(t); c != exitOK {
		t.Fatalf("exit %d: %s", c, w.errOut.String())
	}
	bodies, _ := fake.Got()
	var want []string
	for i := range 31 {
		if i < 15 || i >= 20 {
			want = append(want, evLine(evID(i), evUser(i)))
		}
	}
	if strings.Join(bodies, "\n") != strings.Join(want, "\n") {
		t.Fatalf("receiver got %d events, want the 26 but B's, in order:\n%s", len(bodies), strings.Join(bodies, "\n"))
	}
	e := w.errOut.String()
	if wantMsg := backups[1] + ": --forward " + fake.URL() + ": rotated and deleted before it was read for this sink: 5 events lost"; !strings.Contains(e, wantMsg) {
		t.Errorf("stderr does not say %q: %s", wantMsg, e)
	}
	if strings.Count(e, "events lost") != 1 {
		t.Errorf("loss reported more than once: %s", e)
	}
	if lost := sinkStats(t, state, fake.URL()).Lost; lost != 5 {
		t.Errorf("status: %d events lost, want 5", lost)
	}
	if _, out, _ := kaudit(t, "", "status", "--state-dir", state); !strings.Contains(out, "LOST") {
		t.Errorf("status table has no LOST column: %s", out)
	}
}

// fileSafe is how the pipeline names a sink's dead-letter file (for the
// tests that read it).
func fileSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '_'
	}, s)
}

// watch --detect --forward, headless: the forwarded records name the
// rules their event hit, the same (rule, auditID) pairs kaudit detect
// finds in the log, each once.
func TestWatchDetectForward(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	data := readTestFile(t, detectFixtures+"handmade/events.jsonl")
	path := filepath.Join(dir, "audit.log")
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	events := len(strings.Split(strings.TrimSpace(data), "\n"))
	fake := newOTLPFake(t)
	w := startWatch(t, "-o", "jsonl", "--state-dir", state, "--detect", "--forward", fake.URL(), path)
	waitUntil(t, "every event at the receiver", func() bool { b, _ := fake.Got(); return len(b) >= events })
	if c := w.stop(t); c != exitOK {
		t.Fatalf("exit %d: %s", c, w.errOut.String())
	}
	bodies, _ := fake.Got()
	dets := fake.Detections()
	var got []string
	for i, b := range bodies {
		var ev struct{ AuditID string }
		if err := json.Unmarshal([]byte(b), &ev); err != nil {
			t.Fatal(err)
		}
		for _, r := range dets[i] {
			got = append(got, r+" "+ev.AuditID)
		}
	}
	var want []string
	for _, h := range detectJSONL(t, path) {
		want = append(want, h.Rule+" "+h.AuditID)
	}
	slices.Sort(got)
	slices.Sort(want)
	if len(want) < 10 || !slices.Equal(got, want) {
		t.Errorf("forwarded detections differ from kaudit detect (%d vs %d):\n got %v\nwant %v", len(got), len(want), got, want)
	}
	if code, _, errOut := kaudit(t, "", "watch", "--detect", "-o", "jsonl", "--no-state", path); code != exitUsage || !strings.Contains(errOut, "--forward") {
		t.Errorf("--detect headless without --forward: exit %d %s", code, errOut)
	}
}
