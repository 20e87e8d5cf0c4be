package main

import (
	"strings"
	"testing"
)

// TestLazyPostingsSameOutput: a headless run whose store builds its
// postings only when a filter first asks (lazyPostings) prints the same as
// one keeping them from the start, for every view and output format, with
// and without filters, and for the other commands that read a whole log
// into a store (rbac, history, detect).
func TestLazyPostingsSameOutput(t *testing.T) {
	inputs := [][]string{
		{"../../testdata/sample"}, // rotated .gz files overlapping the current log
		{"testdata/twoservers/cp1", "testdata/twoservers/cp2"},
		{"../../testdata/realcluster/rbac-workload.jsonl", fixtures + "audit2rbac-demo-v1.jsonl", fixtures + "panther-eks-audit.jsonl"},
	}
	var runs [][]string
	for _, v := range viewNames() {
		runs = append(runs, []string{"replay", "--view", v, "-o", "table"})
		runs = append(runs, []string{"replay", "--view", v, "-o", "json", "-f", "verb:get,list,watch -user:bob"})
	}
	runs = append(runs,
		[]string{"replay", "--view", "users", "-o", "jsonl"},
		[]string{"replay", "-o", "jsonl", "-f", `.verb == "update" or .user.username == "system:kube-scheduler"`},
		[]string{"replay", "--jq", "[.auditID, .stage]", "-f", "code:2xx -user:system:*"},
		[]string{"replay", "--view", "users", "-o", "table", "--top", "3", "-f", "denied"},
		[]string{"rbac"},
		[]string{"rbac", "-o", "yaml"},
		[]string{"detect"},
		[]string{"history", "--deleted"},
	)
	defer func() { lazyPostings = true }()
	printed := 0
	for _, in := range inputs {
		for _, run := range runs {
			args := append(append([]string{}, run...), in...)
			lazyPostings = false
			wantCode, want, wantErr := kaudit(t, "", args...)
			lazyPostings = true
			code, got, gotErr := kaudit(t, "", args...)
			if code != wantCode || got != want || gotErr != wantErr {
				t.Errorf("%q: lazy exit %d:\n%s\n%s\nkept exit %d:\n%s\n%s", args, code, got, gotErr, wantCode, want, wantErr)
			}
			if strings.Count(want, "\n") > 2 {
				printed++
			}
		}
	}
	if printed < len(runs) {
		t.Errorf("only %d of %d runs printed more than 2 lines: the comparison shows little", printed, len(inputs)*len(runs))
	}
}
