package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/natefinch/lumberjack.v2"
)

// TestE2EForwardTUIReceiverDown: kaudit watch on a terminal with --forward
// to a collector that is not running yet. The sink's reader is blocked
// (64 KiB in flight at most) but the UI keeps counting new events; once the
// collector starts every event arrives, in file order, and quitting exits 0.
func TestE2EForwardTUIReceiverDown(t *testing.T) {
	e2e(t)
	bin := buildKaudit(t)
	dir, state := t.TempDir(), t.TempDir()
	lj := &lumberjack.Logger{Filename: filepath.Join(dir, "audit.log"), MaxSize: 100}
	defer lj.Close()
	writeEvents(t, lj, 0, 10)
	const port = 30016
	cmd := fmt.Sprintf("env TERM=xterm-256color NO_COLOR=1 %s watch --state-dir %s --forward otlp+http://127.0.0.1:%d --forward-max-inflight 64KiB --cluster-name tui %s; echo KAUDIT-EXITED $?; sleep 30",
		bin, state, port, dir)
	p := newPane(t, 120, 40, cmd)
	p.waitFor("the live UI", func(s string) bool { return strings.Contains(s, "LIVE") && events(s) == 10 })
	writeEvents(t, lj, 10, 1500)
	lj.Rotate()
	writeEvents(t, lj, 1500, 2000)
	p.waitFor("the UI counting events while the receiver is down", func(s string) bool { return events(s) == 2000 })
	col := newCollector(t, port)
	deadline := time.Now().Add(60 * time.Second)
	for len(col.collected()) < 2000 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	p.keys("q")
	p.waitFor("exit", func(s string) bool { return strings.Contains(s, "KAUDIT-EXITED 0") })
	col.stop()
	got := col.collected()
	if len(got) != 2000 {
		t.Fatalf("the collector received %d events, want 2000", len(got))
	}
	for i, r := range got {
		if want := evLine(evID(i), evUser(i)); r.body != want {
			t.Fatalf("record %d is not the %d-th line written", i, i)
		}
	}
	t.Logf("TUI: 2000 events shown while the receiver was down; all 2000 delivered in file order once it was up")
}
