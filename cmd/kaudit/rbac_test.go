package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kaudit/kaudit/ingest"
	"github.com/kaudit/kaudit/store"
	"github.com/kaudit/kaudit/tui"
)

const realclusterRBAC = "../../testdata/realcluster/rbac-workload.jsonl"

// TestRBACGolden pins kaudit rbac's outputs over real denials.
func TestRBACGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"rbac-realcluster.table", []string{"rbac", realclusterRBAC}},
		{"rbac-realcluster-allowed.table", []string{"rbac", "--view", "allowed", realclusterRBAC}},
		{"rbac-realcluster-bob.yaml", []string{"rbac", "-o", "yaml", "--subject", "bob", realclusterRBAC}},
		{"rbac-realcluster-sa.json", []string{"rbac", "-o", "json", "--subject", "system:serviceaccount:*", "--no-resource-names", realclusterRBAC}},
		{"rbac-realcluster-team1.jsonl", []string{"rbac", "-o", "jsonl", "-f", "ns:team-1", realclusterRBAC}},
		{"rbac-audit2rbac.yaml", []string{"rbac", "-o", "yaml", fixtures + "audit2rbac-demo-v1beta1.jsonl"}},
		{"rbac-eks.table", []string{"rbac", fixtures + "panther-eks-audit.jsonl"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, _ := kaudit(t, "", tc.args...)
			if code != exitOK {
				t.Fatalf("exit %d", code)
			}
			golden(t, filepath.Join("testdata", "golden", tc.name), out)
		})
	}
}

func TestRBACFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string // in stdout or stderr
	}{
		{[]string{"rbac", "--view", "users", realclusterRBAC}, exitUsage, "unknown --view"},
		{[]string{"rbac", "-o", "tui", realclusterRBAC}, exitUsage, "unknown output format"},
		{[]string{"rbac", "--jq", ".", realclusterRBAC}, exitUsage, "--jq goes with kaudit replay"},
		{[]string{"rbac", "--subject", "[", realclusterRBAC}, exitUsage, "--subject"},
		{[]string{"rbac", "-f", ".verb ==", realclusterRBAC}, exitUsage, "--filter"},
		{[]string{"rbac"}, exitUsage, "requires at least 1 arg"},
		{[]string{"rbac", "/nonexistent/audit.log"}, exitError, "nonexistent"},
		{[]string{"rbac", "--since", "2030-01-01T00:00:00Z", "-o", "yaml", realclusterRBAC}, exitOK, "0 objects granting 0 permissions, for 0 denied requests"},
		{[]string{"rbac", "-o", "yaml", "--subject", "system:anonymous", realclusterRBAC}, exitOK, "kaudit: WARNING: RoleBinding team-1/kaudit:system:anonymous: UNAUTHENTICATED"},
		{[]string{"rbac", "--subject", "carol", realclusterRBAC}, exitOK, "carol"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out, errOut := kaudit(t, "", tc.args...)
			if code != tc.code || !strings.Contains(out+errOut, tc.want) {
				t.Errorf("exit %d, want %d; output lacks %q:\n%s%s", code, tc.code, tc.want, out, errOut)
			}
		})
	}
	// --subject keeps only that subject's rows.
	_, out, _ := kaudit(t, "", "rbac", "-o", "jsonl", "--subject", "carol", realclusterRBAC)
	if n := strings.Count(out, "\n"); n != 2 || strings.Count(out, `"subject":"carol"`) != 2 {
		t.Errorf("--subject carol gave %d rows:\n%s", n, out)
	}
}

// TestRBACBadInput: malformed lines are reported with file:line and the
// denials around them still count.
func TestRBACBadInput(t *testing.T) {
	code, out, errOut := kaudit(t, "{not json\n"+`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/x/secrets","verb":"list","user":{"username":"eve"},"objectRef":{"resource":"secrets","namespace":"x","apiVersion":"v1"},"responseStatus":{"code":403},"annotations":{"authorization.k8s.io/decision":"forbid","authorization.k8s.io/reason":""}}`+"\n",
		"rbac", "-o", "yaml", "--include-risky", "-")
	if code != exitOK || !strings.Contains(errOut, "<stdin>:1:") || !strings.Contains(out, "resources:\n  - secrets\n") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

// TestSuggestForTUI: the Denials tab's rows (subject, verb, resource,
// namespace) select the denials the suggestion covers, whatever their names.
func TestSuggestForTUI(t *testing.T) {
	st := store.New()
	r := &ingest.Replay{Paths: []string{realclusterRBAC}}
	if _, err := r.Run(context.Background(), func(b ingest.Batch) error {
		st.Append(b.Events, b.Raw, b.Offsets)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	yaml, warnings := suggestFor(st)([]tui.DenialKey{
		{Subject: "alice", Verb: "get", Resource: "secrets", Namespace: "team-1"},
		{Subject: "bob", Verb: "patch", Resource: "deployments.apps/scale", Namespace: "team-1"},
	})
	// The secrets grant is risky: withheld, commented out, for review.
	for _, want := range []string{"#   resourceNames:\n#   - db-creds\n", "# WITHHELD (2 objects)", "resources:\n  - deployments/scale\n", "resourceNames:\n  - web\n", "kaudit rbac: 2 objects granting 1 permissions, for 1 denied requests"} {
		if !strings.Contains(yaml, want) {
			t.Errorf("YAML lacks %q:\n%s", want, yaml)
		}
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "SENSITIVE: get on secrets db-creds") {
		t.Errorf("warnings %q", warnings)
	}
}
