package ingest

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// DefaultPoll is how often a Tail stats its file when fsnotify says nothing:
// fsnotify is only a wake-up hint (it misses events on some file systems and
// when its queue overflows); stat is the truth.
const DefaultPoll = 250 * time.Millisecond

// CurrentName is the file a directory given to Tail stands for: the log
// kube-apiserver writes (--audit-log-path), as lumberjack names it.
const CurrentName = "audit.log"

// History says what a Tail reads before it follows, when it has no
// checkpoint to resume from.
type History struct {
	All   bool      // every backup, oldest first, then the current file
	Since time.Time // backups rotated at or after Since, then the current file
	// The zero History reads the current file from its start, then follows.
}

// Tail follows one audit log through rotation the way kube-apiserver's
// lumberjack backend rotates it (rename to audit-<time>.log, create a new
// audit.log, maybe gzip the backup and delete old ones), through
// copytruncate-style truncation, and through the file (or its directory)
// being missing for a while.
//
// fsnotify on the parent directory only wakes it; every wake-up and every
// Poll tick it reads what is new (pread on the open descriptor) and stats
// the path. A new inode at the path, or a file shorter than what was read,
// is a rotation or a truncation. On rotation the old descriptor is read to
// its end first (it stays readable after rename, gzip and unlink), then the
// new file is read from its start. A partial trailing line waits for its
// newline (at the end of a rotated file it counts as a line).
//
// Open descriptors: every file some emitted event came from stays open
// (Batch.Raw reads its bytes) until the consumer releases it (store
// retention calls Batch.Raw's Release once it dropped every event from
// that file); files nothing was emitted from are closed at once.
// OpenFiles says how many are held.
//
// Goroutines: configure it, then call Run once. Run reads, decodes and
// calls emit and OnProblem on its own goroutine. Acked and OpenFiles may
// be called from any goroutine (a mutex guards what they read).
type Tail struct {
	Path      string      // a file, or a directory standing for its CurrentName
	Resume    *Checkpoint // where a previous run stopped; nil: read History first
	History   History
	MaxLine   int           // longest line kept; 0 means DefaultMaxLine
	Poll      time.Duration // 0 means DefaultPoll
	OnProblem func(Problem)
	// Finished, if set, records every file this Tail reads to its end (the
	// main reader's record; see FileLog).
	Finished *FileLog
	// Known, if set, is the main reader's record, read only: a lagging
	// reader (a forward sink's) counts with it the events of files deleted
	// before it read them.
	Known *FileLog

	chunk int // bytes per read; 0 means defaultChunk

	mu    sync.Mutex
	acked Checkpoint
	open  int

	emitting Checkpoint // Run's goroutine only: see Emitting
}

// Emitting is the checkpoint just after the batch being emitted: what
// Acked will be once emit returns nil. Call it only from inside emit (on
// Run's goroutine). A consumer that acknowledges batches later than emit
// returns (a forwarder) keeps it with the batch and saves it once the
// batch was acknowledged, instead of saving Acked.
func (t *Tail) Emitting() Checkpoint { return t.emitting }

// target is the file that Path stands for right now.
func (t *Tail) target() string {
	if fi, err := os.Stat(t.Path); err == nil && fi.IsDir() {
		return filepath.Join(t.Path, CurrentName)
	}
	return t.Path
}

// Acked is the checkpoint of everything emit returned from: the end of the
// last complete line whose events were all acknowledged.
func (t *Tail) Acked() Checkpoint {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.acked
}

// OpenFiles is the number of file descriptors the Tail holds.
func (t *Tail) OpenFiles() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.open
}

func (t *Tail) opened(d int) {
	t.mu.Lock()
	t.open += d
	t.mu.Unlock()
}

func (t *Tail) problem(p Problem) {
	if t.OnProblem != nil {
		t.OnProblem(p)
	}
}

// Run reads the history (or resumes), then follows the file until ctx is
// cancelled (it returns ctx.Err()) or emit fails (it returns that error).
// emit returning nil acknowledges the batch: Acked moves past it.
func (t *Tail) Run(ctx context.Context, emit func(Batch) error) error {
	t.prepare()
	wk := newWaker(t.Poll)
	defer wk.close()
	missing := missingOnce(t)
	if err := t.waitForPath(ctx, wk, missing); err != nil {
		return err
	}
	first, catch, err := t.readHistory(ctx, wk, emit)
	if err != nil {
		return err
	}
	return t.followCurrent(ctx, wk, missing, first, catch, emit)
}

