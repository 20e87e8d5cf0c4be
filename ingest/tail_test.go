package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/natefinch/lumberjack.v2"
)

// tailRun runs a Tail in the background and collects what it emits.
type tailRun struct {
	t      *testing.T
	tail   *Tail
	cancel context.CancelFunc
	done   chan error

	mu       sync.Mutex
	ids      []string
	problems []Problem
	rawBad   int
	refs     []rawRef // where each event's bytes can be read again
}

// rawRef is where an emitted event's original bytes can be read again.
type rawRef struct {
	raw  io.ReaderAt
	off  int64
	want string
}

func startTail(t *testing.T, tl *Tail) *tailRun {
	t.Helper()
	return startTailGated(t, tl, 0, nil)
}

// startTailGated is startTail whose emit, once gateAt events arrived,
// blocks until gate is closed (a reader paused by a full forward sink).
func startTailGated(t *testing.T, tl *Tail, gateAt int, gate <-chan struct{}) *tailRun {
	t.Helper()
	if tl.Poll == 0 {
		tl.Poll = 20 * time.Millisecond
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &tailRun{t: t, tail: tl, cancel: cancel, done: make(chan error, 1)}
	tl.OnProblem = func(p Problem) {
		r.mu.Lock()
		r.problems = append(r.problems, p)
		r.mu.Unlock()
	}
	go func() {
		r.done <- tl.Run(ctx, func(b Batch) error {
			if gate != nil && len(r.got()) >= gateAt {
				select {
				case <-gate:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			r.mu.Lock()
			defer r.mu.Unlock()
			for i, e := range b.Events {
				r.ids = append(r.ids, e.AuditID)
				got := make([]byte, len(e.Raw))
				if _, err := b.Raw.ReadAt(got, b.Offsets[i]); err != nil || !bytes.Equal(got, e.Raw) {
					r.rawBad++
				}
				r.refs = append(r.refs, rawRef{b.Raw, b.Offsets[i], string(e.Raw)})
			}
			return nil
		})
	}()
	t.Cleanup(func() { r.stop() })
	return r
}

// stop cancels the run and waits for it.
func (r *tailRun) stop() {
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil && !errors.Is(err, context.Canceled) {
			r.t.Errorf("Run: %v", err)
		}
		r.done <- nil
	case <-time.After(5 * time.Second):
		r.t.Fatal("Run did not stop")
	}
}

func (r *tailRun) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.ids...)
}

func (r *tailRun) problemList() []Problem {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Problem(nil), r.problems...)
}

