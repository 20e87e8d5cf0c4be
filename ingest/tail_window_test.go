package ingest

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// The tests here make each window in which a rotation can slip past the
// Tail deterministic: openTarget (or emit) rotates the log at the exact
// moment, and every line must then arrive exactly once. A sentinel line
// appended at the end shows that nothing more (a file read twice) comes.

// bakName is a lumberjack backup name rotated at second s.
func bakName(dir string, s int) string {
	return filepath.Join(dir, "audit-2026-01-01T00-00-"+twoDigits(s)+".000.log")
}

func twoDigits(n int) string { return string([]byte{byte('0' + n/10), byte('0' + n%10)}) }

// rotateGz renames cur to bak and compresses it as lumberjack does
// (bak.gz written, then bak removed): the backup's inode is not cur's.
func rotateGz(t *testing.T, cur, bak string) {
	t.Helper()
	if err := os.Rename(cur, bak); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(bak)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Dir(bak), filepath.Base(bak)+".gz", gz(t, string(b)))
	if err := os.Remove(bak); err != nil {
		t.Fatal(err)
	}
}

// hookOpen makes openTarget call fn(path) the first time it is called at
// stage; fn opens the file itself (it may rotate it after opening).
func hookOpen(t *testing.T, stage string, fn func(path string) (*os.File, error)) {
	var once sync.Once
	var mu sync.Mutex
	openTarget = func(s, p string) (*os.File, error) {
		mu.Lock()
		defer mu.Unlock()
		var f *os.File
		var err error
		done := false
		if s == stage {
			once.Do(func() { f, err = fn(p); done = true })
		}
		if done {
			return f, err
		}
		return os.Open(p)
	}
	t.Cleanup(func() { openTarget = defaultOpenTarget })
}

// waitAll waits until every id of want arrived, then appends a sentinel
// line to cur and waits for it: anything read twice comes before it. It
// returns what arrived before the sentinel.
func waitAll(t *testing.T, r *tailRun, cur string, want []string) []string {
	t.Helper()
	return waitAllSend(t, r, want, func(id string) { appendLines(t, cur, id) })
}

// waitAllSend is waitAll whose send writes the sentinel line for id (as
// the test's writer writes, e.g. through lumberjack).
func waitAllSend(t *testing.T, r *tailRun, want []string, send func(id string)) []string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !containsAll(r.got(), want) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	return untilSentinel(t, r.got, want, send, r.problemList)
}

// untilSentinel sends a sentinel line and waits until got holds it; it
// returns what came before it.
func untilSentinel(t *testing.T, got func() []string, want []string, send func(id string), problems func() []Problem) []string {
	t.Helper()
	const sentinel = "zz-sentinel"
	send(sentinel)
	for deadline := time.Now().Add(20 * time.Second); !slices.Contains(got(), sentinel) && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	ids := got()
	i := slices.Index(ids, sentinel)
	if i < 0 {
		missingRuns(t, ids, want)
		t.Fatalf("the sentinel never came; problems: %v", problems())
	}
	if ids = ids[:i]; !slices.Equal(ids, want) {
		missingRuns(t, ids, want)
		t.Logf("problems: %v", problems())
	}
	return ids
}

func containsAll(got, want []string) bool {
	seen := map[string]bool{}
	for _, id := range got {
		seen[id] = true
	}
	for _, id := range want {
		if !seen[id] {
			return false
		}
	}
	return true
}

// checkpointIn is a checkpoint after the first n lines of the plain file
// path holding ids.
func checkpointIn(t *testing.T, path string, ids []string, n int) *Checkpoint {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	dev, ino := fileID(fi)
	head := linesOf(ids[:n])
	fp := fingerprintOfBytes([]byte(head[:min(len(head), fingerprintSize)]))
	return &Checkpoint{Path: path, Dev: dev, Inode: ino, Offset: int64(len(head)), Line: int64(n),
		Fingerprint: fp.sum, FingerprintLen: fp.n, Updated: time.Now()}
}

