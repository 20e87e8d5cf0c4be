//go:build unix

package ingest

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestNamedPipe: `kaudit replay <(zcat audit.log.gz)` hands over a FIFO,
// which cannot be read twice: its events are spooled like stdin's.
func TestNamedPipe(t *testing.T) {
	p := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skip("no mkfifo:", err)
	}
	go func() {
		f, err := os.OpenFile(p, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		f.WriteString(lines(ev("1"), "junk", ev("2")))
		f.Close()
	}()
	res := run(t, &Replay{Paths: []string{p}})
	if got := res.ids(); !eq(got, []string{"1", "2"}) || !eq(res.probs(), []string{"pipe:2 malformed"}) {
		t.Errorf("events %q, problems %q", got, res.probs())
	}
	if _, ok := res.batches[0].Raw.(*Spool); !ok {
		t.Errorf("Raw is %T, want a spool", res.batches[0].Raw)
	}
}
