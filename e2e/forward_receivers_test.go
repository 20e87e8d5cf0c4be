package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gopkg.in/natefinch/lumberjack.v2"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/gen"
)

// faultProxy stands between kaudit and the real collector and answers some
// requests itself: 429 with Retry-After, 503, 502, 413 for big payloads, and
// one 400 (a payload refused for good).
type faultProxy struct {
	mu     sync.Mutex
	n      int
	counts map[int]int // status answered by the proxy -> times
}

func (p *faultProxy) start(t *testing.T, port int, target string) string {
	t.Helper()
	u, _ := url.Parse(target)
	rp := httputil.NewSingleHostReverseProxy(u)
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		p.mu.Lock()
		p.n++
		n := p.n
		status := 0
		switch {
		case n == 2:
			status = http.StatusBadRequest
		case len(body) > 100<<10 && n%2 == 1:
			status = http.StatusRequestEntityTooLarge
		case n%7 == 3:
			status = http.StatusTooManyRequests
			w.Header().Set("Retry-After", "1")
		case n%7 == 5:
			status = http.StatusServiceUnavailable
		case n%7 == 6:
			status = http.StatusBadGateway
		}
		if status != 0 {
			p.counts[status]++
		}
		p.mu.Unlock()
		if status != 0 {
			http.Error(w, "injected", status)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		rp.ServeHTTP(w, r)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "otlp+http://" + ln.Addr().String()
}

// TestE2EForwardFaultProxy: replay --forward through a fault-injecting proxy
// to the real collector. What the proxy refused for good (400) is in the
// dead-letter file; everything else reached the collector exactly once
// (429/502/503 retried, 413 split), byte-identical.
func TestE2EForwardFaultProxy(t *testing.T) {
	kauditBin(t) // skips without KAUDIT_E2E=1
	col := newCollector(t, freePort(t))
	p := &faultProxy{counts: map[int]int{}}
	proxy := p.start(t, freePort(t), "http://127.0.0.1:"+strconv.Itoa(col.port))
	dir, state := t.TempDir(), t.TempDir()
	const n, cluster = 6000, "faults"
	w := &written{line: map[string]string{}}
	g := gen.New(gen.Config{Seed: 24})
	var buf bytes.Buffer
	var line []byte
	for range n {
		line = g.Next(line[:0])
		w.add(cluster, line)
		buf.Write(line)
	}
	os.WriteFile(filepath.Join(dir, "audit.log"), buf.Bytes(), 0o600)
	code, _, errOut := kaudit(t, "replay", "-o", "table", "--view", "codes", "--state-dir", state, "--cluster-name", cluster,
		"--forward", proxy, "--forward-drain", "2m", filepath.Join(dir, "audit.log"))
	if code != exitOK {
		t.Fatalf("replay exit %d: %s", code, errOut)
	}
	col.stop()
	got := col.collected()
	deadFiles, _ := filepath.Glob(filepath.Join(state, "deadletter-*.jsonl"))
	if len(deadFiles) != 1 {
		t.Fatalf("dead-letter files %v, want one (the proxy's sink)", deadFiles)
	}
	dead := readDeadLetter(t, deadFiles[0])
	// Everything is either at the collector or in the dead-letter file, once.
	seen := map[string]int{}
	for _, r := range got {
		seen[r.id]++
		if w.line[r.id] != r.body {
			t.Fatalf("event %s: body differs", r.id)
		}
	}
	for _, id := range dead {
		seen[id]++
	}
	for _, id := range w.order {
		if seen[id] != 1 {
			t.Fatalf("event %s: %d times at the collector or in the dead-letter file, want 1", id, seen[id])
		}
	}
	_, out, _ := kaudit(t, "status", "--state-dir", state, "-o", "json")
	t.Logf("%d events: %d at the collector, %d dead-lettered (400); the proxy answered %v; status: %s",
		n, len(got), len(dead), p.counts, strings.Join(strings.Fields(out), " "))
	if len(dead) == 0 || p.counts[429] == 0 || p.counts[413] == 0 || p.counts[503] == 0 {
		t.Errorf("the faults were not all exercised: %v, %d dead-lettered", p.counts, len(dead))
	}
}

func readDeadLetter(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for l := range bytes.Lines(data) {
		var d struct {
			ID string `json:"kaudit.event_id"`
		}
		if err := json.Unmarshal(l, &d); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, d.ID)
	}
	return ids
}

