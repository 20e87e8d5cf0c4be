package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
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
