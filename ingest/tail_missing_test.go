package ingest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kaudit/kaudit/internal/testwait"
)

// TestTailMissingSaysOnce: following a path that is not there says so
// once (whichever part is missing: the path, or the current file of a
// directory), waits through many polls without another word, and reads
// the file once it appears.
func TestTailMissingSaysOnce(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T) (follow, file, named string)
	}{
		{"file", func(t *testing.T) (string, string, string) {
			p := filepath.Join(t.TempDir(), "audit.log")
			return p, p, p
		}},
		{"directory", func(t *testing.T) (string, string, string) {
			d := filepath.Join(t.TempDir(), "apiserver")
			return d, filepath.Join(d, "audit.log"), d
		}},
		{"directory without its current file", func(t *testing.T) (string, string, string) {
			d := t.TempDir()
			return d, filepath.Join(d, "audit.log"), filepath.Join(d, "audit.log")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			follow, file, named := tt.setup(t)
			r := startTail(t, &Tail{Path: follow, Poll: 2 * time.Millisecond})
			testwait.Until(t, "the missing path said", func() bool { return len(r.problemList()) > 0 })
			// Let many polls pass: each would have said it again.
			for start := time.Now(); time.Since(start) < 100*time.Millisecond; {
				time.Sleep(10 * time.Millisecond)
			}
			os.MkdirAll(filepath.Dir(file), 0o755)
			appendLines(t, file, "w-1", "w-2")
			checkExactlyOnce(t, r.waitN(2), []string{"w-1", "w-2"})
			ps := r.problemList()
			if len(ps) != 1 || ps[0].Path != named || ps[0].Kind != NoAuditFiles || !strings.Contains(ps[0].Msg, "does not exist") {
				t.Fatalf("problems %+v: want one saying %s does not exist", ps, named)
			}
		})
	}
}
