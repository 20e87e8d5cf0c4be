package remote

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFollowRotation: a followed log rotated while its session is down
// (kill -9, the host unreachable until the rotation is done) is read on
// from the saved offset in the rotated file, found by inode, then the
// new file from its start: every event once. Rotated while the session
// runs, likewise. Rotated away and removed while down: the loss is told,
// the rest comes once. Cut to nothing (copytruncate): read again from
// its start.
func TestFollowRotation(t *testing.T) {
	for _, tc := range []struct {
		name   string
		down   bool // the rotation happens while no session runs
		remove bool // and the rotated file is removed
		trunc  bool // copytruncate (after everything was read)
	}{
		{name: "while down", down: true},
		{name: "while up"},
		{name: "removed while down", down: true, remove: true},
		{name: "copytruncate while up", trunc: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fakeSSH(t)
			dir := t.TempDir()
			t.Setenv("PATH", "/usr/bin:/bin") // no kaudit on the "remote" host
			gate := filepath.Join(dir, "gate")
			t.Setenv("FAKE_SSH_GATE", gate)
			logf := filepath.Join(dir, "cp1/audit.log")
			write(t, logf, "")
			var want []string
			next := 0
			appendEvents := func(n int, keep bool) {
				f, err := os.OpenFile(logf, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				for range n {
					id := fmt.Sprintf("e%02d", next)
					if keep {
						want = append(want, id)
					}
					f.WriteString(event(id, next))
					next++
				}
			}
			appendEvents(10, true)
			var c collector
			src := &Source{Targets: targets(t, "ssh://cp1"+dir+"/cp1"), Follow: true}
			c.wire(src)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- src.Run(ctx, c.emit) }()
			defer func() {
				cancel()
				if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
					t.Error(err)
				}
			}()
			waitFor(t, &c, want)
			if tc.down {
				write(t, gate, "")
				if err := syscallKill(childWith(t, dir+"/cp1")); err != nil {
					t.Fatal(err)
				}
			}
			rotated := filepath.Join(dir, "cp1/audit-2026-01-01T00-00-15.000.log")
			if tc.trunc {
				if err := os.Truncate(logf, 0); err != nil {
					t.Fatal(err)
				}
			} else {
				appendEvents(5, !tc.remove) // written before the rotation, not read yet (when down)
				if err := os.Rename(logf, rotated); err != nil {
					t.Fatal(err)
				}
			}
			if tc.remove {
				os.Remove(rotated)
			}
			appendEvents(5, true) // the new file
			os.Remove(gate)
			waitFor(t, &c, want)
			appendEvents(5, true)
			waitFor(t, &c, want)
			_, warnings := c.got()
			lost := strings.Contains(strings.Join(warnings, "\n"), "rotated away and is gone")
			if lost != tc.remove {
				t.Errorf("warnings %q: loss told %v, want %v", warnings, lost, tc.remove)
			}
			appendEvents(1, true) // an event read twice comes before this one
			waitFor(t, &c, want)
		})
	}
}