// waitN waits until n events arrived.
func (r *tailRun) waitN(n int) []string {
	r.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := r.got()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("got %d events, want %d; problems %v", len(got), n, r.problemList())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func idsN(prefix string, from, to int) []string {
	var ids []string
	for i := from; i < to; i++ {
		ids = append(ids, fmt.Sprintf("%s-%06d", prefix, i))
	}
	return ids
}

func appendLines(t *testing.T, path string, ids ...string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, id := range ids {
		if _, err := f.WriteString(ev(id) + "\n"); err != nil {
			t.Fatal(err)
		}
	}
}

// checkExactlyOnce checks got holds every id of want, once.
func checkExactlyOnce(t *testing.T, got, want []string) {
	t.Helper()
	seen := map[string]int{}
	for _, id := range got {
		seen[id]++
	}
	missing, dup := 0, 0
	for _, id := range want {
		switch seen[id] {
		case 0:
			missing++
		case 1:
		default:
			dup++
		}
	}
	if missing > 0 || dup > 0 || len(got) != len(want) {
		t.Fatalf("got %d events for %d written: %d missing, %d duplicated", len(got), len(want), missing, dup)
	}
}

func TestTailLumberjackRotation(t *testing.T) {
	dir := t.TempDir()
	lj := &lumberjack.Logger{Filename: filepath.Join(dir, "audit.log"), MaxSize: 1, Compress: true}
	defer lj.Close()
	// lumberjack gzips backups in its own goroutine (gz written, then the
	// .log removed): let it finish before t.TempDir's cleanup removes dir.
	t.Cleanup(func() {
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if plain, _ := filepath.Glob(filepath.Join(dir, "audit-*.log")); len(plain) == 0 {
				return
			}
		}
	})
	if _, err := lj.Write([]byte(ev("lj-first") + "\n")); err != nil {
		t.Fatal(err)
	}
	r := startTail(t, &Tail{Path: dir})
	r.waitN(1) // following audit.log (History current: older backups are not read)
	want := []string{"lj-first"}
	// ~700 bytes per line: 1 MiB holds ~1500; 6000 lines rotate 3-4 times
	// by size, plus explicit rotations while the tailer is reading.
	for i := range 6000 {
		id := fmt.Sprintf("lj-%06d", i)
		want = append(want, id)
		if _, err := lj.Write([]byte(ev(id) + "\n")); err != nil {
			t.Fatal(err)
		}
		if i%1000 == 999 {
			time.Sleep(2 * time.Millisecond) // lumberjack names backups by the millisecond
			if err := lj.Rotate(); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A sentinel after the last line: whatever was read twice comes first.
	checkExactlyOnce(t, waitAllSend(t, r, want, func(id string) { ljWrite(t, lj, []string{id}) }), want)
	if r.rawBad != 0 {
		t.Errorf("%d events' raw bytes could not be read back", r.rawBad)
	}
	if p := r.problemList(); len(p) != 0 {
		t.Errorf("problems: %v", p)
	}
}

func TestTailPartialLineWaits(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	appendLines(t, path, "a-1")
	r := startTail(t, &Tail{Path: path})
	r.waitN(1)
	line := ev("a-2") + "\n"
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString(line[:40])
	time.Sleep(150 * time.Millisecond)
	if n := len(r.got()); n != 1 {
		t.Fatalf("half a line was handed on: %d events", n)
	}
	f.WriteString(line[40:])
	checkExactlyOnce(t, r.waitN(2), []string{"a-1", "a-2"})
	if p := r.problemList(); len(p) != 0 {
		t.Errorf("problems: %v", p)
	}
}

func TestTailMissingDirectoryCreatedLater(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "later", "apiserver")
	r := startTail(t, &Tail{Path: dir})
	time.Sleep(60 * time.Millisecond)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	time.Sleep(60 * time.Millisecond)
	appendLines(t, filepath.Join(dir, "audit.log"), "m-1", "m-2")
	checkExactlyOnce(t, r.waitN(2), []string{"m-1", "m-2"})
}

func TestTailDeletedAndRecreated(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	appendLines(t, path, idsN("d", 0, 10)...)
	r := startTail(t, &Tail{Path: path})
	r.waitN(10)
	appendLines(t, path, idsN("d", 10, 20)...) // written just before the delete
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	time.Sleep(60 * time.Millisecond)
	appendLines(t, path, idsN("d", 20, 30)...)
	checkExactlyOnce(t, waitAll(t, r, path, idsN("d", 0, 30)), idsN("d", 0, 30))
	if r.rawBad != 0 {
		t.Errorf("%d raw reads failed", r.rawBad)
	}
}

func TestTailTruncatedInPlace(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	appendLines(t, path, idsN("t", 0, 10)...)
	r := startTail(t, &Tail{Path: path})
	r.waitN(10)
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	time.Sleep(60 * time.Millisecond)
	appendLines(t, path, idsN("t", 10, 12)...)
	checkExactlyOnce(t, waitAll(t, r, path, idsN("t", 0, 12)), idsN("t", 0, 12))
	found := false
	for _, p := range r.problemList() {
		found = found || (p.Kind == Truncated && strings.Contains(p.Msg, "copytruncate"))
	}
	if !found {
		t.Errorf("truncation not reported: %v", r.problemList())
	}
	// The first ten events' bytes were overwritten in the file: reading
	// them gives their own bytes (the last chunk read is kept) or fails,
	// never the new events' bytes; the new ones read back.
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, ref := range r.refs {
		got := make([]byte, len(ref.want))
		_, err := ref.raw.ReadAt(got, ref.off)
		switch {
		case i < 10 && err == nil && string(got) != ref.want:
			t.Errorf("event %d from before the truncation read back as %q", i, got)
		case i >= 10 && (err != nil || string(got) != ref.want):
			t.Errorf("event %d from after the truncation: %q, %v", i, got, err)
		}
	}
}

func TestTailLongLineSkipped(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	appendLines(t, path, "l-1")
	r := startTail(t, &Tail{Path: path, MaxLine: 4096, chunk: 1024})
	r.waitN(1)
	// A 20 KiB line (the 20 MiB case scaled down with the cap), written in
	// pieces while the tailer reads.
	long := `{"kind":"Event","auditID":"x","requestObject":"` + strings.Repeat("y", 20<<10) + `"}` + "\n"
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o644)
	for i := 0; i < len(long); i += 7000 {
		f.WriteString(long[i:min(i+7000, len(long))])
		time.Sleep(30 * time.Millisecond)
	}
	f.Close()
	appendLines(t, path, "l-2")
	checkExactlyOnce(t, r.waitN(2), []string{"l-1", "l-2"})
	p := r.problemList()
	if len(p) != 1 || p[0].Kind != TooLong || p[0].Line != 2 {
		t.Fatalf("problems: %v", p)
	}
	// Acked moves once emit has returned, a moment after the event was seen.
	for deadline := time.Now().Add(5 * time.Second); r.tail.Acked().Line != 3 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if r.tail.Acked().Line != 3 {
		t.Errorf("acked line %d, want 3", r.tail.Acked().Line)
	}
}

