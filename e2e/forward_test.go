package e2e

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"gopkg.in/natefinch/lumberjack.v2"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/forward"
	"github.com/kaudit/kaudit/gen"
	"github.com/kaudit/kaudit/ingest"
)

// written is what a generator wrote: line (no newline) by event id, in order.
type written struct {
	mu    sync.Mutex
	order []string
	line  map[string]string
}

func (w *written) add(cluster string, line []byte) {
	l := string(bytes.TrimSuffix(line, []byte("\n")))
	id := forward.EventID(cluster, hostname(), []byte(l))
	w.mu.Lock()
	w.order = append(w.order, id)
	w.line[id] = l
	w.mu.Unlock()
}

// check compares what the collector received with what was written: every
// event there, bodies byte-identical, timestamps = stageTimestamp. It
// returns the number of duplicates.
func (w *written) check(t *testing.T, got []received) (dups int) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	seen := map[string]int{}
	for _, r := range got {
		line, ok := w.line[r.id]
		if !ok {
			t.Fatalf("received an event never written: %s", r.id)
		}
		if r.body != line {
			t.Fatalf("event %s: body differs from the line written", r.id)
		}
		var ev []audit.Event
		ev, err := audit.Decode([]byte(line), ev)
		if err != nil || !ev[0].StageTime.Equal(r.ts) {
			t.Fatalf("event %s: time %v, stageTimestamp %v (%v)", r.id, r.ts, ev[0].StageTime, err)
		}
		seen[r.id]++
	}
	missing := 0
	for _, id := range w.order {
		if seen[id] == 0 {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d events written never reached the collector", missing, len(w.order))
	}
	return len(got) - len(seen)
}

// committedCovered checks that every event before the sink's saved position
// is already at the collector: the position never passes an event that was
// not acknowledged. It returns how many events it checked (0 when the file
// the position is in cannot be found).
func committedCovered(t *testing.T, c *collector, dir, state, cluster string) int {
	t.Helper()
	m, err := ingest.LoadPositions(state)
	if err != nil {
		t.Fatal(err)
	}
	cp, ok := m[ingest.Checkpoint{Source: dir, Sink: c.url()}.Key()]
	if !ok {
		return 0
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil {
			continue
		}
		if dev, ino := ingest.FileID(fi); dev != cp.Dev || ino != cp.Inode {
			continue
		}
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			return 0
		}
		defer f.Close()
		buf := make([]byte, cp.Offset)
		if _, err := f.ReadAt(buf, 0); err != nil {
			t.Fatal(err)
		}
		have := map[string]bool{}
		for _, r := range c.collected() {
			have[r.id] = true
		}
		n := 0
		for line := range bytes.Lines(buf) {
			id := forward.EventID(cluster, hostname(), bytes.TrimSuffix(line, []byte("\n")))
			if !have[id] {
				t.Fatalf("the sink's position (%s offset %d) passes event %s, which the collector never received", cp.Path, cp.Offset, id)
			}
			n++
		}
		return n
	}
	return 0
}

// TestE2EForwardKill9Collector: 10 000 events written through many
// rotations while kaudit watch --forward to a real OpenTelemetry Collector
// is killed with SIGKILL 3 times at random and restarted, then stopped with
// SIGTERM. The collector has every event, bodies byte-identical and times
// equal; after each kill, every event before the sink's saved position is
// at the collector; the duplicates are at most the uncommitted windows.
func TestE2EForwardKill9Collector(t *testing.T) {
	bin := kauditBin(t)
	col := newCollector(t, freePort(t))
	dir, state := t.TempDir(), t.TempDir()
	lj := &lumberjack.Logger{Filename: filepath.Join(dir, "audit.log"), MaxSize: 1}
	defer lj.Close()
	const cluster, n, rate = "e2e", 10000, 2000
	w := &written{line: map[string]string{}}
	genDone := make(chan struct{})
	go func() {
		defer close(genDone)
		g := gen.New(gen.Config{Seed: 21})
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		var line []byte
		for i := 0; i < n; {
			<-tick.C
			for range rate / 100 {
				line = g.Next(line[:0])
				w.add(cluster, line)
				lj.Write(line)
				i++
			}
		}
	}()
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "watch", "-o", "jsonl", "--history", "all", "--state-dir", state,
			"--forward", col.url(), "--cluster-name", cluster, "--forward-max-inflight", "1MiB", dir)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	time.Sleep(200 * time.Millisecond)
	cmd := start()
	checked := 0
	for range 3 {
		time.Sleep(time.Duration(800+rand.IntN(1200)) * time.Millisecond)
		cmd.Process.Kill() // kill -9
		cmd.Wait()
		time.Sleep(300 * time.Millisecond) // the collector's file exporter flushes
		checked += committedCovered(t, col, dir, state, cluster)
		cmd = start()
	}
	<-genDone
	deadline := time.Now().Add(90 * time.Second)
	for len(distinct(col.collected())) < n && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("watch after SIGTERM: %v", err)
	}
	col.stop()
	got := col.collected()
	dups := w.check(t, got)
	files, _ := filepath.Glob(filepath.Join(dir, "audit*.log"))
	t.Logf("written %d events in %d files; collector received %d records, %d distinct, %d duplicates after 3 kills; %d events before committed positions checked at the collector",
		n, len(files), len(got), len(distinct(got)), dups, checked)
	if len(files) < 3 {
		t.Errorf("only %d files: the log did not rotate twice", len(files))
	}
	// Each kill resends at most what was in flight (1 MiB) and what was
	// acknowledged since the last positions flush (1 s).
	if limit := 3 * (rate + 1000); dups > limit {
		t.Errorf("%d duplicates, more than %d", dups, limit)
	}
}

