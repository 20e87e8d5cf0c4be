package rbac

import (
	"bytes"
	"strings"
	"testing"
)

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
