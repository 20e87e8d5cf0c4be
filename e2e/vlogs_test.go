package e2e

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kaudit/kaudit/gen"
)

// TestE2EVlogsReplay: replay --forward a generated log to a real
// VictoriaLogs, then kaudit replay vlogs://… gives the Users, Denials and
// Latency tables of replaying the file itself; a pushed-down filter
// transfers only the matching events.
func TestE2EVlogsReplay(t *testing.T) {
	kauditBin(t) // skips without KAUDIT_E2E=1
	base := victoriaLogs(t, freePort(t))
	addr := strings.TrimPrefix(base, "http://")
	dir, state := t.TempDir(), t.TempDir()
	const n = 5000
	g := gen.New(gen.Config{Seed: 41})
	path := filepath.Join(dir, "audit.log")
	var data, line []byte
	for range n {
		line = g.Next(line[:0])
		data = append(data, line...)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := kaudit(t, "replay", "-o", "table", "--view", "verbs", "--state-dir", state, "--cluster-name", "fleet-a",
		"--forward", "otlp+http://"+addr+"/insert/opentelemetry/v1/logs", path)
	if code != exitOK {
		t.Fatalf("replay --forward exit %d: %s", code, errOut)
	}
	// VictoriaLogs makes what it took searchable within a second or so.
	for deadline := time.Now().Add(30 * time.Second); len(vlQuery(t, base, `service.name:="kube-apiserver" | stats count() n`)) == 0 ||
		vlQuery(t, base, `service.name:="kube-apiserver" | stats count() n`)[0]["n"] != strconv.Itoa(n); {
		if time.Now().After(deadline) {
			t.Fatal("VictoriaLogs did not hold every forwarded event in time")
		}
		time.Sleep(200 * time.Millisecond)
	}
	src := "vlogs://" + addr
	for _, view := range []string{"users", "denials", "latency", "verbs", "sources"} {
		_, want, _ := run(t, "replay", "-o", "json", "--view", view, path)
		_, got, errOut := run(t, "replay", "-o", "json", "--view", view, "--vlogs-page", "700", "--vlogs-cluster", "fleet-a", src)
		if got != want || len(want) < 50 {
			t.Fatalf("view %s over vlogs differs from the file's:\n%.600s\nwant\n%.600s\nstderr %s", view, got, want, errOut)
		}
	}
	// Push-down: only the matching events cross the wire.
	_, all, _ := run(t, "replay", "-o", "jsonl", path)
	_, matching, _ := run(t, "replay", "-o", "jsonl", "-f", "verb:delete,patch ns:kube-system", path)
	_, got, errFiltered := run(t, "replay", "-o", "jsonl", "-f", "verb:delete,patch ns:kube-system", src)
	_, _, errAll := run(t, "replay", "-o", "jsonl", src)
	m := strings.Count(matching, "\n")
	if m == 0 || strings.Count(got, "\n") != m {
		t.Fatalf("filtered read back %d events, the file gives %d", strings.Count(got, "\n"), m)
	}
	fEvents, fBytes := transferred(t, errFiltered)
	aEvents, aBytes := transferred(t, errAll)
	if fEvents != m || aEvents != strings.Count(all, "\n") || fBytes*int64(aEvents) > aBytes*int64(fEvents)*10 || fBytes*10 > aBytes {
		t.Fatalf("transferred: filtered %d events / %d bytes, unfiltered %d / %d; %d match", fEvents, fBytes, aEvents, aBytes, m)
	}
	t.Logf("views identical; push-down of verb:delete,patch ns:kube-system transferred %d events (%d bytes) instead of %d (%d bytes)", fEvents, fBytes, aEvents, aBytes)
	// jq: its simple atoms pushed down, the rest evaluated locally, keep
	// what the filter keeps over the file.
	for _, jq := range []string{
		`.verb == "delete" and (.objectRef.namespace | startswith("kube-"))`,
		`select((.responseStatus.code == 403 or .responseStatus.code == 404) and (.user.username | test("^system:") | not))`,
		`(.objectRef.resource | IN("pods", "secrets")) and latency > 0.05`,
	} {
		_, want, _ := run(t, "replay", "-o", "jsonl", "-f", jq, path)
		_, got, errOut := run(t, "replay", "-o", "jsonl", "-f", jq, src)
		ev, b := transferred(t, errOut)
		if rows(got) != rows(want) || strings.Count(want, "\n") == 0 || ev >= aEvents || b >= aBytes {
			t.Fatalf("jq %s: %d events read back, the file gives %d; transferred %d events (%d bytes) of %d",
				jq, strings.Count(got, "\n"), strings.Count(want, "\n"), ev, b, aEvents)
		}
		t.Logf("jq %s: %d events, transferred %d (%d bytes)", jq, strings.Count(want, "\n"), ev, b)
	}
}

// run is kaudit that must succeed.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	code, out, errOut := kaudit(t, args...)
	if code != exitOK {
		t.Fatalf("kaudit %v: exit %d: %s", args, code, errOut)
	}
	return code, out, errOut
}

