package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/kaudit/kaudit/internal/goldenfile"
)

// kaudit runs the command as a user would and returns its exit code and output.
func kaudit(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

const fixtures = "../../testdata/public/"

// TestViewsGolden pins every view's output over real fixtures.
func TestViewsGolden(t *testing.T) {
	inputs := map[string][]string{
		"audit2rbac": {fixtures + "audit2rbac-demo-v1.jsonl"},
		"falco":      {fixtures + "falco-trace-files-k8s_audit.jsonl"},
		"sysdig":     {fixtures + "sysdig-aks-eventhubs-records.unwrapped.jsonl"},
		"eks":        {fixtures + "panther-eks-audit.jsonl"},
	}
	views := []string{"events", "users", "verbs", "resources", "namespaces", "codes", "latency", "denials"}
	for name, paths := range inputs {
		for _, view := range views {
			for _, format := range []string{"table", "json"} {
				if format == "json" && view == "events" {
					continue // the original events, checked in TestJSONLinesAreOriginalBytes
				}
				t.Run(name+"/"+view+"/"+format, func(t *testing.T) {
					args := append([]string{"replay", "--view", view, "-o", format}, paths...)
					code, out, _ := kaudit(t, "", args...)
					if code != exitOK {
						t.Fatalf("exit %d", code)
					}
					golden(t, filepath.Join("testdata", "golden", name+"-"+view+"."+format), out)
				})
			}
		}
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	goldenfile.Check(t, path, []byte(got))
}

// TestJSONLinesAreOriginalBytes: -o jsonl prints each distinct event once,
// in input order, byte for byte.
func TestJSONLinesAreOriginalBytes(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(fixtures + "elastic-mixed-k8s-gke-aks.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	// Lines 1-3 are audit events (2 and 3 identical); 4 (GKE) and 5 (AKS)
	// are cloud envelopes, whose events ingest/cloud takes out.
	code, out, stderr := kaudit(t, "", "replay", "-o", "jsonl", fixtures+"elastic-mixed-k8s-gke-aks.jsonl")
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got := strings.SplitAfter(out, "\n")
	if len(got) != 5 || got[4] != "" {
		t.Fatalf("jsonl output: want 4 events:\n%s", out)
	}
	for _, want := range []string{lines[0], lines[1], `"auditID":"1234abcd"`, `"username":"aksService"`} {
		if !slices.ContainsFunc(got, func(l string) bool { return l == want || (want[0] == '"' && strings.Contains(l, want)) }) {
			t.Errorf("jsonl output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(stderr, ":4: ") || strings.Contains(stderr, ":5: ") {
		t.Errorf("the cloud envelopes were reported:\n%s", stderr)
	}

	// The same events again, gzipped, are counted once.
	gz := filepath.Join(dir, "again.log.gz")
	writeGzip(t, gz, data)
	_, out2, _ := kaudit(t, "", "replay", "-o", "jsonl", fixtures+"elastic-mixed-k8s-gke-aks.jsonl", gz)
	if out2 != out {
		t.Errorf("replaying the same events twice printed:\n%s", out2)
	}
}

func writeGzip(t *testing.T, path string, data []byte) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(data)
	zw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBadInput: every kind of bad input is one warning naming file:line, a
// summary counts them, good events are kept, and the exit code follows
// the CLI contract (README, "Usage").
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile(fixtures + "sysdig-aks-eventhubs-records.unwrapped.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	goodLines := strings.SplitAfter(strings.TrimSpace(string(good)), "\n")
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	mixed := write("mixed.log", goodLines[0]+"{not json\n"+goodLines[1]+`{"kind":0}`+"\n"+goodLines[2]+"\n")
	empty := write("empty.log", "")
	binary := write("binary.log", "\x00\x01\x02ELF\x00\x00garbage")
	noAudit := filepath.Join(dir, "emptydir")
	os.Mkdir(noAudit, 0o755)

	tests := []struct {
		name     string
		args     []string
		code     int
		events   int
		warnings []string
	}{
		{"malformed and unrecognised lines between good ones", []string{mixed}, exitOK, 3,
			[]string{"mixed.log:2: ", "mixed.log:4: ", "1 malformed", "1 unrecognised"}},
		{"strict turns problems into exit 3", []string{"--strict", mixed}, exitProblems, 3, []string{"mixed.log:2: "}},
		{"empty file, binary file, missing path and empty directory next to a good file",
			[]string{empty, binary, filepath.Join(dir, "missing.log"), noAudit, mixed}, exitOK, 3,
			[]string{"empty.log", "binary.log", "missing.log", "emptydir"}},
		{"nothing readable at all", []string{filepath.Join(dir, "missing.log")}, exitError, 0, []string{"missing.log"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"replay", "-o", "jsonl"}, tt.args...)
			code, out, stderr := kaudit(t, "", args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, stderr)
			}
			if n := strings.Count(out, "\n"); n != tt.events {
				t.Errorf("%d events printed, want %d", n, tt.events)
			}
			for _, w := range tt.warnings {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}

func TestStdin(t *testing.T) {
	data, err := os.ReadFile(fixtures + "audit2rbac-demo-v1.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	code, out, stderr := kaudit(t, string(data), "replay", "-o", "jsonl", "-")
	if code != exitOK || out != string(data) {
		t.Errorf("exit %d, stderr %s; output equal to input: %v", code, stderr, out == string(data))
	}
}

func TestUsageErrors(t *testing.T) {
	tests := [][]string{
		{"replay"},
		{"replay", "--view", "nope", fixtures + "audit2rbac-demo-v1.jsonl"},
		{"replay", "-o", "yaml", fixtures + "audit2rbac-demo-v1.jsonl"},
		{"replay", "--no-such-flag", fixtures + "audit2rbac-demo-v1.jsonl"},
		{"no-such-command"},
	}
	for _, args := range tests {
		if code, _, stderr := kaudit(t, "", args...); code != exitUsage || stderr == "" {
			t.Errorf("%v: exit %d, stderr %q; want %d with a message", args, code, stderr, exitUsage)
		}
	}
}

func TestFlagsAfterPaths(t *testing.T) {
	_, before, _ := kaudit(t, "", "replay", "--view", "users", "-o", "table", fixtures+"audit2rbac-demo-v1.jsonl")
	_, after, _ := kaudit(t, "", "replay", fixtures+"audit2rbac-demo-v1.jsonl", "--view", "users", "-o", "table")
	if before != after || !strings.Contains(before, "system:admin (as bob)") {
		t.Errorf("flags before and after paths differ or lack impersonation:\n%s\n%s", before, after)
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := kaudit(t, "", "version")
	if code != exitOK || !regexp.MustCompile(`^kaudit \S+.* \(go1\.\d+`).MatchString(out) {
		t.Errorf("version: exit %d, %q", code, out)
	}
}

func TestTerminalSafety(t *testing.T) {
	dir := t.TempDir()
	// A user agent carrying an escape sequence that would clear the screen.
	line := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"11111111-1111-4111-8111-111111111111","stage":"ResponseComplete","requestURI":"/api/v1/pods","verb":"list","user":{"username":"evil\u001b[2J\u202e"},"userAgent":"x","objectRef":{"resource":"pods","apiVersion":"v1"},"responseStatus":{"code":200},"requestReceivedTimestamp":"2026-11-25T10:00:00.000000Z","stageTimestamp":"2026-11-25T10:00:00.100000Z"}`
	p := filepath.Join(dir, "audit.log")
	os.WriteFile(p, []byte(line+"\n"), 0o644)
	_, out, _ := kaudit(t, "", "replay", "--view", "users", "-o", "table", p)
	if strings.ContainsAny(out, "\x1b\u202e") || !strings.Contains(out, `evil\x1b[2J\u202e`) {
		t.Errorf("escape sequence not neutralised: %q", out)
	}
}