// prepare sets the defaults and the checkpoint to resume from.
func (t *Tail) prepare() {
	if t.MaxLine <= 0 {
		t.MaxLine = DefaultMaxLine
	}
	if t.Poll <= 0 {
		t.Poll = DefaultPoll
	}
	if t.chunk <= 0 {
		t.chunk = defaultChunk
	}
	abs, err := filepath.Abs(t.Path)
	if err == nil {
		t.Path = abs
	}
	t.mu.Lock()
	t.acked.Source = t.Path
	if t.Resume != nil {
		t.acked = *t.Resume
		t.acked.Source = t.Path
	}
	t.mu.Unlock()
}

// waitForPath waits for the path (file or directory) to exist: until then
// it is not known which file it stands for, and the backups must be looked
// at before the current file is read.
func (t *Tail) waitForPath(ctx context.Context, wk *waker, missing func(string)) error {
	for {
		if _, err := os.Stat(t.Path); err == nil {
			return nil
		}
		missing(t.Path)
		wk.watch(filepath.Dir(t.Path))
		if err := wk.wait(ctx); err != nil {
			return err
		}
	}
}

// readHistory reads the backups the plan names, and returns where to start
// in the current file (held open), or nil; then, with no current file
// open, which backups to read first once there is one.
func (t *Tail) readHistory(ctx context.Context, wk *waker, emit func(Batch) error) (*resumeAt, catchUp, error) {
	target := t.target()
	wk.watch(filepath.Dir(target))
	pl := t.plan(target)
	hold(pl.backlog)
	for _, p := range pl.problems {
		t.problem(p)
	}
	for i, it := range pl.backlog {
		if err := t.readBacklog(ctx, it, emit); err != nil {
			unhold(pl.backlog[i+1:])
			if pl.current != nil {
				pl.current.f.Close()
			}
			return nil, catchUp{}, err
		}
	}
	return pl.current, pl.catchUp, nil
}

// followCurrent follows the current file, from first if the plan holds it
// open, through rotations and truncations. catch says which backups to
// read before a current file opened later (see catchUp).
func (t *Tail) followCurrent(ctx context.Context, wk *waker, missing func(string), first *resumeAt, catch catchUp, emit func(Batch) error) error {
	var cur *follower
	defer func() {
		if cur != nil {
			cur.release()
		}
	}()
	for {
		target := t.target()
		wk.watch(filepath.Dir(target))
		if cur == nil {
			var opened bool
			if cur, opened = t.openCurrent(target, first, missing); opened {
				first = nil
			}
			if cur != nil {
				if err := catch.read(ctx, t, target, cur, emit); err != nil {
					return err
				}
			}
		}
		if cur != nil {
			if err := cur.pump(ctx, false, emit); err != nil {
				return err
			}
			next, last, again, err := t.recheck(ctx, cur, target, emit)
			if err != nil {
				return err
			}
			if cur = next; cur == nil {
				// After a rotation found no current file: the file opened
				// next may have been rotated meanwhile.
				catch = catchUp{on: true, since: last}
			}
			if again {
				continue
			}
		}
		if err := wk.wait(ctx); err != nil {
			return err
		}
	}
}

// openCurrent opens the current file at target (or takes first's) and
// starts following it. opened is false while there is no file to open.
func (t *Tail) openCurrent(target string, first *resumeAt, missing func(string)) (cur *follower, opened bool) {
	var f *os.File
	var err error
	at := time.Now()
	if first != nil && first.f != nil {
		f, at = first.f, first.opened
	} else {
		f, err = openTarget(stageCurrent, target)
	}
	if errors.Is(err, fs.ErrNotExist) {
		missing(target)
	}
	if err != nil {
		return nil, false
	}
	cur, err = t.follow(f, target, first, at)
	if err != nil {
		t.problem(Problem{Path: target, Kind: Unreadable, Msg: "cannot read: " + errText(err)})
	}
	return cur, true
}