var progressLine = regexp.MustCompile(`kaudit: vlogs: (\d+)/\d+ events, .* \((\d+) bytes\)`)

// transferred reads the last progress line: events and bytes read.
func transferred(t *testing.T, stderr string) (int, int64) {
	t.Helper()
	m := progressLine.FindAllStringSubmatch(stderr, -1)
	if m == nil {
		t.Fatalf("no progress line in %q", stderr)
	}
	last := m[len(m)-1]
	ev, _ := strconv.Atoi(last[1])
	b, _ := strconv.ParseInt(last[2], 10, 64)
	return ev, b
}

// TestE2EVlogsWatch: a watch --forward agent on a log, and watch vlogs://
// on the other side of VictoriaLogs: each line appended to the log shows
// up on the reader, byte-identical; the latency is logged (DESIGN: tests
// wait for conditions, the 2 s target is a measurement).
func TestE2EVlogsWatch(t *testing.T) {
	kauditBin(t)
	base := victoriaLogs(t, freePort(t))
	addr := strings.TrimPrefix(base, "http://")
	dir := t.TempDir()
	logPath, outPath := filepath.Join(dir, "audit.log"), filepath.Join(dir, "read.jsonl")
	if err := os.WriteFile(logPath, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	background(t, nil, "watch", "-o", "jsonl", "--state-dir", t.TempDir(), "--cluster-name", "live",
		"--forward", "otlp+http://"+addr+"/insert/opentelemetry/v1/logs", logPath)
	out, err := os.Create(outPath)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	// --history 1m: an event written before the tail connected is read too.
	background(t, out, "watch", "-o", "jsonl", "--history", "1m", "--vlogs-cluster", "live", "vlogs://"+addr)
	f, err := os.OpenFile(logPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var worst time.Duration
	for i := range 5 {
		now := time.Now().UTC()
		ts := now.Format(time.RFC3339Nano)
		line := strings.NewReplacer("2026-11-25T17:53:17.123456Z", ts, "2026-11-25T17:53:17.223456Z", ts).Replace(evLine(evID(i), evUser(i)))
		if _, err := f.WriteString(line + "\n"); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "event "+evID(i)+" read back through watch vlogs://", func() bool {
			b, _ := os.ReadFile(outPath)
			return strings.Contains(string(b), line+"\n")
		})
		worst = max(worst, time.Since(now))
	}
	t.Logf("5 events written to the log showed on watch vlogs:// (through watch --forward and VictoriaLogs), the slowest after %v", worst.Round(time.Millisecond))
}

// TestE2EVlogsWatchReconnect: VictoriaLogs restarts under a watch
// vlogs:// reader: the reader says the tail was lost, reconnects, says
// it is back, and prints every event once — those written before, while
// VictoriaLogs was down (the forwarder sends them once it is up again)
// and after.
func TestE2EVlogsWatchReconnect(t *testing.T) {
	kauditBin(t)
	port, data := freePort(t), t.TempDir()
	vl := vlNode(t, port, "-storageDataPath="+data)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	dir := t.TempDir()
	logPath, outPath, errPath := filepath.Join(dir, "audit.log"), filepath.Join(dir, "read.jsonl"), filepath.Join(dir, "read.err")
	if err := os.WriteFile(logPath, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	background(t, nil, "watch", "-o", "jsonl", "--state-dir", t.TempDir(), "--cluster-name", "live",
		"--forward", "otlp+http://"+addr+"/insert/opentelemetry/v1/logs", logPath)
	out, _ := os.Create(outPath)
	defer out.Close()
	errFile, _ := os.Create(errPath)
	defer errFile.Close()
	backgroundErr(t, out, errFile, "watch", "-o", "jsonl", "--history", "1m", "--vlogs-cluster", "live", "vlogs://"+addr)
	f, err := os.OpenFile(logPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	write := func(from, to int) {
		for i := from; i < to; i++ {
			ts := time.Now().UTC().Format(time.RFC3339Nano)
			line := strings.NewReplacer("2026-11-25T17:53:17.123456Z", ts, "2026-11-25T17:53:17.223456Z", ts).Replace(evLine(evID(i), evUser(i)))
			if _, err := f.WriteString(line + "\n"); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, line)
		}
	}
	printed := func() bool {
		b, _ := os.ReadFile(outPath)
		for _, l := range lines {
			if !strings.Contains(string(b), l+"\n") {
				return false
			}
		}
		return true
	}
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(outPath)
			e, _ := os.ReadFile(errPath)
			t.Logf("read back:\n%s\nreader stderr:\n%s", b, e)
		}
	})
	write(0, 3)
	waitUntil(t, "the first events read back", printed)
	vl.Process.Signal(syscall.SIGTERM)
	vl.Wait()
	waitUntil(t, "the reader to say the tail was lost", func() bool {
		b, _ := os.ReadFile(errPath)
		return strings.Contains(string(b), "live tail lost")
	})
	write(3, 6) // while VictoriaLogs is down: the forwarder keeps them
	time.Sleep(time.Second)
	vlNode(t, port, "-storageDataPath="+data)
	waitUntil(t, "the reader to say the tail is back", func() bool {
		b, _ := os.ReadFile(errPath)
		return strings.Contains(string(b), "live tail back after")
	})
	write(6, 9)
	waitUntil(t, "every event read back after the restart", printed)
	time.Sleep(2 * time.Second) // nothing more may come
	b, _ := os.ReadFile(outPath)
	if n := strings.Count(string(b), "\n"); n != len(lines) {
		t.Fatalf("%d lines printed for %d events:\n%s", n, len(lines), b)
	}
	e, _ := os.ReadFile(errPath)
	t.Logf("VictoriaLogs restarted under watch vlogs://: 9 events, each printed once; the reader said:\n%s", e)
}

