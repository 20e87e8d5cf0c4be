package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const policyData = "../../policy/testdata/"

func TestPolicyCheckGolden(t *testing.T) {
	for _, tt := range []struct {
		name string
		code int
	}{
		{"policy-datadog", exitFindings},
		{"policy-datadog-fixed", exitOK},
		{"policy-allstages", exitFindings},
	} {
		for _, format := range []string{"table", "json"} {
			t.Run(tt.name+"/"+format, func(t *testing.T) {
				code, out, errOut := kaudit(t, "", "policy", "check", "-o", format, policyData+tt.name+".yaml")
				if code != tt.code {
					t.Fatalf("exit %d, want %d; stderr %s", code, tt.code, errOut)
				}
				golden(t, filepath.Join("testdata", "golden", "policy-check-"+tt.name+"."+format), out)
			})
		}
	}
}

func TestPolicyCheckMisplacedVerbs(t *testing.T) {
	code, out, errOut := kaudit(t, "", "policy", "check", "-o", "json", policyData+"policy-datadog.yaml", policyData+"policy-datadog-fixed.yaml")
	if code != exitFindings || !strings.Contains(errOut, "1 finding") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var res []checkResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || len(res[0].Findings) != 1 || len(res[1].Findings) != 0 {
		t.Fatalf("results %+v", res)
	}
	f := res[0].Findings[0]
	if f.Kind != "strict-decoding" || f.Line != 21 || f.Rule != 3 || !strings.Contains(f.Message, `unknown field "rules[3].resources[0].verbs"`) {
		t.Errorf("finding %+v", f)
	}
}

func TestPolicyErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n- level: Loud\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(dir, "audit.log")
	if err := os.WriteFile(log, []byte("{not json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fixed := policyData + "policy-datadog-fixed.yaml"
	for _, tt := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"check: refused policy", []string{"policy", "check", bad}, exitFindings, "1 finding"},
		{"check: no file", []string{"policy", "check", filepath.Join(dir, "none.yaml")}, exitError, "no such file"},
		{"check: bad -o", []string{"policy", "check", "-o", "yaml", fixed}, exitUsage, "unknown output format"},
		{"check: no args", []string{"policy", "check"}, exitUsage, "requires at least 1 arg"},
		{"simulate: no --policy", []string{"policy", "simulate", log}, exitUsage, "--policy FILE is required"},
		{"simulate: refused policy", []string{"policy", "simulate", "--policy", bad, log}, exitError, "bad.yaml:5: "},
		{"simulate: bad --current", []string{"policy", "simulate", "--policy", fixed, "--current", bad, log}, exitError, "bad.yaml:5: "},
		{"simulate: bad input only", []string{"policy", "simulate", "--policy", fixed, log}, exitOK, "audit.log:1"},
		{"suggest: no input", []string{"policy", "suggest", filepath.Join(dir, "none.log")}, exitError, "none.log"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := kaudit(t, "", tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.stderr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, tt.code, tt.stderr)
			}
		})
	}
}

func TestPolicySimulateGolden(t *testing.T) {
	log := policyData + "realcluster/allstages-audit.log.gz"
	for _, tt := range []struct{ name, format string }{{"simulate-fixed", "table"}, {"simulate-fixed", "json"}} {
		t.Run(tt.name+"."+tt.format, func(t *testing.T) {
			code, out, errOut := kaudit(t, "", "policy", "simulate", "--policy", policyData+"policy-datadog-fixed.yaml",
				"--current", policyData+"policy-allstages.yaml", "-o", tt.format, log)
			if code != exitOK || errOut != "" {
				t.Fatalf("exit %d, stderr %s", code, errOut)
			}
			golden(t, filepath.Join("testdata", "golden", "policy-"+tt.name+"."+tt.format), out)
		})
	}
	t.Run("recorded baseline", func(t *testing.T) {
		code, out, _ := kaudit(t, "", "policy", "simulate", "--policy", policyData+"policy-allstages.yaml", "-o", "json", log)
		var rep struct {
			Baseline  string
			Recorded  struct{ Events, Bytes int64 }
			Predicted struct{ Events, Bytes int64 }
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil || code != exitOK {
			t.Fatalf("exit %d: %v", code, err)
		}
		if rep.Baseline != "recorded" || rep.Recorded != rep.Predicted || rep.Recorded.Events != 1739 {
			t.Errorf("%+v: the recording policy should predict the log exactly", rep)
		}
	})
}

func TestPolicySuggestGolden(t *testing.T) {
	code, out, errOut := kaudit(t, "", "policy", "suggest", policyData+"realcluster/allstages-audit.log.gz")
	if code != exitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
	golden(t, filepath.Join("testdata", "golden", "policy-suggest.yaml"), out)
	p := filepath.Join(t.TempDir(), "suggested.yaml")
	if err := os.WriteFile(p, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := kaudit(t, "", "policy", "check", p); code != exitOK {
		t.Errorf("policy check on the suggestion: exit %d\n%s", code, out)
	}
}
