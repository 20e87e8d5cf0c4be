package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const goodEvent = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"%s","stage":"ResponseComplete","requestURI":"/api/v1/pods","verb":"list","user":{"username":"%s"},"userAgent":"%s","objectRef":{"resource":"pods","apiVersion":"v1"},"responseStatus":{"code":200},"requestReceivedTimestamp":"2026-01-15T09:00:00.000000Z","stageTimestamp":"2026-01-15T09:00:00.001000Z"}`

// Invalid UTF-8 is reported as replaced with U+FFFD, and the JSON printed
// agrees: valid UTF-8, valid JSON.
func TestInvalidUTF8OutputIsValidJSON(t *testing.T) {
	ev := strings.Replace(strings.Replace(strings.Replace(goodEvent, "%s", "u1", 1), "%s", "al\xffice", 1), "%s", "curl\xc3", 1)
	p := writeFile(t, "audit.log", ev+"\n")
	for _, format := range []string{"jsonl", "json"} {
		code, out, errOut := kaudit(t, "", "replay", "-o", format, p)
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if !strings.Contains(errOut, "U+FFFD") {
			t.Errorf("no warning: %q", errOut)
		}
		if !utf8.ValidString(out) || !json.Valid([]byte(out)) {
			t.Errorf("-o %s printed invalid JSON: %q", format, out)
		}
		if !strings.Contains(out, "al\uFFFDice") {
			t.Errorf("-o %s: the replacement is not where the bad byte was: %q", format, out)
		}
	}
}

// An escape sequence in an object key or a file name reaches stderr only
// escaped (it used to set the terminal's title).
func TestWarningsAreTerminalSafe(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f\x1b]2;NAME\a.log")
	if err := os.WriteFile(p, []byte("{\"\x1b]2;RAW\a\":1}\n{\"\u202e\":2}\n"+`{"\u001b]2;TITLE\u0007":1}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := kaudit(t, "", "replay", "-o", "jsonl", p)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.ContainsAny(errOut, "\x1b\a\u202e") {
		t.Errorf("raw control characters on stderr: %q", errOut)
	}
	if !strings.Contains(errOut, `\x1b]2;TITLE`) || !strings.Contains(errOut, `f\x1b]2;NAME`) {
		t.Errorf("the warning does not show what was there: %q", errOut)
	}
}

// Names meant for review show bidi and C1 characters as escapes in rbac
// -o yaml and -o json, and the risky grant is withheld unless asked for.
func TestRBACOutputEscapesNames(t *testing.T) {
	ev := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"d1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/a/configmaps/x","verb":"get","user":{"username":"eve\u202etxt.exe\u009b"},"objectRef":{"resource":"configmaps","namespace":"a","name":"cfg\u200b","apiVersion":"v1"},"responseStatus":{"code":403},"requestReceivedTimestamp":"2026-01-15T09:00:00.000000Z","stageTimestamp":"2026-01-15T09:00:00.001000Z","annotations":{"authorization.k8s.io/decision":"forbid","authorization.k8s.io/reason":""}}`
	p := writeFile(t, "audit.log", ev+"\n")
	for _, format := range []string{"yaml", "json"} {
		code, out, errOut := kaudit(t, "", "rbac", "-o", format, p)
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if strings.ContainsAny(out+errOut, "\u202e\u009b\u200b") {
			t.Errorf("-o %s: raw bidi/C1/zero-width characters:\n%s\n%s", format, out, errOut)
		}
		if !strings.Contains(out, `eve\u202etxt.exe\u009b`) || !strings.Contains(out, `cfg\u200b`) {
			t.Errorf("-o %s: the name is not shown escaped:\n%s", format, out)
		}
	}
}

// rbac -o yaml withholds a grant to system:anonymous unless --include-risky.
func TestRBACRiskyOptIn(t *testing.T) {
	ev := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"d1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/a/secrets","verb":"list","user":{"username":"system:anonymous","groups":["system:unauthenticated"]},"objectRef":{"resource":"secrets","namespace":"a","apiVersion":"v1"},"responseStatus":{"code":403},"requestReceivedTimestamp":"2026-01-15T09:00:00.000000Z","stageTimestamp":"2026-01-15T09:00:00.001000Z","annotations":{"authorization.k8s.io/decision":"forbid","authorization.k8s.io/reason":""}}`
	p := writeFile(t, "audit.log", ev+"\n")
	_, out, errOut := kaudit(t, "", "rbac", "-o", "yaml", p)
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "#") && strings.Contains(line, "system:anonymous") {
			t.Errorf("grant to system:anonymous emitted: %q", line)
		}
	}
	if !strings.Contains(errOut, "withheld (rerun with --include-risky") {
		t.Errorf("stderr does not say what was withheld: %s", errOut)
	}
	_, out, _ = kaudit(t, "", "rbac", "-o", "yaml", "--include-risky", p)
	if !strings.Contains(out, "\n  name: system:anonymous\n") {
		t.Errorf("--include-risky did not emit it:\n%s", out)
	}
	_, help, _ := kaudit(t, "", "rbac", "--help")
	if !strings.Contains(help, "kubectl apply --dry-run=server -f") || strings.Contains(help, "&& kubectl apply -f") {
		t.Errorf("--help suggests a blind apply:\n%s", help)
	}
}