// recheck looks at what target is after cur was read to its end: the same
// file (grown, or cut off), another one (a rotation: the old one is drained
// and the new one followed), or nothing yet. It returns the follower to go
// on with, and again true when it should be read at once.
func (t *Tail) recheck(ctx context.Context, cur *follower, target string, emit func(Batch) error) (next *follower, last time.Time, again bool, err error) {
	fi, err := os.Stat(target)
	switch {
	case err != nil:
		// Gone (rotated away and not yet recreated, or deleted): keep
		// the descriptor; a new file at the path is a rotation.
	case !os.SameFile(fi, cur.fi):
		if err := cur.pump(ctx, true, emit); err != nil { // drain the old file
			return cur, last, false, err
		}
		t.finished(cur)
		cur.release()
		next, last, err := t.rotated(ctx, cur, target, emit)
		if err != nil {
			return cur, last, false, err
		}
		return next, last, true, nil
	case fi.Size() < cur.readOff() && fi.Size() >= cur.off:
		cur.dropPartial() // only a partial last line was cut off
	case fi.Size() < cur.readOff() || cur.overwritten || !cur.headIntact():
		if err := t.truncatedInPlace(ctx, cur, target, fi.Size(), emit); err != nil {
			return cur, last, false, err
		}
		return cur, last, true, nil
	}
	return cur, last, false, nil
}

// missingOnce returns a func that says, the first time only, that the
// path to follow is not there: Run waits for it without a word otherwise.
// (NoAuditFiles, not Unreadable: nothing is lost, and a sink's reader
// reports only what it lost.)
func missingOnce(t *Tail) func(path string) {
	said := false
	return func(path string) {
		if !said {
			said = true
			t.problem(Problem{Path: path, Kind: NoAuditFiles, Msg: "does not exist (yet); waiting for it to appear"})
		}
	}
}

// follow starts following f, from the resume point when it is that file.
// opened is when f was opened: the file was not rotated before.
func (t *Tail) follow(f *os.File, path string, from *resumeAt, opened time.Time) (*follower, error) {
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	dev, ino := fileID(fi)
	src := &source{path: path, dev: dev, inode: ino, raw: t.held(f), file: f}
	fl := &follower{t: t, src: src, fi: fi, w: worker{maxLine: t.MaxLine}, seen: opened}
	fl.rd = &fdReader{f: f}
	t.opened(1)
	if from != nil && from.dev == dev && from.inode == ino && from.offset <= fi.Size() {
		fl.off, fl.line = from.offset, from.line
		fl.rd.(*fdReader).off = from.offset
		fl.fp = from.fp
		head := make([]byte, min(from.offset, fingerprintSize))
		if n, _ := f.ReadAt(head, 0); n == len(head) {
			fl.head = head
		}
	}
	return fl, nil
}

// waker wakes the Tail: on a change in the watched directory (fsnotify), or
// on the poll ticker.
//
// Goroutines: the Tail's Run goroutine only.
type waker struct {
	fw      *fsnotify.Watcher
	watched string
	tick    *time.Ticker
}

func newWaker(poll time.Duration) *waker {
	w := &waker{tick: time.NewTicker(poll)}
	if fw, err := fsnotify.NewWatcher(); err == nil {
		w.fw = fw
	}
	return w
}

// watch makes sure dir is watched (it may have been created, or removed and
// created again, since the last call).
func (w *waker) watch(dir string) {
	if w.fw == nil {
		return
	}
	if w.watched == dir {
		for _, d := range w.fw.WatchList() {
			if d == dir {
				return
			}
		}
	} else if w.watched != "" {
		_ = w.fw.Remove(w.watched)
	}
	w.watched = ""
	if w.fw.Add(dir) == nil {
		w.watched = dir
	}
}

func (w *waker) wait(ctx context.Context) error {
	var events <-chan fsnotify.Event
	var errs <-chan error
	if w.fw != nil {
		events, errs = w.fw.Events, w.fw.Errors
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-w.tick.C:
	case <-events:
	case <-errs: // an overflow: the stat that follows is the truth anyway
	}
	for { // coalesce a burst of notifications into one wake-up
		select {
		case <-events:
		case <-errs:
		default:
			return nil
		}
	}
}

func (w *waker) close() {
	w.tick.Stop()
	if w.fw != nil {
		w.fw.Close()
	}
}

// fdReader reads a file from an offset with pread, so the descriptor's own
// offset never matters; io.EOF means "nothing more for now".
type fdReader struct {
	f   *os.File
	off int64
}

func (r *fdReader) Read(p []byte) (int, error) {
	n, err := r.f.ReadAt(p, r.off)
	r.off += int64(n)
	return n, err
}

var _ io.Reader = (*fdReader)(nil)