// TestTailStartupCurrentRotatedBeforeOpen: at start-up there is no
// audit.log (lumberjack between its rename and its create, or nothing
// written yet); after the backups were listed (and read), audit.log is
// created, filled and rotated (once or twice) before the Tail opens the
// next one. Those backups are newer than anything the plan listed: read.
func TestTailStartupCurrentRotatedBeforeOpen(t *testing.T) {
	a, c, d, e := idsN("a", 0, 5), idsN("c", 0, 5), idsN("d", 0, 5), idsN("e", 0, 5)
	cat := func(l ...[]string) []string { return slices.Concat(l...) }
	for _, tc := range []struct {
		name    string
		backupA bool // a backup holding a exists at start-up
		hist    History
		resume  int // > 0: a checkpoint after that many lines of a
		twice   bool
		want    []string
	}{
		{name: "all", backupA: true, hist: History{All: true}, want: cat(a, c, e)},
		{name: "all, rotated twice", backupA: true, hist: History{All: true}, twice: true, want: cat(a, c, d, e)},
		{name: "since", backupA: true, hist: History{Since: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}, want: cat(a, c, e)},
		{name: "no history, a backup", backupA: true, want: cat(c, e)},
		{name: "no history, no backups", want: cat(c, e)},
		{name: "all, no backups", hist: History{All: true}, twice: true, want: cat(c, d, e)},
		{name: "saved position in a backup", backupA: true, resume: 2, want: cat(a[2:], c, e)},
		{name: "saved position, rotated twice", backupA: true, resume: 3, twice: true, want: cat(a[3:], c, d, e)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cur := filepath.Join(dir, "audit.log")
			tl := &Tail{Path: dir, History: tc.hist}
			if tc.backupA {
				appendLines(t, bakName(dir, 1), a...)
			}
			if tc.resume > 0 {
				tl.Resume = checkpointIn(t, bakName(dir, 1), a, tc.resume)
				tl.Resume.Path = cur
			}
			hookOpen(t, stageCurrent, func(p string) (*os.File, error) {
				appendLines(t, cur, c...)
				if err := os.Rename(cur, bakName(dir, 3)); err != nil {
					t.Error(err)
				}
				if tc.twice {
					appendLines(t, cur, d...)
					rotateGz(t, cur, bakName(dir, 4))
				}
				appendLines(t, cur, e...)
				return os.Open(p)
			})
			r := startTail(t, tl)
			checkExactlyOnce(t, waitAll(t, r, cur, tc.want), tc.want)
		})
	}
}

// TestTailStartupCurrentRotatedBeforeListing: at start-up the Tail opens
// audit.log (b); before it lists the backups, b is rotated and already
// compressed (its backup has another inode) and c is the new audit.log.
// b is read once (from the descriptor held), not also from its backup.
func TestTailStartupCurrentRotatedBeforeListing(t *testing.T) {
	a, b, c := idsN("a", 0, 5), idsN("b", 0, 5), idsN("c", 0, 5)
	for _, tc := range []struct {
		name   string
		hist   History
		resume int // > 0: a checkpoint after that many lines of a
		want   []string
	}{
		{name: "all", hist: History{All: true}, want: slices.Concat(a, b, c)},
		{name: "saved position in a backup", resume: 2, want: slices.Concat(a[2:], b, c)},
		{name: "no history", want: slices.Concat(b, c)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cur := filepath.Join(dir, "audit.log")
			appendLines(t, bakName(dir, 1), a...)
			appendLines(t, cur, b...)
			tl := &Tail{Path: dir, History: tc.hist}
			if tc.resume > 0 {
				tl.Resume = checkpointIn(t, bakName(dir, 1), a, tc.resume)
				tl.Resume.Path = cur
			}
			hookOpen(t, stagePlan, func(p string) (*os.File, error) {
				f, err := os.Open(p)
				rotateGz(t, cur, bakName(dir, 2))
				appendLines(t, cur, c...)
				return f, err
			})
			r := startTail(t, tl)
			checkExactlyOnce(t, waitAll(t, r, cur, tc.want), tc.want)
		})
	}
}

