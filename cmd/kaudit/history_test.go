package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kaudit/kaudit/history"
	"github.com/kaudit/kaudit/ingest"
	"github.com/kaudit/kaudit/store"
)

const historyLog = "../../history/testdata/generated.jsonl"

// TestHistoryGolden pins kaudit history's outputs; the history package's
// own goldens cover the rendering of every kind of revision.
func TestHistoryGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"history-deployment.table", []string{"history", "deployments.apps/prod/web", historyLog}},
		{"history-deployment-nodiff.jsonl", []string{"history", "-o", "jsonl", "--no-diff", "deployments.apps/prod/web", historyLog}},
		{"history-deleted.table", []string{"history", "--deleted", "-f", "ns:prod,tmp,staging", historyLog}},
		{"history-deleted-deployments.json", []string{"history", "--deleted", "-o", "json", "-f", "resource:deployments ns:prod", historyLog}},
		{"history-filter.table", []string{"history", "--no-diff", "-f", "user:bob", historyLog}},
		{"history-falco-configmap.table", []string{"history", "--no-diff", "configmaps/default/my-config", fixtures + "falco-trace-files-k8s_audit.jsonl"}},
		{"rbac-history-revoked.table", []string{"rbac", historyLog}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := kaudit(t, "", tc.args...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			golden(t, filepath.Join("testdata", "golden", tc.name), out)
		})
	}
}

func TestHistoryFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string // in stdout or stderr
	}{
		{[]string{"history", "pods", historyLog}, exitUsage, "want RESOURCE"},
		{[]string{"history", "pods/a/b"}, exitUsage, "no PATH"},
		{[]string{"history", "-o", "yaml", "pods/a/b", historyLog}, exitUsage, "unknown output format"},
		{[]string{"history", "--jq", ".", "pods/a/b", historyLog}, exitUsage, "--jq goes with"},
		{[]string{"history", "pods/a/b", "/nonexistent/audit.log"}, exitError, "nonexistent"},
		{[]string{"history", "pods/nowhere/none", historyLog}, exitOK, "0 requests, 0 revisions"},
		{[]string{"history", "--show-noise", "deployments.apps/prod/web", historyLog}, exitOK, "managedFields"},
		{[]string{"history", "secrets/prod/db", historyLog}, exitOK, "password: <redacted sha256:"},
		{[]string{"history", "--show-secrets", "secrets/prod/db", historyLog}, exitOK, "password: aHVudGVyMg=="},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out, errOut := kaudit(t, "", tc.args...)
			if code != tc.code || !strings.Contains(out+errOut, tc.want) {
				t.Errorf("exit %d, want %d; output lacks %q:\n%s%s", code, tc.code, tc.want, out, errOut)
			}
		})
	}
	// The escape sequence in a patched key never reaches the terminal raw.
	_, out, _ := kaudit(t, "", "history", "configmaps/prod/settings", historyLog)
	if strings.Contains(out, "\x1b") {
		t.Errorf("raw escape in output:\n%q", out)
	}
}

func TestHistoryFor(t *testing.T) {
	st := store.New()
	r := &ingest.Replay{Paths: []string{historyLog}}
	if _, err := r.Run(context.Background(), func(b ingest.Batch) error {
		st.Append(b.Events, b.Raw, b.Offsets)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for id := store.ID(0); id < store.ID(st.Len()); id++ {
		if e := st.Entry(id); e.Object.Resource == "deployments" {
			h, err := historyFor(st, id)
			if err != nil || h.Title != "deployments.apps/prod/web: 12 requests, 8 revisions" || len(h.Entries) != 12 {
				t.Fatalf("historyFor: %v\n%+v", err, h)
			}
			// The UI's diffs are kaudit history's, entry by entry.
			ref, _ := history.ParseRef("deployments.apps/prod/web")
			reqs, err := history.Load(st, ref)
			if err != nil {
				t.Fatal(err)
			}
			steps := history.Rebuild(ref, reqs)
			diffs, noisy := history.Diffs(steps, false), history.Diffs(steps, true)
			withDiff := 0
			for i, e := range h.Entries {
				if e.Diff == nil {
					if diffs[i] != "" {
						t.Errorf("entry %d: no diff in the UI, kaudit history has\n%s", i, diffs[i])
					}
					continue
				}
				withDiff++
				if got := e.Diff(false); got != diffs[i] {
					t.Errorf("entry %d: diff\n%s\nwant\n%s", i, got, diffs[i])
				}
				if got := e.Diff(true); got != noisy[i] {
					t.Errorf("entry %d: noisy diff\n%s\nwant\n%s", i, got, noisy[i])
				}
			}
			if withDiff == 0 {
				t.Error("no entry has a diff")
			}
			break
		}
	}
}
