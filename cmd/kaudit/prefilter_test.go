package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kaudit/kaudit/gen"
	"github.com/kaudit/kaudit/ingest"
)

// TestPrefilterStoreSameOutput: leaving the events the filter rules out of
// the store (prefilterStore) prints the same as storing them all, over
// inputs with duplicates across files, a request's several stages and a
// malformed line, for -o jsonl, -o json, --jq and --top.
func TestPrefilterStoreSameOutput(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(fixtures + "khi-oss-kind-requestresponse.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	// The same events again in a second file, and a malformed line.
	half := lines[:len(lines)/2]
	second := filepath.Join(dir, "second.log")
	if err := os.WriteFile(second, []byte(strings.Join(half, "")+"{not json\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mixed, late := mixedLog(t, dir), lateLog(t, dir)
	inputs := [][]string{
		{fixtures + "khi-oss-kind-requestresponse.jsonl", second},
		{"testdata/twoservers/cp1", "testdata/twoservers/cp2"},
		{fixtures + "audit2rbac-demo-v1.jsonl", fixtures + "audit2rbac-demo-v1.jsonl"},
		{mixed},
		{mixed, fixtures + "audit2rbac-demo-v1.jsonl"},
		{late},
	}
	filters := []string{
		`.verb == "update"`,
		`.stage == "ResponseComplete" and .user.username == "system:kube-scheduler"`,
		`.objectRef.namespace == "kube-system" or .verb == "delete"`,
		`.objectRef.resource == "nothing-is-this"`,
		`.responseStatus.code == 200`,
		// These raise errors on some events (no objectRef.name, a number
		// to test): the messages are compared too.
		`.verb == "get" and (.responseStatus.code | ascii_downcase) == "x"`,
		`(.responseStatus.code | ascii_downcase) == "kube-scheduler"`,
		`.responseStatus.code == 403 and .objectRef.namespace == "kube-system"`,
		`.responseStatus.code == 403`,
		`.user.username == "bob"`,
		`any(.requestObject.spec.containers[]?; .securityContext.privileged == true)`,
	}
	forms := [][]string{
		{"-o", "jsonl"},
		{"-o", "json"},
		{"--jq", "[.auditID, .stage]"},
		{"--jq", ".objectRef.name | ascii_downcase"},
		{"-o", "jsonl", "--top", "3"},
	}
	defer func() { prefilterStore = true }()
	printed, raised, problems, lates := 0, 0, 0, 0
	for _, in := range inputs {
		for _, f := range filters {
			for _, form := range forms {
				args := append(append([]string{"replay", "-f", f}, form...), in...)
				prefilterStore = false
				wantCode, want, wantErr := kaudit(t, "", args...)
				prefilterStore = true
				code, got, gotErr := kaudit(t, "", args...)
				if code != wantCode || got != want || gotErr != wantErr {
					t.Errorf("%q: with the pre-filter exit %d:\n%s\n%s\nwithout exit %d:\n%s\n%s", args, code, got, gotErr, wantCode, want, wantErr)
				}
				if strings.Count(want, "\n") > 2 {
					printed++
				}
				if strings.Contains(wantErr, "raised an error") {
					raised++
				}
				if strings.Contains(wantErr, "malformed") && strings.Contains(wantErr, "invalid UTF-8") {
					problems++
				}
				if strings.Contains(wantErr, "out of time order") {
					lates++
				}
			}
		}
	}
	if printed < 10 || raised == 0 || problems == 0 || lates == 0 {
		t.Errorf("%d runs printed more than 2 lines, %d told of errors, %d of bad lines, %d of late events: the comparison shows little",
			printed, raised, problems, lates)
	}
}

// mixedLog writes a log of real events with bad lines among them, each of
// which the replay must report the same whether or not the pre-filter
// spares it the decoding: malformed JSON, invalid UTF-8, an event without
// an auditID, a bad time or status code, an EventList, the legacy text
// format, duplicates, CRLF, documents that are no events, and spellings
// the pre-filter must not rule out (403.0, escaped keys). Good events
// follow the bad lines.
func mixedLog(t *testing.T, dir string) string {
	t.Helper()
	data, err := os.ReadFile(fixtures + "audit2rbac-demo-v1.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	base := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	var b strings.Builder
	add := func(l string) { b.WriteString(l + "\n") }
	for i, l := range base {
		add(l)
		switch i {
		case 1:
			add("{not json")
		case 2:
			add(strings.Replace(l, `"verb":"`, "\"verb\":\"\xff", 1))
		case 3:
			add(strings.Replace(l, `"auditID":"`, `"auditID":"","was":"`, 1))
		case 4:
			add(strings.Replace(l, `"stageTimestamp":"`, `"stageTimestamp":"bogus","was":"`, 1))
		case 5:
			add(strings.Replace(l, `"code":`, `"code":7`, 1))
		case 6:
			add(`{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[` + base[10] + "," + base[11] + "]}")
		case 7:
			add(`2024-01-02T03:04:05.000000000Z AUDIT: id="x" ip="1.2.3.4" method="get"`)
		case 8:
			add(base[2])
			add("")
			add(base[12] + "\r")
		case 9:
			add(`{"kind":"Pod"}`)
			add("null")
			add("[]")
			add("403")
		case 10:
			add(strings.Replace(l, `"code":403`, `"code":403.0`, 1))
			add(strings.Replace(strings.Replace(base[11], `"code":`, `"\u0063ode":`, 1), `"namespace":`, `"n\u0061mespace":`, 1))
			add(strings.Replace(base[13], `"username":"`, `"\u0075sername":"`, 1))
			add(strings.Replace(base[14], `"auditID":"`, `"auditID":"\u00e9`, 1))
		}
	}
	path := filepath.Join(dir, "mixed.log")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// lateLog writes more than a reorder window of generated events with the
// first moved to the end: the replay counts it late, stored or not.
func lateLog(t *testing.T, dir string) string {
	t.Helper()
	g := gen.New(gen.Config{Seed: 3})
	first := g.Next(nil)
	var b []byte
	for range ingest.DefaultWindow + 100 {
		b = g.Next(b)
	}
	b = append(b, first...)
	path := filepath.Join(dir, "late.log")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
