package main

import (
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
)

// TestStateFilesPrivate: every directory kaudit creates under its state dir
// is 0700 and every file 0600, whatever the umask: positions, the spool,
// receiver and forward statistics, dead letters.
func TestStateFilesPrivate(t *testing.T) {
	old := syscall.Umask(0) // nothing masked: the modes are kaudit's own
	defer syscall.Umask(old)
	state := filepath.Join(t.TempDir(), "state")
	fake := newOTLPFake(t)
	fake.Status.Store(400) // refused for good: the dead-letter file
	s := startServe(t, "-o", "jsonl", "--state-dir", state, "--forward", fake.URL())
	if code := postTo(t, http.DefaultClient, s.url, eventListOf(evLine("00000000-0000-0000-0000-000000000001", "alice"))); code != 200 {
		t.Fatalf("status %d", code)
	}
	want := []string{"positions.json", "receiver.json", "spool/webhook.log"}
	waitUntil(t, "the state files", func() bool {
		for _, f := range want {
			if _, err := os.Stat(filepath.Join(state, f)); err != nil {
				return false
			}
		}
		m, _ := filepath.Glob(filepath.Join(state, "deadletter-*"))
		return len(m) > 0
	})
	if code := s.stop(t); code != exitOK {
		t.Fatalf("exit %d: %s", code, s.errOut.String())
	}
	var seen []string
	err := filepath.WalkDir(state, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(state, p)
		seen = append(seen, rel)
		perm := info.Mode().Perm()
		switch {
		case d.IsDir() && perm != 0o700:
			t.Errorf("%s: directory mode %o, want 700", rel, perm)
		case !d.IsDir() && perm != 0o600:
			t.Errorf("%s: file mode %o, want 600", rel, perm)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(seen)
	t.Logf("checked: %s", strings.Join(seen, ", "))
	if len(seen) < len(want)+3 {
		t.Errorf("only %d entries checked: %v", len(seen), seen)
	}
}
