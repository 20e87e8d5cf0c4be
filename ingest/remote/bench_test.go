package remote

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kaudit/kaudit/ingest"
)

// BenchmarkRemoteReplay compares replaying a log through a (fake, local)
// ssh session with replaying it locally: the cost of the pipe, the line
// gate and the merge.
func BenchmarkRemoteReplay(b *testing.B) {
	dir := b.TempDir()
	var sb strings.Builder
	for i := 0; sb.Len() < 32<<20; i++ {
		sb.WriteString(event(fmt.Sprintf("e%07d", i), i%86400))
	}
	path := filepath.Join(dir, "audit.log")
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	bin, _ := filepath.Abs("testdata/fake-ssh")
	old := SSH
	SSH = bin
	b.Cleanup(func() { SSH = old })
	b.Setenv("FAKE_SSH_LOG", filepath.Join(dir, "ssh.log"))
	b.Setenv("FAKE_SSH_FAIL", "")
	count := func(n *int) func(ingest.Batch) error {
		return func(bt ingest.Batch) error { *n += len(bt.Events); return nil }
	}
	b.Run("local", func(b *testing.B) {
		b.SetBytes(int64(sb.Len()))
		for b.Loop() {
			var n int
			if _, err := (&ingest.Replay{Paths: []string{path}}).Run(context.Background(), count(&n)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ssh", func(b *testing.B) {
		b.SetBytes(int64(sb.Len()))
		for b.Loop() {
			var n int
			src := &Source{Targets: []Target{{URL: "ssh://h" + path, Host: "h", Path: path}}}
			if err := src.Run(context.Background(), count(&n)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