// TestTailRotatedAgainBeforeListing: after a rotation the Tail opens the
// new audit.log (b), which is rotated again and compressed before the
// backups are listed. b is read once. "missing": the rotation first found
// no audit.log (b was rotated away before it was opened), so b is read as
// a backup, and the next file (c) is rotated and compressed just after
// the Tail opened it.
func TestTailRotatedAgainBeforeListing(t *testing.T) {
	for _, missing := range []bool{false, true} {
		name := "next opened"
		if missing {
			name = "next missing, then the one after opened"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			cur := filepath.Join(dir, "audit.log")
			a, b, c, d := idsN("a", 0, 5), idsN("b", 0, 5), idsN("c", 0, 5), idsN("d", 0, 5)
			appendLines(t, cur, a...)
			want := slices.Concat(a, b, c)
			if missing {
				want = slices.Concat(a, b, c, d)
				var once sync.Once
				hookOpen(t, stageCurrent, func(p string) (*os.File, error) {
					appendLines(t, cur, c...)
					f, err := os.Open(p)
					rotateGz(t, cur, bakName(dir, 3))
					appendLines(t, cur, d...)
					return f, err
				})
				current := openTarget
				openTarget = func(s, p string) (*os.File, error) {
					if s != stageRotated {
						return current(s, p)
					}
					gone := false
					once.Do(func() { gone = os.Rename(cur, bakName(dir, 2)) == nil })
					if gone {
						return nil, os.ErrNotExist
					}
					return os.Open(p)
				}
			} else {
				hookOpen(t, stageRotated, func(p string) (*os.File, error) {
					f, err := os.Open(p)
					rotateGz(t, cur, bakName(dir, 2))
					appendLines(t, cur, c...)
					return f, err
				})
			}
			r := startTail(t, &Tail{Path: dir})
			r.waitN(len(a))
			if err := os.Rename(cur, bakName(dir, 1)); err != nil {
				t.Fatal(err)
			}
			// b appears whole.
			appendLines(t, filepath.Join(dir, "b.tmp"), b...)
			if err := os.Rename(filepath.Join(dir, "b.tmp"), cur); err != nil {
				t.Fatal(err)
			}
			checkExactlyOnce(t, waitAll(t, r, cur, want), want)
		})
	}
}

// TestTailCopytruncateTwice: logrotate's copytruncate runs twice before
// the Tail looks again: the unread end of the first generation is in
// audit.log.2, the whole second generation in audit.log.1, the third is
// in audit.log. All three are read, each once.
func TestTailCopytruncateTwice(t *testing.T) {
	dir := t.TempDir()
	cur := filepath.Join(dir, "audit.log")
	first, unread, gen2, gen3 := idsN("a", 0, 5), idsN("b", 0, 3), idsN("c", 0, 4), idsN("d", 0, 2)
	appendLines(t, cur, first...)
	var once sync.Once
	r := startTailHook(t, &Tail{Path: cur}, func(id string) {
		if id != first[len(first)-1] {
			return
		}
		once.Do(func() {
			appendLines(t, cur, unread...)
			writeFile(t, dir, "audit.log.2", linesOf(first)+linesOf(unread))
			if err := os.Truncate(cur, 0); err != nil {
				t.Error(err)
			}
			appendLines(t, cur, gen2...)
			writeFile(t, dir, "audit.log.1", linesOf(gen2))
			if err := os.Truncate(cur, 0); err != nil {
				t.Error(err)
			}
			appendLines(t, cur, gen3...)
		})
	})
	want := slices.Concat(first, unread, gen2, gen3)
	checkExactlyOnce(t, waitAll(t, r, cur, want), want)
}

// TestTailHeldCurrentRotatedDuringWalk: at start-up the Tail holds
// audit.log (b) open and reads the backups first; meanwhile b is rotated
// and c is created and rotated too. Once b is drained from its descriptor,
// c's backup is read. "deleted": b's backup is deleted as well
// (--audit-log-maxbackup), so the backups rotated since b was opened (not
// since the walk ended) are the ones after it.
func TestTailHeldCurrentRotatedDuringWalk(t *testing.T) {
	for _, deleted := range []bool{false, true} {
		t.Run(fmt.Sprintf("deleted=%v", deleted), func(t *testing.T) {
			dir := t.TempDir()
			cur := filepath.Join(dir, "audit.log")
			a, b, c, d := idsN("a", 0, 5), idsN("b", 0, 5), idsN("c", 0, 5), idsN("d", 0, 5)
			appendLines(t, bakName(dir, 1), a...)
			appendLines(t, cur, b...)
			ljName := func(at time.Time) string {
				return filepath.Join(dir, "audit-"+at.UTC().Format(lumberjackTime)+".log")
			}
			var once sync.Once
			r := startTailHook(t, &Tail{Path: dir, History: History{All: true}}, func(id string) {
				if id != a[len(a)-1] {
					return
				}
				once.Do(func() {
					now := time.Now()
					bb := ljName(now.Add(-time.Millisecond))
					if err := os.Rename(cur, bb); err != nil {
						t.Error(err)
					}
					appendLines(t, cur, c...)
					if err := os.Rename(cur, ljName(now)); err != nil {
						t.Error(err)
					}
					appendLines(t, cur, d...)
					if deleted {
						if err := os.Remove(bb); err != nil {
							t.Error(err)
						}
					}
				})
			})
			want := slices.Concat(a, b, c, d)
			checkExactlyOnce(t, waitAll(t, r, cur, want), want)
		})
	}
}

