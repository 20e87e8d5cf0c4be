package policy

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLoadReferencePolicies(t *testing.T) {
	tests := []struct {
		file       string
		strict     string // substring of the strict-decoding error; "" means clean
		fieldPath  string
		fieldLine  int
		rules      int
		rule3Verbs int // len(rules[3].verbs) as the API server uses it
	}{
		{"policy-datadog.yaml", `strict decoding error: unknown field "rules[3].resources[0].verbs"`, "rules[3].resources[0].verbs", 21, 5, 0},
		{"policy-allstages.yaml", `unknown field "rules[3].resources[0].verbs"`, "rules[3].resources[0].verbs", 21, 5, 0},
		{"policy-datadog-fixed.yaml", "", "", 0, 5, 4},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			p, err := Load(readTestdata(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Rules) != tt.rules {
				t.Errorf("rules = %d, want %d", len(p.Rules), tt.rules)
			}
			if got := len(p.Rules[3].Verbs); got != tt.rule3Verbs {
				t.Errorf("rules[3].verbs has %d verbs, want %d", got, tt.rule3Verbs)
			}
			if tt.strict == "" {
				if p.Strict != nil || len(p.StrictFields) > 0 {
					t.Fatalf("strict = %v %v, want clean", p.Strict, p.StrictFields)
				}
				return
			}
			if p.Strict == nil || !strings.Contains(p.Strict.Error(), tt.strict) {
				t.Fatalf("strict = %v, want it to contain %q", p.Strict, tt.strict)
			}
			if len(p.StrictFields) != 1 {
				t.Fatalf("strict fields = %+v, want one", p.StrictFields)
			}
			f := p.StrictFields[0]
			if f.Kind != "unknown field" || f.Path != tt.fieldPath || f.Line != tt.fieldLine {
				t.Errorf("field = %+v, want unknown field %s at line %d", f, tt.fieldPath, tt.fieldLine)
			}
		})
	}
}

func TestLoadRefused(t *testing.T) {
	tests := []struct {
		name, yaml, want string
		line             int
	}{
		{"bad level", "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n- level: Loud\n", "Unsupported value", 5},
		{"bad stage", "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n  omitStages: [Sometimes]\n", "allowed stages", 5},
		{"no rules", "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: []\n", "0 rules", 0},
		{"wrong version", "apiVersion: audit.k8s.io/v2\nkind: Policy\nrules:\n- level: Metadata\n", "audit.k8s.io/v2", 0},
		{"two errors", "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n- level: Loud\n  omitStages: [Sometimes]\n", "allowed stages", 5},
		{"not yaml", "rules: [\n", "", 0},
		{"bad url and resources", "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n  nonResourceURLs: [/x]\n  resources: [{resources: [pods]}]\n", "rules[0]", 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Load([]byte(tt.yaml))
			if err == nil {
				t.Fatalf("loaded %+v, want an error", p)
			}
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("error %T, want *LoadError", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
			if le.Line != tt.line {
				t.Errorf("line %d, want %d (%v)", le.Line, tt.line, err)
			}
		})
	}
}

func TestLines(t *testing.T) {
	src := "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: None\n    nonResourceURLs:\n      - /healthz\n  - level: Metadata\n    resources:\n    - group: \"\"\n      resources: [pods]\n"
	l := indexLines([]byte(src))
	tests := []struct {
		path string
		line int
	}{
		{"kind", 2},
		{"rules", 3},
		{"rules[0]", 4},
		{"rules[0].nonResourceURLs[0]", 6},
		{"rules[1]", 7},
		{"rules[1].resources[0].resources", 10},
		{"rules[1].resources[0].verbs", 9}, // missing: the deepest part that exists
		{"rules[7]", 3},
		{"nothing", 0},
	}
	for _, tt := range tests {
		if got := l.line(tt.path); got != tt.line {
			t.Errorf("line(%s) = %d, want %d", tt.path, got, tt.line)
		}
	}
	if got := indexLines([]byte("{")).line("rules"); got != 0 {
		t.Errorf("unparsable YAML: line %d, want 0", got)
	}
}

// FuzzLoadPolicy: the API server's loader plus kaudit's line index and
// checks never panic on any input.
func FuzzLoadPolicy(f *testing.F) {
	for _, name := range []string{"policy-datadog.yaml", "policy-datadog-fixed.yaml", "policy-allstages.yaml"} {
		f.Add(readTestdata(f, name))
	}
	f.Add([]byte("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n  resources: [{group: '*', resources: ['*/status', 'pods/*'], resourceNames: [a]}]\n"))
	f.Add([]byte("{\"apiVersion\":\"audit.k8s.io/v1\",\"kind\":\"Policy\",\"rules\":[{\"level\":\"None\",\"users\":[\"a\"],\"rules\":1}]}"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fs := CheckBytes(data)
		p, err := Load(data)
		if err != nil {
			if len(fs) != 1 || fs[0].Kind != KindInvalid {
				t.Fatalf("refused policy gave findings %v", fs)
			}
			return
		}
		for _, r := range p.StrictFields {
			_ = p.Line(r.Path)
		}
	})
}
