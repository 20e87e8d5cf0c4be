package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	inputs := [][]string{
		{fixtures + "khi-oss-kind-requestresponse.jsonl", second},
		{"testdata/twoservers/cp1", "testdata/twoservers/cp2"},
		{fixtures + "audit2rbac-demo-v1.jsonl", fixtures + "audit2rbac-demo-v1.jsonl"},
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
	}
	forms := [][]string{
		{"-o", "jsonl"},
		{"-o", "json"},
		{"--jq", "[.auditID, .stage]"},
		{"--jq", ".objectRef.name | ascii_downcase"},
		{"-o", "jsonl", "--top", "3"},
	}
	defer func() { prefilterStore = true }()
	printed, raised := 0, 0
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
			}
		}
	}
	if printed < 10 || raised == 0 {
		t.Errorf("%d runs printed more than 2 lines, %d told of errors: the comparison shows little", printed, raised)
	}
}