// TestTailResumeFileGoneLagging: a reader lagging behind (a forward
// sink's) saved its position in backup k long after k+1 was rotated; k is
// deleted before the restart. k+1 and the current file are read: k+1 is
// newer than k though it was rotated before the position was saved.
func TestTailResumeFileGoneLagging(t *testing.T) {
	dir := t.TempDir()
	cur := filepath.Join(dir, "audit.log")
	k, k1, c := idsN("k", 0, 5), idsN("l", 0, 5), idsN("c", 0, 5)
	appendLines(t, bakName(dir, 1), k...)
	appendLines(t, bakName(dir, 2), k1...)
	appendLines(t, cur, c...)
	gate := make(chan struct{})
	// One line a read: the reader stops (blocked by its sink) inside k.
	r := startTailGated(t, &Tail{Path: dir, History: History{All: true}, chunk: 600}, 2, gate)
	for deadline := time.Now().Add(20 * time.Second); r.tail.Acked().Line < 2 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	r.stop()
	cp := r.tail.Acked()
	if cp.Line != 2 || filepath.Base(cp.Path) != filepath.Base(bakName(dir, 1)) {
		t.Fatalf("checkpoint %+v, want line 2 of %s", cp, bakName(dir, 1))
	}
	cp.Updated = time.Now() // saved now, long after k+1 was rotated
	if err := os.Remove(bakName(dir, 1)); err != nil {
		t.Fatal(err)
	}
	r2 := startTail(t, &Tail{Path: dir, Resume: &cp})
	want := slices.Concat(k1, c)
	checkExactlyOnce(t, waitAll(t, r2, cur, want), want)
	if p := r2.problemList(); len(p) != 1 || p[0].Kind != Unreadable {
		t.Errorf("problems: %v, want k's loss", p)
	}
}

// TestTailBackupsChangeDuringWalk: at start-up (History.All) the backups
// change while the first one is read (a line at a time, so that events
// are read back from their files): the next one is deleted
// (--audit-log-maxbackup), logrotate rotates and renames the numbered
// backups (audit.log.1 becomes audit.log.2), or lumberjack compresses the
// next one. The files listed are still read, each once, and the events of
// the compressed one can be read back afterwards (from its .gz).
func TestTailBackupsChangeDuringWalk(t *testing.T) {
	a, b, c, d := idsN("a", 0, 5), idsN("b", 0, 5), idsN("c", 0, 5), idsN("d", 0, 5)
	for _, tc := range []struct{ numbered, compressed bool }{{}, {numbered: true}, {compressed: true}} {
		numbered, compressed := tc.numbered, tc.compressed
		t.Run(fmt.Sprintf("numbered=%v,compressed=%v", numbered, compressed), func(t *testing.T) {
			dir := t.TempDir()
			cur := filepath.Join(dir, "audit.log")
			name := func(i int) string { return bakName(dir, i) }
			if numbered {
				name = func(i int) string { return filepath.Join(dir, fmt.Sprintf("audit.log.%d", 3-i)) }
			}
			appendLines(t, name(1), a...)
			appendLines(t, name(2), b...)
			appendLines(t, cur, c...)
			want := slices.Concat(a, b, c)
			change := func() {
				if err := os.Remove(name(2)); err != nil {
					t.Error(err)
				}
			}
			if compressed {
				change = func() { rotateGz(t, name(2), name(2)) }
			}
			if numbered {
				want = slices.Concat(a, b, c, d)
				change = func() { // logrotate (create mode): shift, rename, create
					for _, mv := range [][2]string{{"audit.log.2", "audit.log.3"}, {"audit.log.1", "audit.log.2"}, {"audit.log", "audit.log.1"}} {
						if err := os.Rename(filepath.Join(dir, mv[0]), filepath.Join(dir, mv[1])); err != nil {
							t.Error(err)
						}
					}
					appendLines(t, cur, d...)
				}
			}
			var once sync.Once
			r := startTailHook(t, &Tail{Path: dir, History: History{All: true}, chunk: 600}, func(id string) {
				if id == a[len(a)-1] {
					once.Do(change)
				}
			})
			checkExactlyOnce(t, waitAll(t, r, cur, want), want)
			if !compressed {
				// A file deleted or renamed since cannot be read back by
				// name: its events are left out of -o jsonl, and counted.
				return
			}
			r.mu.Lock()
			defer r.mu.Unlock()
			for i, ref := range r.refs[:len(want)] { // each event's bytes, read back now
				got := make([]byte, len(ref.want))
				if _, err := ref.raw.ReadAt(got, ref.off); err != nil || string(got) != ref.want {
					t.Errorf("event %d (%s) not read back: %v", i, r.ids[i], err)
				}
			}
		})
	}
}
