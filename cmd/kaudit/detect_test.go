package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kaudit/kaudit/ingest"
	"github.com/kaudit/kaudit/query"
	"github.com/kaudit/kaudit/store"
)

const detectFixtures = "../../detect/testdata/"

type hitLine struct {
	Rule      string          `json:"rule"`
	Severity  string          `json:"severity"`
	Technique string          `json:"technique"`
	AuditID   string          `json:"auditID"`
	Event     json.RawMessage `json:"event"`
}

func detectJSONL(t *testing.T, args ...string) []hitLine {
	t.Helper()
	code, out, errOut := kaudit(t, "", append([]string{"detect", "-o", "jsonl"}, args...)...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var hits []hitLine
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if l == "" {
			continue
		}
		var h hitLine
		if err := json.Unmarshal([]byte(l), &h); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		var ev struct {
			AuditID string `json:"auditID"`
		}
		if err := json.Unmarshal(h.Event, &ev); err != nil || ev.AuditID != h.AuditID {
			t.Fatalf("hit %s: event %.80s does not carry auditID %s (%v)", h.Rule, h.Event, h.AuditID, err)
		}
		hits = append(hits, h)
	}
	return hits
}

func has(hits []hitLine, rule, auditID string) bool {
	for _, h := range hits {
		if h.Rule == rule && h.AuditID == auditID {
			return true
		}
	}
	return false
}

func TestDetectJSONLines(t *testing.T) {
	hits := detectJSONL(t, detectFixtures+"handmade/events.jsonl")
	want := map[string]string{
		"impersonate-privileged": "6b617564-6974-0000-0000-000000000001",
		"privileged-pod":         "6b617564-6974-0000-0000-00000000001d",
		"csr-approved":           "6b617564-6974-0000-0000-000000000005",
	}
	for rule, id := range want {
		if !has(hits, rule, id) {
			t.Errorf("no %s hit on %s", rule, id)
		}
	}
	if has(hits, "csr-approved", "6b617564-6974-0000-0000-000000000006") {
		t.Error("the certificate controller's approval is a hit (system-principal not applied)")
	}
	for _, h := range hits {
		if h.Severity == "" {
			t.Errorf("hit %s without severity", h.Rule)
		}
	}
}

func TestDetectSeverityAndSuppress(t *testing.T) {
	all := detectJSONL(t, detectFixtures+"handmade/events.jsonl")
	high := detectJSONL(t, "--severity", "high", detectFixtures+"handmade/events.jsonl")
	if len(high) == 0 || len(high) >= len(all) {
		t.Fatalf("--severity high kept %d of %d hits", len(high), len(all))
	}
	for _, h := range high {
		if h.Severity != "high" && h.Severity != "critical" {
			t.Errorf("--severity high printed a %s hit (%s)", h.Severity, h.Rule)
		}
	}
	sup := detectJSONL(t, "--suppress", "user:mallory", detectFixtures+"handmade/events.jsonl")
	if len(sup) >= len(all) {
		t.Fatalf("--suppress user:mallory kept %d of %d hits", len(sup), len(all))
	}
	if has(sup, "impersonate-privileged", "6b617564-6974-0000-0000-000000000001") {
		t.Error("--suppress user:mallory kept mallory's hit")
	}
	raw := detectJSONL(t, "--no-suppress", "--rule", "csr-approved", detectFixtures+"handmade/events.jsonl")
	if !has(raw, "csr-approved", "6b617564-6974-0000-0000-000000000006") {
		t.Error("--no-suppress still suppressed the certificate controller")
	}
}

