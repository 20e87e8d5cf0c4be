package detect

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestParseErrors(t *testing.T) {
	tests := map[string]string{
		"unknown field":    "rules:\n  - name: x\n    severity: low\n    description: d\n    filter: verb:get\n    colour: red\n",
		"bad severity":     "rules:\n  - name: x\n    severity: urgent\n    description: d\n    filter: verb:get\n",
		"bad filter":       "rules:\n  - name: x\n    severity: low\n    description: d\n    filter: 'verb:get colour:red'\n",
		"empty filter":     "rules:\n  - name: x\n    severity: low\n    description: d\n",
		"no description":   "rules:\n  - name: x\n    severity: low\n    filter: verb:get\n",
		"bad name":         "rules:\n  - name: X Y\n    severity: low\n    description: d\n    filter: verb:get\n",
		"unknown suppress": "rules:\n  - name: x\n    severity: low\n    description: d\n    filter: verb:get\n    suppress: [nope]\n",
		"bad window":       "rules:\n  - name: x\n    severity: low\n    description: d\n    filter: verb:get\n    suppress: []\n    threshold: {count: 3, by: user, window: soon}\n",
		"bad except":       "rules:\n  - name: x\n    severity: low\n    description: d\n    filter: verb:get\n    except: 'user:'\n",
		"not yaml":         "rules: [\n",
	}
	for name, text := range tests {
		if _, err := Parse(name+".yaml", []byte(text)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestLoadOverrides(t *testing.T) {
	base, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{
		"a.yaml": {Data: []byte(`suppressions:
  - name: system-principal
    description: only nodes
    filter: user:system:node:*
rules:
  - name: pod-exec
    severity: critical
    description: replaced
    filter: subresource:exec
  - name: new-rule
    severity: low
    description: added
    filter: verb:delete
`)},
		"README.md": {Data: []byte("not a rule file")},
	}
	set, err := Load(base, fsys, ".")
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Rules) != len(base.Rules)+1 {
		t.Errorf("%d rules, want %d", len(set.Rules), len(base.Rules)+1)
	}
	if r := set.Rule("pod-exec"); r == nil || r.Severity != Critical || r.Description != "replaced" {
		t.Errorf("pod-exec not replaced: %+v", r)
	}
	if got := set.Suppressions["system-principal"].Filter; got != "user:system:node:*" {
		t.Errorf("suppression not replaced: %q", got)
	}
	if base.Rule("pod-exec").Severity != Medium || base.Suppressions["system-principal"].Filter == "user:system:node:*" {
		t.Error("Load modified the built-in set")
	}
	if _, err := Load(nil, fstest.MapFS{"x.txt": {}}, "."); err == nil || !strings.Contains(err.Error(), "no .yaml") {
		t.Errorf("a directory without rule files: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"rules/pods.yaml", "rules/access.yaml", "rules/secrets.yaml"} {
		data, err := packFS.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("rules:\n  - name: x\n    severity: low\n    description: d\n    filter: verb:get\n    threshold: {count: 3, by: user, window: 1m}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := Parse("fuzz.yaml", data)
		if err != nil {
			return
		}
		for _, r := range set.Rules {
			if r.filter == nil || r.Suppress == nil {
				t.Fatalf("rule %s accepted half compiled", r.Name)
			}
		}
	})
}