func distinct(rs []received) map[string]bool {
	m := make(map[string]bool, len(rs))
	for _, r := range rs {
		m[r.id] = true
	}
	return m
}

// TestE2EForwardReceiverDown: the collector is down for 60 s while events
// keep coming and the log rotates (backups gzipped). kaudit's memory stays
// bounded, it keeps printing (the store is not held back), and after the
// collector is back every event arrives, in file order. Then SIGTERM,
// restart, more events, SIGTERM: no event is sent twice.
func TestE2EForwardReceiverDown(t *testing.T) {
	bin := kauditBin(t)
	col := newCollector(t, freePort(t))
	dir, state, outDir := t.TempDir(), t.TempDir(), t.TempDir()
	lj := &lumberjack.Logger{Filename: filepath.Join(dir, "audit.log"), MaxSize: 1, Compress: true}
	defer lj.Close()
	const cluster, rate, outage = "down", 1000, 60 * time.Second
	w := &written{line: map[string]string{}}
	g := gen.New(gen.Config{Seed: 22})
	var line []byte
	write := func(d time.Duration) {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for end := time.Now().Add(d); time.Now().Before(end); {
			<-tick.C
			for range rate / 100 {
				line = g.Next(line[:0])
				w.add(cluster, line)
				lj.Write(line)
			}
		}
	}
	outPath := filepath.Join(outDir, "out.jsonl")
	start := func() *exec.Cmd {
		out, err := os.OpenFile(outPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		defer out.Close()
		cmd := exec.Command(bin, "watch", "-o", "jsonl", "--history", "all", "--state-dir", state,
			"--forward", col.url(), "--cluster-name", cluster, "--forward-max-inflight", "4MiB",
			"--forward-concurrency", "1", dir) // one sender: file order is asserted
		cmd.Stdout, cmd.Stderr = out, os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	cmd := start()
	write(2 * time.Second)
	time.Sleep(500 * time.Millisecond)
	rss0 := vmRSS(t, cmd.Process.Pid)
	col.stop()
	downFrom := len(w.order)
	write(outage) // ~60 000 events, many rotations, while the receiver is down
	rssDown := vmRSS(t, cmd.Process.Pid)
	printed := countLines(t, outPath)
	if printed < len(w.order)-rate {
		t.Errorf("printed %d of %d events while the receiver was down: the store was held back", printed, len(w.order))
	}
	before := len(col.collected())
	col.start()
	deadline := time.Now().Add(90 * time.Second)
	for len(distinct(col.collected())) < len(w.order) && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("watch after SIGTERM: %v", err)
	}
	got := col.collected()
	if dups := w.check(t, got); dups != 0 {
		t.Errorf("%d duplicates without a crash", dups)
	}
	// File order: the collector received the events in the order written.
	for i, r := range got {
		if r.id != w.order[i] {
			t.Fatalf("record %d is not the %d-th event written", i, i)
		}
	}
	// SIGTERM drained and saved the position: a restart sends only what is new.
	cmd = start()
	write(time.Second)
	total := len(w.order)
	deadline = time.Now().Add(30 * time.Second)
	for len(col.collected()) < total && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("watch after SIGTERM: %v", err)
	}
	col.stop()
	got = col.collected()
	dups := w.check(t, got)
	files, _ := filepath.Glob(filepath.Join(dir, "audit*"))
	t.Logf("%d events (%d while the collector was down %v, %d files); RSS %d MiB before, %d MiB at the end of the outage; %d received before recovery; after recovery and a SIGTERM restart: %d received, %d duplicates",
		total, total-downFrom, outage, len(files), rss0>>10, rssDown>>10, before, len(got), dups)
	if dups != 0 {
		t.Errorf("%d duplicates after SIGTERM and restart", dups)
	}
	if growth := rssDown - rss0; growth > 64<<10 {
		t.Errorf("RSS grew by %d MiB while the receiver was down", growth>>10)
	}
}