func TestDetectTableAndJSON(t *testing.T) {
	code, out, _ := kaudit(t, "", "detect", "-o", "table", detectFixtures+"handmade/events.jsonl", detectFixtures+"handmade/thresholds.jsonl")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	golden(t, filepath.Join("testdata", "golden", "detect-handmade.table"), out)

	code, out, _ = kaudit(t, "", "detect", "-o", "json", detectFixtures+"handmade/events.jsonl")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	var doc struct {
		Rules []struct {
			Rule string `json:"rule"`
			Hits int    `json:"hits"`
		} `json:"rules"`
		Hits []hitLine `json:"hits"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range doc.Rules {
		n += r.Hits
	}
	if len(doc.Rules) < 20 || n != len(doc.Hits) || n != len(detectJSONL(t, detectFixtures+"handmade/events.jsonl")) {
		t.Errorf("json: %d rules, %d counted hits, %d hits", len(doc.Rules), n, len(doc.Hits))
	}
}

func TestDetectExplain(t *testing.T) {
	code, out, errOut := kaudit(t, "", "detect", "--explain", "privileged-pod", "-f", "auditid:6b617564-6974-0000-0000-00000000001d,6b617564-6974-0000-0000-00000000001f",
		detectFixtures+"handmade/events.jsonl")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	blocks := strings.Split(strings.TrimSpace(out), "\nprivileged-pod ")
	if len(blocks) != 2 {
		t.Fatalf("want 2 explanations, got:\n%s", out)
	}
	if !strings.Contains(blocks[0], ": HIT") || !strings.Contains(blocks[0], "✓ held   .verb == \"create\"") {
		t.Errorf("the privileged init container is not explained as a hit:\n%s", blocks[0])
	}
	if !strings.Contains(blocks[1], "no hit") || !strings.Contains(blocks[1], "suppression system-workload: matched (suppressed)") {
		t.Errorf("the kube-system DaemonSet pod is not explained as suppressed:\n%s", blocks[1])
	}
}

func TestDetectRulesDir(t *testing.T) {
	dir := t.TempDir()
	rule := `rules:
  - name: mallory-anything
    severity: critical
    description: Anything mallory does.
    filter: user:mallory
    suppress: []
`
	if err := os.WriteFile(filepath.Join(dir, "mine.yaml"), []byte(rule), 0o600); err != nil {
		t.Fatal(err)
	}
	hits := detectJSONL(t, "--no-builtin", "--rules", dir, detectFixtures+"handmade/events.jsonl")
	if len(hits) == 0 {
		t.Fatal("no hits from --rules")
	}
	for _, h := range hits {
		if h.Rule != "mallory-anything" || h.Severity != "critical" {
			t.Errorf("unexpected hit %+v", h)
		}
	}
	code, out, _ := kaudit(t, "", "detect", "--list", "--rules", dir)
	if code != exitOK || !strings.Contains(out, "mallory-anything") || !strings.Contains(out, "privileged-pod") {
		t.Errorf("--list with --rules: exit %d\n%s", code, out)
	}
}

func TestDetectUsageErrors(t *testing.T) {
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "x.yaml"), []byte("rules:\n  - name: x\n    severity: urgent\n"), 0o600)
	for _, args := range [][]string{
		{"detect", "--rule", "no-such-rule", detectFixtures + "handmade/events.jsonl"},
		{"detect", "--explain", "no-such-rule", detectFixtures + "handmade/events.jsonl"},
		{"detect", "--severity", "bogus", detectFixtures + "handmade/events.jsonl"},
		{"detect", "--rules", bad, detectFixtures + "handmade/events.jsonl"},
		{"detect", "--suppress", "user:", detectFixtures + "handmade/events.jsonl"},
		{"detect", "-o", "yaml", detectFixtures + "handmade/events.jsonl"},
		{"detect"},
	} {
		if code, _, _ := kaudit(t, "", args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
}

func TestDetectExplainThreshold(t *testing.T) {
	// The first hand-made threshold case: mallory reads s0…s11 in two minutes.
	code, out, errOut := kaudit(t, "", "detect", "--explain", "secret-enumeration", "--top", "12", detectFixtures+"handmade/thresholds.jsonl")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		`s0: no hit yet: 1 of 10 for subject "mallory"`,
		`s8: no hit yet: 9 of 10 for subject "mallory"`,
		`s9: HIT: 10 of 10 for subject "mallory"`,
		`s10: no hit: subject "mallory" fired less than 10m0s ago`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
}

// TestLiveDetectOnStored feeds batches as the pipeline's writer would and
// checks that hits are printed once each, as they arrive.
func TestLiveDetectOnStored(t *testing.T) {
	var out, errOut strings.Builder
	e := &env{stdout: &out, stderr: &errOut}
	var f liveDetectFlags
	f.only, f.df.minSev = true, "medium"
	st := store.New()
	keep, _ := query.Compile("")
	onStored, err := f.onStored(context.Background(), e, st, keep)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(strings.TrimSpace(readTestFile(t, detectFixtures+"handmade/events.jsonl")), "\n")
	half := len(lines) / 2
	for _, part := range [][]string{lines[:half], lines[half:]} {
		r := &ingest.Replay{Paths: []string{"-"}, Stdin: strings.NewReader(strings.Join(part, ""))}
		if _, err := r.Run(context.Background(), func(b ingest.Batch) error {
			st.Append(b.Events, b.Raw, b.Offsets)
			onStored(b)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	batch := detectJSONL(t, "--severity", "medium", detectFixtures+"handmade/events.jsonl")
	got := strings.Count(out.String(), "\n")
	if got != len(batch) || errOut.Len() > 0 {
		t.Errorf("live: %d hits, batch: %d; stderr: %s", got, len(batch), errOut.String())
	}
}

func readTestFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestWatchDetectOnly follows a log with --detect-only: hits stream as they
// come (one JSON line each), events are not printed, and a line appended
// later is checked too.
func TestWatchDetectOnly(t *testing.T) {
	lines := strings.SplitAfter(strings.TrimSpace(readTestFile(t, detectFixtures+"handmade/events.jsonl")), "\n")
	log := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(log, []byte(strings.Join(lines[:len(lines)-1], "")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	want := detectJSONL(t, "--severity", "high", detectFixtures+"handmade/events.jsonl")
	w := startWatch(t, "-o", "jsonl", "--detect-only", "--severity", "high", "--no-state", "--history", "all", log)
	// The last line (a cluster-wide secret list, medium) is not a high hit:
	// every high hit is in the first part.
	w.waitLines(t, len(want))
	f, err := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"6b617564-6974-0000-0000-0000000000ff","stage":"ResponseComplete","requestURI":"/apis/rbac.authorization.k8s.io/v1/clusterroles/system:node","verb":"patch","user":{"username":"mallory"},"sourceIPs":["203.0.113.9"],"objectRef":{"resource":"clusterroles","name":"system:node","apiGroup":"rbac.authorization.k8s.io","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200},"requestReceivedTimestamp":"2026-03-02T10:20:00.000000Z","stageTimestamp":"2026-03-02T10:20:00.004000Z"}` + "\n")
	f.Close()
	got := w.waitLines(t, len(want)+1)
	if code := w.stop(t); code != exitOK {
		t.Fatalf("exit %d: %s", code, w.errOut.String())
	}
	for i, l := range got {
		var h hitLine
		if err := json.Unmarshal([]byte(l), &h); err != nil || h.Rule == "" || h.Severity != "high" {
			t.Errorf("line %d is not a high hit: %.120s (%v)", i, l, err)
		}
	}
	if last := got[len(got)-1]; !strings.Contains(last, `"rule":"system-clusterrole-modified"`) {
		t.Errorf("the appended line's hit is missing; last line: %.120s", last)
	}
	for _, args := range [][]string{
		{"watch", "--detect-only", "-o", "table", "--no-state", log},
		{"serve", "--detect-only", "-o", "json", "--no-state", "--listen", "127.0.0.1:0"},
		{"watch", "--detect-only", "--rules", t.TempDir(), "--no-state", log},
	} {
		if code, _, errOut := kaudit(t, "", args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d (%s)", args, code, exitUsage, errOut)
		}
	}
}

