package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kaudit/kaudit/redact"
)

const secretsLog = "../../redact/testdata/secrets.jsonl"

// secretValues are values in secretsLog that no output may show by default.
var secretValues = []string{"UzNjcjN0UGFzcw==", "PlainS3cret", "MDEyMzQ1Njc4OWFiY2RlZg==", "TmV3UGFzcw==", "SnNvblBhdGNo",
	"review-me", "issued-token", "sa-token-value", "hunter2", "abc.def", "escaped-key-secret"}

func TestOutputsRedactSecrets(t *testing.T) {
	defer redact.SetShowSecrets(false)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"jsonl", []string{"replay", "-o", "jsonl", secretsLog}},
		{"json", []string{"replay", "-o", "json", secretsLog}},
		{"jq", []string{"replay", "--jq", ".", secretsLog}},
		{"jq-field", []string{"replay", "--jq", ".requestObject.data?, .responseObject.status?", secretsLog}},
		{"table", []string{"replay", "-o", "table", secretsLog}},
		// Filters see the original: the password still selects its event.
		{"filter", []string{"replay", "-o", "jsonl", "-f", `.requestObject.data.password == "TmV3UGFzcw=="`, secretsLog}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := kaudit(t, "", tc.args...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			for _, s := range secretValues {
				if strings.Contains(out, s) {
					t.Errorf("%s shows %q", tc.name, s)
				}
			}
			if tc.name == "filter" && (strings.Count(out, "\n") != 1 || !strings.Contains(out, `"auditID":"a3"`)) {
				t.Errorf("filter on the original value: %q", out)
			}
			if tc.name == "jsonl" || tc.name == "jq" {
				for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
					if !json.Valid([]byte(l)) {
						t.Errorf("invalid JSON line %s", l)
					}
				}
			}
			// Revealed on request, byte for byte.
			code, out, _ = kaudit(t, "", append([]string{"--show-secrets"}, tc.args...)...)
			if code != exitOK {
				t.Fatalf("--show-secrets: exit %d", code)
			}
			if tc.name == "jsonl" && !strings.Contains(out, "UzNjcjN0UGFzcw==") {
				t.Errorf("--show-secrets hides the secret")
			}
			// And hidden again by the next run without the flag.
			if _, out, _ = kaudit(t, "", tc.args...); strings.Contains(out, "review-me") {
				t.Errorf("the next run still shows secrets")
			}
		})
	}
}

// TestJSONLinesRedactedOnlyWhereSecret: every public fixture's jsonl output
// is its input, except the events redact changes, which differ exactly by
// redact.Event.
func TestJSONLinesRedactedOnlyWhereSecret(t *testing.T) {
	code, out, _ := kaudit(t, "", "replay", "-o", "jsonl", secretsLog)
	if code != exitOK {
		t.Fatal(code)
	}
	got := strings.Split(strings.TrimSpace(out), "\n")
	want := 0
	for _, l := range bytes.Split(bytes.TrimSpace(mustRead(t, secretsLog)), []byte("\n")) {
		if got[want] != string(redact.Event(l)) {
			t.Errorf("line %d: %s", want+1, got[want])
		}
		want++
	}
}

// detect prints its hits' events redacted too; its rules, like filters,
// see the original.
func TestDetectRedactsSecrets(t *testing.T) {
	dir := t.TempDir()
	rule := "rules:\n  - name: token-review\n    severity: low\n    description: a TokenReview with this token\n    technique: T0000\n    suppress: []\n    filter: |\n      .requestObject.spec.token? == \"eyJhbGciOiJSUzI1NiJ9.review-me.sig\"\n"
	if err := os.WriteFile(filepath.Join(dir, "r.yaml"), []byte(rule), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"jsonl", "json"} {
		code, out, errOut := kaudit(t, "", "detect", "--no-builtin", "--rules", dir, "-o", format, secretsLog)
		if code != exitOK && code != 1 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if !strings.Contains(out, `"a5"`) || strings.Contains(out, "review-me") || !strings.Contains(out, "redacted sha256:") {
			t.Errorf("-o %s: %s %s", format, out, errOut)
		}
	}
}