// -o jsonl writes bidi overrides and C1 controls inside strings as \u
// escapes: the same JSON value, nothing for a terminal to interpret.
func TestJSONLinesTerminalSafe(t *testing.T) {
	ev := strings.Replace(strings.Replace(strings.Replace(goodEvent, "%s", "u1", 1), "%s", "eve\u202e\u009b[2J", 1), "%s", "curl", 1)
	p := writeFile(t, "audit.log", ev+"\n")
	code, out, _ := kaudit(t, "", "replay", "-o", "jsonl", p)
	if code != exitOK || strings.ContainsAny(out, "\u202e\u009b") || !strings.Contains(out, `"username":"eve\u202e\u009b[2J"`) {
		t.Errorf("exit %d: %q", code, out)
	}
	var got, want any
	if json.Unmarshal([]byte(out), &got) != nil || json.Unmarshal([]byte(ev), &want) != nil {
		t.Fatal("invalid JSON")
	}
	if g, _ := json.Marshal(got); string(g) != func() string { w, _ := json.Marshal(want); return string(w) }() {
		t.Errorf("the value changed:\n%s\n%s", out, ev)
	}
}

func TestJQOutputTerminalSafe(t *testing.T) {
	ev := strings.Replace(strings.Replace(strings.Replace(goodEvent, "%s", "u1", 1), "%s", "eve\u202e\u009b[2J", 1), "%s", "curl", 1)
	p := writeFile(t, "audit.log", ev+"\n")
	code, out, _ := kaudit(t, "", "replay", "--jq", ".user.username", p)
	if code != exitOK || out != `"eve\u202e\u009b[2J"`+"\n" {
		t.Errorf("exit %d: %q", code, out)
	}
}

// Table views as JSON escape bidi and C1 runes too.
func TestViewJSONTerminalSafe(t *testing.T) {
	ev := strings.Replace(strings.Replace(strings.Replace(goodEvent, "%s", "u1", 1), "%s", "eve\u202e\u009b[2J", 1), "%s", "curl", 1)
	p := writeFile(t, "audit.log", ev+"\n")
	for _, format := range []string{"json", "jsonl"} {
		code, out, _ := kaudit(t, "", "replay", "--view", "users", "-o", format, p)
		if code != exitOK || strings.ContainsAny(out, "\u202e\u009b") || !strings.Contains(out, `eve\u202e\u009b[2J`) {
			t.Errorf("-o %s: exit %d: %q", format, code, out)
		}
	}
}