// TestDetectUIFeed feeds batches through a --detect feed as the pipeline's
// writer would: the UI's log gets the same hits as kaudit detect finds,
// incrementally, before the UI is woken.
func TestDetectUIFeed(t *testing.T) {
	var f liveDetectFlags
	f.ui, f.df.minSev = true, "medium"
	fd := newLiveFeed("test", nil)
	if err := f.attachUI(context.Background(), fd); err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(strings.TrimSpace(readTestFile(t, detectFixtures+"handmade/events.jsonl")), "\n")
	half := len(lines) / 2
	var after []int
	for _, part := range [][]string{lines[:half], lines[half:]} {
		r := &ingest.Replay{Paths: []string{"-"}, Stdin: strings.NewReader(strings.Join(part, ""))}
		if _, err := r.Run(context.Background(), func(b ingest.Batch) error {
			fd.st.Append(b.Events, b.Raw, b.Offsets)
			fd.noted(b)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		after = append(after, len(fd.detections.Kept()))
	}
	batch := detectJSONL(t, "--severity", "medium", detectFixtures+"handmade/events.jsonl")
	hits, ids := fd.detections.Kept(), fd.detections.Flagged(func(string) bool { return true })
	if len(hits) != len(batch) || fd.detectErr != "" || after[0] == 0 || after[0] >= after[1] {
		t.Fatalf("UI log: %d hits (%v per half), batch: %d; err %q", len(hits), after, len(batch), fd.detectErr)
	}
	for _, h := range hits {
		id := fd.st.Entry(h.ID).AuditID
		if !has(batch, h.Rule, string(id)) || !ids.Contains(h.ID) {
			t.Errorf("UI hit %s on %s: not in kaudit detect's output, or not marked", h.Rule, id)
		}
	}
}

func TestDetectNeedsUI(t *testing.T) {
	if code, _, _ := kaudit(t, "", "watch", "--detect", "-o", "jsonl", detectFixtures+"handmade/events.jsonl"); code != exitUsage {
		t.Errorf("watch --detect -o jsonl: exit %d, want %d", code, exitUsage)
	}
	if code, _, _ := kaudit(t, "", "replay", "--detect", "-o", "jsonl", detectFixtures+"handmade/events.jsonl"); code != exitUsage {
		t.Errorf("replay --detect -o jsonl: exit %d, want %d", code, exitUsage)
	}
}
