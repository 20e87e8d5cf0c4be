package rbac

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzQuote: every string written into the YAML, whatever a client put in
// it, stays one double-quoted scalar that reads back as itself.
func FuzzQuote(f *testing.F) {
	for _, s := range []string{"", "alice", `a"b`, "a\nb: c", "\x1b[31m", "#x", "- y", "\u2028", "kaudit:\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := q(s)
		if bytes.ContainsAny([]byte(out), "\n\r") {
			t.Fatalf("q(%q) = %q spans lines", s, out)
		}
		var back string
		if err := json.Unmarshal([]byte(out), &back); err != nil {
			t.Fatalf("q(%q) = %q: %v", s, out, err)
		}
		if utf8.ValidString(s) && back != s {
			t.Fatalf("q(%q) reads back as %q", s, back)
		}
	})
}

// FuzzComment: a warning or skipped denial, whatever a client put in it,
// stays one YAML comment line: no character a YAML 1.1 or 1.2 parser (or
// a terminal) takes as a line break survives.
func FuzzComment(f *testing.F) {
	for _, s := range []string{"", "plain", "a\nkind: ClusterRole", "x\u2028kind: y", "x\u0085y", "x\ry", "\x1b]0;t\a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var b bytes.Buffer
		comment(&b, s)
		out := b.String()
		if !strings.HasPrefix(out, "# ") || strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
			t.Fatalf("comment(%q) = %q", s, out)
		}
		if strings.ContainsAny(out, "\r\u0085\u2028\u2029\x1b") {
			t.Fatalf("comment(%q) = %q holds a line break or escape", s, out)
		}
	})
}
