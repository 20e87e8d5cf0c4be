package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"gopkg.in/natefinch/lumberjack.v2"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/forward"
	"github.com/kaudit/kaudit/gen"
	"github.com/kaudit/kaudit/ingest"
)

// receiversBin is where scripts/receivers/build.sh puts the real receivers.
func receiversBin(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("KAUDIT_RECEIVERS_BIN")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache", "kaudit-receivers", "bin")
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s: not built (run bash scripts/receivers/build.sh): %v", p, err)
	}
	return p
}

// collector is a real OpenTelemetry Collector (OTLP/HTTP receiver, file
// exporter) on 127.0.0.1:port.
type collector struct {
	t     *testing.T
	bin   string
	dir   string
	outs  []string // the output of each start, in order
	port  int
	extra string
	cmd   *exec.Cmd
}

func (c *collector) url() string { return "otlp+http://127.0.0.1:" + strconv.Itoa(c.port) }

// newCollector starts one; extra is more YAML for its OTLP/HTTP protocol
// section (tls: …), indented to sit under "http:".
func newCollector(t *testing.T, port int, extra ...string) *collector {
	dir := t.TempDir()
	c := &collector{t: t, bin: receiversBin(t, "otelcol-kaudit"), dir: dir, port: port, extra: strings.Join(extra, "\n        ")}
	c.start()
	t.Cleanup(func() {
		c.stop()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "collector.log"))
			t.Logf("collector log (last 4 KiB):\n%s", b[max(0, len(b)-4096):])
		}
	})
	return c
}

// start starts the collector, writing to a new file (the file exporter
// truncates its file when it starts).
func (c *collector) start() {
	c.t.Helper()
	out := filepath.Join(c.dir, fmt.Sprintf("logs-%d.jsonl", len(c.outs)))
	c.outs = append(c.outs, out)
	cfg := filepath.Join(c.dir, "config.yaml")
	conf := fmt.Sprintf(`receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:%d
        %s
exporters:
  file:
    path: %s
    flush_interval: 50ms
service:
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [file]
`, c.port, c.extra, out)
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		c.t.Fatal(err)
	}
	c.cmd = exec.Command(c.bin, "--config", cfg)
	logf, err := os.OpenFile(filepath.Join(c.dir, "collector.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		c.t.Fatal(err)
	}
	defer logf.Close()
	c.cmd.Stderr = logf // shown if the test fails
	if err := c.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; {
		conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(c.port), time.Second)
		if err == nil {
			conn.Close()
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("collector did not listen on %d: %v", c.port, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop ends the collector with SIGTERM (its file exporter flushes).
func (c *collector) stop() {
	if c.cmd == nil {
		return
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		c.cmd.Process.Kill()
		<-done
	}
	c.cmd = nil
}

// received is one log record as the collector's file exporter wrote it.
type received struct {
	id, body string
	ts       time.Time
}

// collected parses the file exporter's outputs (one ExportLogsServiceRequest
// as JSON per line; a partly written last line is left for later).
func (c *collector) collected() []received {
	c.t.Helper()
	var out []received
	for _, o := range c.outs {
		out = append(out, c.read(o)...)
	}
	return out
}

func (c *collector) read(path string) []received {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		c.t.Fatal(err)
	}
	var out []received
	var um plog.JSONUnmarshaler
	for line := range bytes.Lines(data) {
		if line[len(line)-1] != '\n' {
			break
		}
		ld, err := um.UnmarshalLogs(line)
		if err != nil {
			c.t.Fatalf("collector output: %v", err)
		}
		for _, rl := range ld.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					id, _ := lr.Attributes().Get(forward.AttrEventID)
					out = append(out, received{id: id.Str(), body: lr.Body().Str(), ts: lr.Timestamp().AsTime()})
				}
			}
		}
	}
	return out
}

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
	e2e(t)
	bin := buildKaudit(t)
	col := newCollector(t, 30010)
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
	e2e(t)
	bin := buildKaudit(t)
	col := newCollector(t, 30011)
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