// TestE2EForwardLostCount: the real kaudit binary follows a log that
// lumberjack rotates every 1 MB, gzips, and prunes to 2 backups (as
// kube-apiserver's --audit-log-maxbackup=2 does) while the forward
// receiver does not answer: the sink's reader pauses, the store's reader
// goes on, and backups the sink never read are deleted. Once the receiver
// answers, the sink sends what is left and reports the rest as lost; the
// counts must add up exactly: received + lost == written, no duplicates,
// and kaudit status shows the same lost count.
func TestE2EForwardLostCount(t *testing.T) {
	bin := kauditBin(t)
	dir, state, outDir := t.TempDir(), t.TempDir(), t.TempDir()
	fake := newOTLPFake(t)
	release := fake.HoldRequests()
	defer func() {
		if release != nil {
			release()
		}
	}()
	lj := &lumberjack.Logger{Filename: filepath.Join(dir, "audit.log"), MaxSize: 1, MaxBackups: 2, Compress: true}
	defer lj.Close()
	g := gen.New(gen.Config{Seed: 33})
	written := map[string]bool{}
	var order []string
	write := func(n int) {
		for range n {
			line := g.Next(nil)
			body := string(bytes.TrimSuffix(line, []byte("\n")))
			written[body] = true
			order = append(order, body)
			if _, err := lj.Write(line); err != nil {
				t.Fatal(err)
			}
		}
	}
	write(500)
	outPath, errPath := filepath.Join(outDir, "out.jsonl"), filepath.Join(outDir, "err.txt")
	out, _ := os.Create(outPath)
	errf, _ := os.Create(errPath)
	cmd := exec.Command(bin, "watch", "-o", "jsonl", "--state-dir", state, "--forward", fake.URL(),
		"--forward-max-inflight", "256KiB", "--forward-drain", "2s", dir)
	cmd.Stdout, cmd.Stderr = out, errf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	out.Close()
	errf.Close()
	defer cmd.Process.Kill()
	waitUntil(t, "the first post", func() bool { return fake.Posts() >= 1 })
	// ~3000 events/s for 4 s: many rotations while the sink is paused.
	tick := time.NewTicker(10 * time.Millisecond)
	for range 400 {
		<-tick.C
		write(30)
	}
	tick.Stop()
	waitUntil(t, "every event printed by the store's reader", func() bool { return countLines(t, outPath) >= len(order) })
	files, _ := filepath.Glob(filepath.Join(dir, "audit*"))
	release()
	release = nil
	// The sink catches up: wait until the receiver stops growing.
	last, stable := -1, 0
	for deadline := time.Now().Add(60 * time.Second); stable < 10 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		if b, _ := fake.Got(); len(b) == last {
			stable++
		} else {
			last, stable = len(b), 0
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("watch after SIGTERM: %v", err)
	}
	errText, _ := os.ReadFile(errPath)
	lost := 0
	reports := regexp.MustCompile(`: (\d+) events lost`).FindAllSubmatch(errText, -1)
	for _, m := range reports {
		n, _ := strconv.Atoi(string(m[1]))
		lost += n
	}
	bodies, _ := fake.Got()
	seen := map[string]bool{}
	dups, foreign := 0, 0
	for _, b := range bodies {
		if seen[b] {
			dups++
		}
		seen[b] = true
		if !written[b] {
			foreign++
		}
	}
	st := sinkStats(t, state, fake.URL())
	t.Logf("written %d events (%d files on disk when the receiver came back); received %d (%d duplicates); %d reports of lost events summing to %d; status lost %d",
		len(order), len(files), len(bodies), dups, len(reports), lost, st.Lost)
	if dups != 0 || foreign != 0 {
		t.Errorf("%d duplicates, %d events never written", dups, foreign)
	}
	if len(seen)+lost != len(order) {
		t.Errorf("received %d + lost %d = %d, want the %d written", len(seen), lost, len(seen)+lost, len(order))
	}
	if lost == 0 {
		t.Errorf("nothing was lost: the test did not exercise deleted backups\n%s", errText)
	}
	if st.Lost != int64(lost) {
		t.Errorf("status says %d lost, stderr %d", st.Lost, lost)
	}
}

