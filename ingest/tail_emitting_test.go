package ingest

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestTailEmittingResumes: the checkpoint Emitting gives inside emit is one
// a later Tail resumes from to read exactly what followed that batch, also
// across a rotation — what a forwarder saves once the batch is acknowledged.
func TestTailEmittingResumes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	writeFile(t, dir, "audit.log", "")
	type mark struct {
		last string // the batch's last event
		cp   Checkpoint
	}
	var mu sync.Mutex
	var marks []mark
	var all []string
	tl := &Tail{Path: dir, Poll: 10 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- tl.Run(ctx, func(b Batch) error {
			mu.Lock()
			defer mu.Unlock()
			for _, e := range b.Events {
				all = append(all, e.AuditID)
			}
			cp := tl.Emitting()
			if cp.Source != dir || cp.Offset != b.Pos.Offset || cp.Path != b.Pos.Path || cp.Fingerprint == "" {
				t.Errorf("Emitting %+v for batch at %+v", cp, b.Pos)
			}
			marks = append(marks, mark{b.Events[len(b.Events)-1].AuditID, cp})
			return nil
		})
	}()
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(all) }
	waitCount := func(n int) {
		deadline := time.Now().Add(10 * time.Second)
		for count() < n {
			if time.Now().After(deadline) {
				t.Fatalf("%d events, want %d", count(), n)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	want := idsN("e", 0, 60)
	for i := 0; i < 30; i += 10 {
		appendLines(t, path, want[i:i+10]...)
		waitCount(i + 10)
	}
	if err := os.Rename(path, filepath.Join(dir, "audit-2026-11-20T10-00-00.000.log")); err != nil {
		t.Fatal(err)
	}
	for i := 30; i < 60; i += 10 {
		appendLines(t, path, want[i:i+10]...)
		waitCount(i + 10)
	}
	cancel()
	<-done
	checkExactlyOnce(t, all, want)
	if len(marks) < 4 {
		t.Fatalf("only %d batches", len(marks))
	}
	for _, m := range marks[:len(marks)-1] {
		cp := m.cp
		r := startTail(t, &Tail{Path: dir, Resume: &cp})
		idx := 0
		for want[idx] != m.last {
			idx++
		}
		rest := want[idx+1:]
		got := r.waitN(len(rest))
		r.stop()
		checkExactlyOnce(t, got, rest)
	}
}

// TestPositionsPerSink: a source's own checkpoint and each forward sink's
// are kept side by side.
func TestPositionsPerSink(t *testing.T) {
	dir := t.TempDir()
	p, err := OpenPositions(dir)
	if err != nil {
		t.Fatal(err)
	}
	p.Set(Checkpoint{Source: "/log", Path: "/log/audit.log", Offset: 100})
	p.Set(Checkpoint{Source: "/log", Sink: "otlp+http://c:4318", Path: "/log/audit.log", Offset: 40})
	p.Set(Checkpoint{Source: "/log", Sink: "datadog://datadoghq.eu", Path: "/log/audit-1.log", Offset: 7})
	if err := p.Flush(); err != nil {
		t.Fatal(err)
	}
	m, err := LoadPositions(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 3 || m["/log"].Offset != 100 || m["/log -> otlp+http://c:4318"].Offset != 40 || m["/log -> datadog://datadoghq.eu"].Path != "/log/audit-1.log" {
		t.Errorf("loaded %v", m)
	}
}
