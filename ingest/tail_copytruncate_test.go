package ingest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// linesOf is the log lines of ids.
func linesOf(ids []string) string {
	var b strings.Builder
	for _, id := range ids {
		b.WriteString(ev(id) + "\n")
	}
	return b.String()
}

// TestTailCopytruncate: logrotate's copytruncate lands while the consumer
// is handling a batch, after the writer appended lines the Tail has not
// read yet; the file then grows past the old read offset before the Tail
// looks again. The consumer still reads every handed-on event's original
// bytes (they are not re-read from the overwritten file), the unread lines
// are read from the copy (found by its first bytes), and nothing is read
// twice or glued from two generations.
func TestTailCopytruncate(t *testing.T) {
	for _, compressed := range []bool{false, true} {
		name := "plain copy"
		if compressed {
			name = "compressed copy"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "audit.log")
			first, unread, after := idsN("a", 0, 5), idsN("b", 0, 3), idsN("c", 0, 12)
			writeFile(t, dir, "audit.log", linesOf(first))
			var once sync.Once
			rotate := func() {
				// The writer appended `unread`, logrotate copied the file and
				// truncated it, the writer went on with `after`.
				old := linesOf(first) + linesOf(unread)
				if compressed {
					writeFile(t, dir, "audit.log.1.gz", gz(t, old))
				} else {
					writeFile(t, dir, "audit.log.1", old)
				}
				if err := os.Truncate(path, 0); err != nil {
					t.Error(err)
				}
				appendLines(t, path, after...)
			}
			var mu sync.Mutex
			var ids []string
			rawBad := 0
			var refs []rawRef
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var problems []Problem
			// Small reads: the last chunk kept in memory holds one line, so
			// reading the first lines back later needs the copy.
			tl := &Tail{Path: path, Poll: 20 * time.Millisecond, chunk: 600, OnProblem: func(p Problem) {
				mu.Lock()
				problems = append(problems, p)
				mu.Unlock()
			}}
			done := make(chan error, 1)
			go func() {
				done <- tl.Run(ctx, func(b Batch) error {
					if b.Events[len(b.Events)-1].AuditID == first[len(first)-1] {
						once.Do(rotate) // while the last line read is handled
					}
					mu.Lock()
					defer mu.Unlock()
					for i, e := range b.Events {
						ids = append(ids, e.AuditID)
						refs = append(refs, rawRef{b.Raw, b.Offsets[i], string(e.Raw)})
						got := make([]byte, len(e.Raw))
						if _, err := b.Raw.ReadAt(got, b.Offsets[i]); err != nil || !bytes.Equal(got, e.Raw) {
							rawBad++
						}
					}
					return nil
				})
			}()
			want := append(append(append([]string{}, first...), unread...), after...)
			gotIDs := func() []string {
				mu.Lock()
				defer mu.Unlock()
				return slices.Clone(ids)
			}
			for deadline := time.Now().Add(20 * time.Second); !containsAll(gotIDs(), want) && time.Now().Before(deadline); {
				time.Sleep(5 * time.Millisecond)
			}
			// A sentinel after the last line: a duplicate comes before it.
			before := untilSentinel(t, gotIDs, want, func(id string) { appendLines(t, path, id) }, func() []Problem {
				mu.Lock()
				defer mu.Unlock()
				return slices.Clone(problems)
			})
			cancel()
			<-done
			mu.Lock()
			defer mu.Unlock()
			ids = before
			refs = refs[:len(before)]
			if rawBad > 0 {
				t.Errorf("%d events' original bytes could not be read back while their batch was handled", rawBad)
			}
			// Read back now, after the truncation: the first generation's
			// events from the plain copy; never another event's bytes.
			for i, ref := range refs {
				got := make([]byte, len(ref.want))
				_, err := ref.raw.ReadAt(got, ref.off)
				switch {
				case err == nil && string(got) != ref.want:
					t.Errorf("event %d read back as another's bytes: %.80q", i, got)
				case err != nil && !compressed:
					t.Errorf("event %d (%s) not readable from the copy: %v", i, ids[i], err)
				}
			}
			if strings.Join(ids, " ") != strings.Join(want, " ") {
				t.Errorf("handed on (%d):\n%v\nwant (%d):\n%v\nproblems: %v", len(ids), ids, len(want), want, problems)
			}
		})
	}
}
