package policy

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kaudit/kaudit/internal/goldenfile"
)

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", "golden", name), got)
}

func TestCheckReferencePolicies(t *testing.T) {
	for _, tt := range []struct {
		file  string
		kinds []string
	}{
		{"policy-datadog.yaml", []string{KindStrict}},
		{"policy-datadog-fixed.yaml", nil},
		{"policy-allstages.yaml", []string{KindStrict, KindRequestReceived, KindRequestReceived, KindRequestReceived, KindRequestReceived}},
	} {
		t.Run(tt.file, func(t *testing.T) {
			fs := CheckBytes(readTestdata(t, tt.file))
			if got := kinds(fs); !slices.Equal(got, tt.kinds) {
				t.Errorf("findings %v, want %v", fs, tt.kinds)
			}
			b, err := json.MarshalIndent(fs, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, strings.TrimSuffix(tt.file, ".yaml")+".check.json", append(b, '\n'))
		})
	}
}

func kinds(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Kind)
	}
	return out
}

const head = "apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n"

// TestCheckKinds: one policy per finding kind, each with where it is found.
func TestCheckKinds(t *testing.T) {
	tests := []struct {
		name  string
		rules string // after "rules:\n"
		want  []Finding
	}{
		{"clean", `
- level: None
  users: [system:kube-proxy]
  verbs: [watch]
- level: Metadata
  resources: [{group: "", resources: [secrets, configmaps]}]
- level: RequestResponse
  verbs: [create]
  resources: [{group: "", resources: [pods]}]
- level: Metadata
`, nil},
		{"strict: misplaced verbs", `
- level: RequestResponse
  resources:
  - group: ""
    resources: [pods]
    verbs: [create]
- level: Metadata
`, []Finding{{Kind: KindStrict, Line: 9, Rule: 0}}},
		{"strict: duplicate field", `
- level: Metadata
  level: None
`, []Finding{{Kind: KindStrict, Line: 6, Rule: -1}}},
		{"strict: unknown top-level field", `
- level: Metadata
omitstages: [RequestReceived]
`, []Finding{{Kind: KindStrict, Line: 6, Rule: -1}}},
		{"shadowed by catch-all", `
- level: Metadata
- level: None
  nonResourceURLs: [/healthz*]
`, []Finding{{Kind: KindShadowed, Line: 6, Rule: 1}}},
		{"shadowed by a broader resource rule", `
- level: Metadata
  resources: [{group: "*"}]
- level: None
  users: [bob]
  verbs: [get]
  namespaces: [dev]
  resources: [{group: apps, resources: [deployments/status]}]
- level: Metadata
`, []Finding{{Kind: KindShadowed, Line: 7, Rule: 1}}},
		{"shadowed url prefix", `
- level: None
  nonResourceURLs: ["/healthz*"]
- level: Metadata
  nonResourceURLs: ["/healthz/etcd"]
- level: Metadata
`, []Finding{{Kind: KindShadowed, Line: 7, Rule: 1}}},
		{"not shadowed: narrower first", `
- level: None
  users: [alice]
- level: Metadata
  nonResourceURLs: ["/healthz"]
- level: RequestResponse
  userGroups: [dev]
  resources: [{group: "", resources: [pods]}]
- level: Metadata
  userGroups: [dev, qa]
  resources: [{group: "", resources: [pods]}]
- level: Metadata
`, nil},
		{"sensitive: secrets at RequestResponse", `
- level: RequestResponse
  resources: [{group: "", resources: [secrets, pods]}]
- level: Metadata
`, []Finding{{Kind: KindSensitiveBody, Line: 5, Rule: 0}}},
		{"sensitive: token subresource for one user", `
- level: Request
  users: [ci-bot]
  verbs: [create]
  resources: [{group: "", resources: ["*/token"]}]
- level: Metadata
`, []Finding{{Kind: KindSensitiveBody, Line: 5, Rule: 0}}},
		{"sensitive: everything at Request", `
- level: None
  nonResourceURLs: ["*"]
- level: Request
`, []Finding{
			{Kind: KindSensitiveBody, Line: 7, Rule: 1}, {Kind: KindSensitiveBody, Line: 7, Rule: 1},
			{Kind: KindSensitiveBody, Line: 7, Rule: 1}, {Kind: KindSensitiveBody, Line: 7, Rule: 1},
			{Kind: KindWebhookUnsafe, Line: 7, Rule: 1}}},
		{"not sensitive: Metadata first", `
- level: Metadata
  resources: [{group: "", resources: [secrets, configmaps, serviceaccounts/token]}, {group: authentication.k8s.io, resources: [tokenreviews]}]
- level: RequestResponse
  resources: [{group: ""}, {group: authentication.k8s.io}]
- level: Metadata
`, nil},
		{"no catch-all", `
- level: Metadata
  verbs: [create, delete]
`, []Finding{{Kind: KindNoCatchAll, Line: 5, Rule: -1}}},
		{"webhook-unsafe: group star", `
- level: RequestResponse
  verbs: [create]
  resources: [{group: "*", resources: ["*"]}]
- level: Metadata
`, []Finding{
			{Kind: KindSensitiveBody, Line: 5, Rule: 0}, {Kind: KindSensitiveBody, Line: 5, Rule: 0},
			{Kind: KindSensitiveBody, Line: 5, Rule: 0}, {Kind: KindSensitiveBody, Line: 5, Rule: 0},
			{Kind: KindWebhookUnsafe, Line: 5, Rule: 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := CheckBytes([]byte(head + strings.TrimPrefix(tt.rules, "\n")))
			if len(fs) != len(tt.want) {
				t.Fatalf("findings:\n%v\nwant %v", fs, tt.want)
			}
			for i, f := range fs {
				w := tt.want[i]
				if f.Kind != w.Kind || f.Line != w.Line || f.Rule != w.Rule || f.Message == "" {
					t.Errorf("finding %d = %+v, want %+v", i, f, w)
				}
			}
		})
	}
}

func TestCheckRequestReceived(t *testing.T) {
	src := "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n- level: Metadata\n  omitStages: [RequestReceived]\n- level: Metadata\n"
	fs := CheckBytes([]byte(src))
	// rule 0 (None) writes nothing; rule 1 omits it; rule 2 is shadowed and does not.
	if got := kinds(fs); !slices.Equal(got, []string{KindShadowed, KindShadowed, KindRequestReceived}) || fs[2].Line != 7 {
		t.Errorf("findings %v", fs)
	}
}

func TestCheckInvalid(t *testing.T) {
	fs := CheckBytes([]byte(head + "- level: Loud\n"))
	if len(fs) != 1 || fs[0].Kind != KindInvalid || fs[0].Line != 5 || !strings.Contains(fs[0].Message, "refuses") {
		t.Errorf("findings %v", fs)
	}
}