func TestTailHistory(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "audit-2026-11-25T10-00-00.000.log.gz", gz(t, lines(ev("h-1"))))
	writeFile(t, dir, "audit-2026-11-25T11-00-00.000.log", lines(ev("h-2")))
	writeFile(t, dir, "audit.log", lines(ev("h-3")))
	for _, tc := range []struct {
		name string
		h    History
		want []string
	}{
		{"current", History{}, []string{"h-3"}},
		{"all", History{All: true}, []string{"h-1", "h-2", "h-3"}},
		{"since", History{Since: time.Date(2026, 11, 25, 10, 30, 0, 0, time.UTC)}, []string{"h-2", "h-3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := startTail(t, &Tail{Path: dir, History: tc.h})
			got := r.waitN(len(tc.want))
			time.Sleep(50 * time.Millisecond)
			if strings.Join(r.got(), " ") != strings.Join(tc.want, " ") {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestTailRotatedTwiceOldBackupDeleted: while the tailer is busy (its emit
// blocks), the log rotates twice and the first backup is deleted (as
// --audit-log-maxbackup does): the drained old descriptor, then the
// backup in between, then the new file give every event once.
func TestTailRotatedTwiceOldBackupDeleted(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	appendLines(t, path, idsN("g1", 0, 5)...)
	gate := make(chan struct{})
	var mu sync.Mutex
	var ids []string
	tl := &Tail{Path: dir, Poll: 20 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	first, blocked := true, make(chan struct{})
	go func() {
		done <- tl.Run(ctx, func(b Batch) error {
			if first {
				first = false
				close(blocked)
				<-gate
			}
			mu.Lock()
			for _, e := range b.Events {
				ids = append(ids, e.AuditID)
			}
			mu.Unlock()
			return nil
		})
	}()
	<-blocked // in the first emit
	backup := func() string {
		time.Sleep(2 * time.Millisecond)
		return filepath.Join(dir, "audit-"+time.Now().UTC().Format(lumberjackTime)+".log")
	}
	appendLines(t, path, idsN("g1", 5, 10)...)
	b1 := backup()
	os.Rename(path, b1)
	appendLines(t, path, idsN("g2", 0, 10)...)
	os.Rename(path, backup())
	appendLines(t, path, idsN("g3", 0, 10)...)
	os.Remove(b1)
	close(gate)
	want := append(append(idsN("g1", 0, 10), idsN("g2", 0, 10)...), idsN("g3", 0, 10)...)
	got := func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(ids) }
	for deadline := time.Now().Add(5 * time.Second); !containsAll(got(), want) && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	before := untilSentinel(t, got, want, func(id string) { appendLines(t, path, id) }, func() []Problem { return nil })
	cancel()
	<-done
	if strings.Join(before, " ") != strings.Join(want, " ") {
		t.Fatalf("got %v\nwant %v", before, want)
	}
}

func TestTailMissingFileCreatedLater(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "apiserver")
	r := startTail(t, &Tail{Path: dir}) // a directory that does not exist yet, its parent does
	time.Sleep(60 * time.Millisecond)
	os.Mkdir(dir, 0o755)
	time.Sleep(60 * time.Millisecond)
	appendLines(t, filepath.Join(dir, "audit.log"), "f-1")
	path := filepath.Join(t.TempDir(), "audit.log")
	r2 := startTail(t, &Tail{Path: path}) // a file that does not exist yet
	time.Sleep(60 * time.Millisecond)
	appendLines(t, path, "f-2")
	checkExactlyOnce(t, r.waitN(1), []string{"f-1"})
	checkExactlyOnce(t, r2.waitN(1), []string{"f-2"})
}

// TestTailFilesReleased: a followed file stays open while its events may be
// read back (Batch.Raw), and closes when the consumer releases it — what
// store retention does once it dropped every event of that file.
func TestTailFilesReleased(t *testing.T) {
	dir := t.TempDir()
	lj := &lumberjack.Logger{Filename: filepath.Join(dir, "audit.log"), MaxSize: 1}
	defer lj.Close()
	var mu sync.Mutex
	raws := map[any]bool{}
	tl := &Tail{Path: dir, Poll: 20 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	n := 0
	go func() {
		done <- tl.Run(ctx, func(b Batch) error {
			mu.Lock()
			raws[b.Raw] = true
			n += len(b.Events)
			mu.Unlock()
			return nil
		})
	}()
	for i := range 3 {
		if _, err := lj.Write([]byte(ev(fmt.Sprintf("rel-%d", i)) + "\n")); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			mu.Lock()
			seen := n
			mu.Unlock()
			if seen == i+1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("event %d not emitted", i)
			}
		}
		time.Sleep(2 * time.Millisecond)
		lj.Rotate()
	}
	cancel()
	<-done
	if len(raws) != 3 || tl.OpenFiles() != 3 {
		t.Fatalf("%d distinct Batch.Raw, %d files open; want 3 and 3 (one per file events came from)", len(raws), tl.OpenFiles())
	}
	for raw := range raws {
		rel, ok := raw.(interface{ Release() })
		if !ok {
			t.Fatalf("Batch.Raw %T cannot be released", raw)
		}
		rel.Release()
		rel.Release()
	}
	if tl.OpenFiles() != 0 {
		t.Errorf("%d files open after every Batch.Raw was released", tl.OpenFiles())
	}
}