// writeCA makes a CA and a serving certificate it signed for 127.0.0.1
// (an IP SAN only: "localhost" does not match), as PEM files in dir.
func writeCA(t *testing.T, dir, name string) (caFile, certFile, keyFile string) {
	t.Helper()
	ca, err := gen.NewCA(name + " CA")
	if err != nil {
		t.Fatal(err)
	}
	cert, key, err := ca.IssueServer("collector", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return writePEM(t, dir, name+"-ca.pem", ca.PEM), writePEM(t, dir, name+"-cert.pem", cert), writePEM(t, dir, name+"-key.pem", key)
}

// TestE2EForwardTLS: otlp+https to the real collector serving TLS. With the
// collector's CA the events arrive; with another CA, or under a host name
// its certificate does not hold, nothing is sent and the error says why.
func TestE2EForwardTLS(t *testing.T) {
	kauditBin(t) // skips without KAUDIT_E2E=1
	certs := t.TempDir()
	ca, cert, key := writeCA(t, certs, "right")
	otherCA, _, _ := writeCA(t, certs, "other")
	col := newCollector(t, freePort(t), "tls:\n          cert_file: "+cert+"\n          key_file: "+key)
	dir := t.TempDir()
	var lines []string
	for i := range 50 {
		lines = append(lines, evLine(evID(i), evUser(i)))
	}
	path := filepath.Join(dir, "audit.log")
	os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600)
	replay := func(host, caFile string) (int, string) {
		code, _, errOut := kaudit(t, "replay", "-o", "jsonl", "--state-dir", t.TempDir(), "--forward-drain", "1s",
			"--forward", "otlp+https://"+host+":"+strconv.Itoa(col.port), "--forward-ca-file", caFile, path)
		return code, errOut
	}
	if code, errOut := replay("127.0.0.1", ca); code != exitOK {
		t.Fatalf("right CA: exit %d: %s", code, errOut)
	}
	for _, tt := range []struct{ name, host, ca, want string }{
		{"wrong CA", "127.0.0.1", otherCA, "certificate signed by unknown authority"},
		{"wrong host name", "localhost", ca, "wanted to match localhost"},
	} {
		code, errOut := replay(tt.host, tt.ca)
		if code != exitError || !strings.Contains(errOut, "50 events not acknowledged") || !strings.Contains(errOut, tt.want) {
			t.Errorf("%s: exit %d: %s", tt.name, code, errOut)
		}
	}
	col.stop()
	got := col.collected()
	if len(got) != 50 {
		t.Fatalf("the collector received %d events, want the 50 sent with the right CA", len(got))
	}
	for i, r := range got {
		if r.body != lines[i] {
			t.Fatalf("event %d: body differs", i)
		}
	}
	t.Logf("TLS: 50 events delivered with the collector's CA; a wrong CA and a wrong host name were refused")
}

