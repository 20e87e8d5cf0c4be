package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
	for _, view := range []string{"users", "denials", "latency", "verbs"} {
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
