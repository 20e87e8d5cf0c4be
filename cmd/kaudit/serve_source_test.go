package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeSource: received events carry serve's source, "webhook" unless
// --source names it, in memory and spool mode, for the jq source helper
// and the source: term.
func TestServeSource(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"default", nil, "webhook"},
		{"named", []string{"--source", "east-hook"}, "east-hook"},
		{"named, spooled", []string{"--source", "east-hook", "--spool", filepath.Join(t.TempDir(), "spool")}, "east-hook"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--no-state", "-o", "jsonl", "--jq", "source", "-f", "source:" + tc.want}, tc.args...)
			s := startServe(t, args...)
			body := eventListOf(evLine("00000000-0000-0000-0000-000000000001", "alice"), evLine("00000000-0000-0000-0000-000000000002", "bob"))
			if code := postTo(t, http.DefaultClient, s.url, body); code != 200 {
				t.Fatalf("status %d", code)
			}
			lines := s.waitLines(t, 2)
			if code := s.stop(t); code != exitOK {
				t.Fatalf("exit %d: %s", code, s.errOut.String())
			}
			for _, l := range lines {
				if l != `"`+tc.want+`"` {
					t.Errorf("source %s, want %q (all: %q)", l, tc.want, lines)
				}
			}
		})
	}
	code, _, errOut := kaudit(t, "", "serve", "--no-state", "-o", "jsonl", "--source", "")
	if code != exitUsage || !strings.Contains(errOut, "--source") {
		t.Errorf("--source '': exit %d, %s", code, errOut)
	}
}

// TestWebhookAndFileCountOnce: the same events received by webhook (its
// spool) and read from the API server's log are stored once, whatever
// their source: replaying both prints each event once, a webhook-only
// event keeps its source.
func TestWebhookAndFileCountOnce(t *testing.T) {
	dir := t.TempDir()
	a, b := evLine("00000000-0000-0000-0000-000000000001", "alice"), evLine("00000000-0000-0000-0000-000000000002", "bob")
	spool, file := filepath.Join(dir, "spool", "webhook.log"), filepath.Join(dir, "cp1", "audit.log")
	for p, data := range map[string]string{spool: a + "\n" + b + "\n", file: a + "\n"} {
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut := kaudit(t, "", "replay", "-o", "jsonl", "--jq", `.auditID + " " + source`, "--source", "webhook="+spool, file)
	want := `"00000000-0000-0000-0000-000000000001 webhook"` + "\n" + `"00000000-0000-0000-0000-000000000002 webhook"` + "\n"
	if code != exitOK || out != want {
		t.Errorf("exit %d, printed:\n%s\nwant:\n%s\n%s", code, out, want, errOut)
	}
}
