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