// backgroundErr is background with stderr to errOut.
func backgroundErr(t *testing.T, stdout, errOut *os.File, args ...string) {
	t.Helper()
	cmd := exec.Command(kauditBin(t), args...)
	cmd.Stdout, cmd.Stderr = stdout, errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
}

// background starts kaudit with args until the test ends (SIGTERM).
func background(t *testing.T, stdout *os.File, args ...string) {
	t.Helper()
	cmd := exec.Command(kauditBin(t), args...)
	if stdout != nil {
		cmd.Stdout = stdout
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
}

// TestE2EVlogsCluster: VictoriaLogs in cluster mode (two storage nodes and
// a select/insert node, the same binary with -storageNode), two clusters
// forwarding: replay vlogs:// gives the tables of the two files merged.
// With a storage node down the select node (run with
// -search.allowPartialResponse) would answer part of the data as all of
// it; kaudit asks it not to, and fails naming the node. Restarted, the
// tables are whole again.
func TestE2EVlogsCluster(t *testing.T) {
	kauditBin(t)
	dataA, dataB := t.TempDir(), t.TempDir()
	portA, portB := freePort(t), freePort(t)
	vlNode(t, portA, "-storageDataPath="+dataA)
	nodeB := vlNode(t, portB, "-storageDataPath="+dataB)
	front := freePort(t)
	vlNode(t, front, "-storageDataPath="+t.TempDir(), "-search.allowPartialResponse",
		"-storageNode=127.0.0.1:"+strconv.Itoa(portA)+",127.0.0.1:"+strconv.Itoa(portB))
	addr := "127.0.0.1:" + strconv.Itoa(front)
	dir := t.TempDir()
	var paths []string
	for i, cluster := range []string{"eu", "us"} {
		g := gen.New(gen.Config{Seed: uint64(50 + i)})
		var data, line []byte
		for range 2000 {
			line = g.Next(line[:0])
			data = append(data, line...)
		}
		p := filepath.Join(dir, cluster+".log")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
		run(t, "replay", "-o", "table", "--state-dir", t.TempDir(), "--cluster-name", cluster,
			"--forward", "otlp+http://"+addr+"/insert/opentelemetry/v1/logs", p)
	}
	src := "vlogs://" + addr
	want := map[string]string{}
	for _, view := range []string{"users", "denials", "latency"} {
		_, want[view], _ = run(t, append([]string{"replay", "-o", "json", "--view", view}, paths...)...)
	}
	var last string // why the tables differed last, for the failure message
	same := func() bool {
		for _, view := range []string{"users", "denials", "latency"} {
			code, got, errOut := kaudit(t, "replay", "-o", "json", "--view", view, src)
			if code != exitOK || rows(got) != rows(want[view]) {
				last = fmt.Sprintf("%s: exit %d: %.300s\n%.300s\nwant %.300s", view, code, errOut, got, want[view])
				return false
			}
		}
		return true
	}
	defer func() {
		if t.Failed() {
			t.Log(last)
		}
	}()
	waitUntil(t, "the cluster's tables to equal the two files merged", same)

	nodeB.Process.Signal(syscall.SIGTERM)
	nodeB.Wait()
	code, out, errOut := kaudit(t, "replay", "-o", "json", "--view", "users", src)
	if code == exitOK || out != "" || !strings.Contains(errOut, "storage node") {
		t.Fatalf("a storage node down: exit %d, stdout %.200q, stderr %.300s", code, out, errOut)
	}
	vlNode(t, portB, "-storageDataPath="+dataB)
	waitUntil(t, "the tables to be whole again after the restart", same)
	t.Logf("cluster mode: tables hold the rows of the files merged; a storage node down fails the read (%s); restarted, whole again",
		strings.TrimSpace(errOut[:min(len(errOut), 120)]))
}

// rows is a JSON view's rows, sorted: the latency view orders rows of
// equal latency by input order, which differs between two files replayed
// one after the other and the same events read back in time order.
func rows(view string) string {
	lines := strings.Split(view, "\n")
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// vlNode starts a VictoriaLogs process on port until the test ends.
func vlNode(t *testing.T, port int, args ...string) *exec.Cmd {
	t.Helper()
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(receiversBin(t, "victoria-logs"), append(args, "-httpListenAddr="+addr, "-retentionPeriod=100y", "-loggerLevel=ERROR")...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	waitUntil(t, "VictoriaLogs on "+addr, func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return cmd
}