// TestE2EForwardTUIReceiverDown: kaudit watch on a terminal with --forward
// to a collector that is not running yet. The sink's reader is blocked
// (64 KiB in flight at most) but the UI keeps counting new events; once the
// collector starts every event arrives, in file order, and quitting exits 0.
func TestE2EForwardTUIReceiverDown(t *testing.T) {
	bin := kauditBin(t)
	dir, state := t.TempDir(), t.TempDir()
	lj := &lumberjack.Logger{Filename: filepath.Join(dir, "audit.log"), MaxSize: 100}
	defer lj.Close()
	writeEvents(t, lj, 0, 10)
	port := freePort(t)
	// One sender (--forward-concurrency 1): file order is asserted.
	cmd := fmt.Sprintf("env TERM=xterm-256color NO_COLOR=1 %s watch --state-dir %s --forward otlp+http://127.0.0.1:%d --forward-max-inflight 64KiB --forward-concurrency 1 --cluster-name tui %s; echo KAUDIT-EXITED $?; sleep 30",
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

// TestE2EForwardVictoriaLogs: replay --forward to a real VictoriaLogs over
// both protocols at once — OTLP/HTTP and the Datadog v2 intake, which it
// parses independently of kaudit — then read everything back through its
// query API: per protocol, every event once, the message byte-identical to
// the line, the time = stageTimestamp, the attributes and tags mapped.
func TestE2EForwardVictoriaLogs(t *testing.T) {
	kauditBin(t) // skips without KAUDIT_E2E=1
	base := victoriaLogs(t, freePort(t))
	dir, state := t.TempDir(), t.TempDir()
	const n, cluster = 2000, "vl"
	w := &written{line: map[string]string{}}
	g := gen.New(gen.Config{Seed: 23})
	f, err := os.Create(filepath.Join(dir, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	var line []byte
	for range n {
		line = g.Next(line[:0])
		w.add(cluster, line)
		f.Write(line)
	}
	f.Close()
	t.Setenv("DD_API_KEY", "test-key")
	code, _, errOut := kaudit(t, "replay", "-o", "table", "--view", "verbs", "--state-dir", state, "--cluster-name", cluster,
		"--forward", "otlp+http://"+base[len("http://"):]+"/insert/opentelemetry/v1/logs",
		"--forward", "datadog://datadoghq.eu", "--forward-endpoint", base+"/insert/datadog/api/v2/logs",
		"--forward-tag", "env:e2e", filepath.Join(dir, "audit.log"))
	if code != exitOK {
		t.Fatalf("replay exit %d: %s", code, errOut)
	}
	var otlpRows, ddRows []map[string]string
	for deadline := time.Now().Add(30 * time.Second); ; {
		otlpRows = vlQuery(t, base, `service.name:="kube-apiserver"`)
		ddRows = vlQuery(t, base, `ddsource:="kubernetes.audit"`)
		if len(otlpRows) >= n && len(ddRows) >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	check := func(proto string, rows []map[string]string, precision time.Duration) {
		t.Helper()
		seen := map[string]bool{}
		for _, r := range rows {
			id := r["kaudit.event_id"]
			want, ok := w.line[id]
			if !ok || seen[id] {
				t.Fatalf("%s: unknown or repeated event id %q", proto, id)
			}
			seen[id] = true
			if r["_msg"] != want {
				t.Fatalf("%s: event %s: message differs from the line written", proto, id)
			}
			evs, err := audit.Decode([]byte(want), nil)
			if err != nil {
				t.Fatal(err)
			}
			ts, err := time.Parse(time.RFC3339Nano, r["_time"])
			if err != nil || !ts.Equal(evs[0].StageTime.Truncate(precision)) {
				t.Fatalf("%s: event %s: _time %s, stageTimestamp %v", proto, id, r["_time"], evs[0].StageTime)
			}
		}
		if len(seen) != n {
			t.Fatalf("%s: %d events in VictoriaLogs, want %d", proto, len(seen), n)
		}
	}
	check("otlp", otlpRows, time.Nanosecond)
	check("datadog", ddRows, time.Millisecond)
	o, d := otlpRows[0], ddRows[0]
	if o["k8s.cluster.name"] != cluster || o["k8s.audit.verb"] == "" || o["k8s.audit.stage"] == "" || o["host.name"] != hostname() {
		t.Errorf("otlp attributes: %v", o)
	}
	if d["kube_cluster_name"] != cluster || d["env"] != "e2e" || d["service"] != "audit" || d["hostname"] != hostname() {
		t.Errorf("datadog fields: %v", d)
	}
	t.Logf("VictoriaLogs holds %d events sent over OTLP and %d over the Datadog intake, all byte-identical with their times", len(otlpRows), len(ddRows))
}
