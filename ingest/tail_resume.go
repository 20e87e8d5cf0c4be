package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
)

// resumeAt is where to start in the current file (already open).
type resumeAt struct {
	f            *os.File
	opened       time.Time // when f was opened (it was not rotated before)
	dev, inode   uint64
	offset, line int64
	fp           fingerprint
}

// backlogItem is a backup to read to its end before following.
type backlogItem struct {
	path, alt    string // alt: the .gz to read if path is gone (lumberjack compressed it meanwhile)
	offset, line int64
	fp           fingerprint
	rotated      time.Time // the backup's rotation time (see backupFile)
	f            *os.File  // path, opened by hold (nil: open it by name)
}

// maxHeld is how many backups are held open at once (see hold).
const maxHeld = 256

// hold opens the backups to read at once: while the first ones are read,
// lumberjack may delete the oldest (--audit-log-maxbackup) and logrotate
// renames numbered backups (audit.log.1 becomes audit.log.2); an open
// descriptor still reads the file that was listed. Past maxHeld they are
// opened by name when their turn comes.
func hold(items []backlogItem) {
	for i := range items[:min(len(items), maxHeld)] {
		it := &items[i]
		f, err := os.Open(it.path)
		if errors.Is(err, fs.ErrNotExist) && it.alt != "" {
			if f, err = os.Open(it.alt); err == nil {
				it.path, it.alt = it.alt, ""
			}
		}
		if isFDExhausted(err) {
			// Leave descriptors for everything else (events read back,
			// the positions file, sinks): keep half of those held.
			unhold(items[i/2 : i])
			return
		}
		it.f = f
	}
}

// unhold closes the files hold opened for items.
func unhold(items []backlogItem) {
	for i := range items {
		if f := items[i].f; f != nil {
			f.Close()
			items[i].f = nil
		}
	}
}

// tailPlan is what to read before following the current file.
type tailPlan struct {
	backlog  []backlogItem
	current  *resumeAt
	problems []Problem
	catchUp  catchUp // no current file held: the backups newer than those listed are read before the next one
}

// backupFile is a rotated backup of the followed file.
type backupFile struct {
	path    string    // the plain file when lumberjack is compressing it, else the .gz
	alt     string    // the .gz being written next to the plain file, or ""
	rotated time.Time // lumberjack's time in the name, else the modification time
}

// backups lists the backups of dir/base, oldest first.
func backups(dir, base string) []backupFile {
	names, err := auditFiles(dir)
	if err != nil {
		return nil
	}
	var out []backupFile
	for _, n := range names {
		ln, ok := parseLogName(n)
		if !ok || ln.base != base || ln.rank == 2 {
			continue
		}
		b := backupFile{path: filepath.Join(dir, n)}
		if !strings.HasSuffix(n, ".gz") {
			// lumberjack may be compressing it: the plain file can go at
			// any moment, its .gz then holds the same bytes.
			b.alt = b.path + ".gz"
		}
		if t, err := time.Parse(lumberjackTime, ln.key); ln.rank == 0 && err == nil {
			b.rotated = t
		} else if fi, err := os.Stat(b.path); err == nil {
			b.rotated = fi.ModTime()
		}
		out = append(out, b)
	}
	return out
}

// plan decides where to start: from the checkpoint (in the current file, or
// in a backup found by its fingerprint, then the newer backups), or by
// History.
func (t *Tail) plan(target string) tailPlan {
	var pl tailPlan
	// Open the current file before listing the backups: if it is rotated
	// meanwhile, the descriptor still reads it to its end, and the backups
	// read first are all older than it.
	var size int64
	opened := time.Now()
	if f, err := openTarget(stagePlan, target); err == nil {
		if fi, err := f.Stat(); err == nil {
			dev, ino := fileID(fi)
			pl.current, size = &resumeAt{f: f, opened: opened, dev: dev, inode: ino}, fi.Size()
		} else {
			f.Close()
		}
	}
	bks := backups(filepath.Dir(target), filepath.Base(target))
	if cur := pl.current; cur != nil {
		id := &followedID{f: cur.f, dev: cur.dev, inode: cur.inode}
		for i, b := range bks {
			if id.is(b) {
				bks = bks[:i] // rotated just now: it is the held current file
				break
			}
		}
	} else {
		// Whatever audit.log is opened later may be rotated before it is:
		// every backup not listed here is newer than these.
		pl.catchUp.on = true
		for _, b := range bks {
			if b.rotated.After(pl.catchUp.since) {
				pl.catchUp.since = b.rotated
			}
		}
	}
	cp := t.Resume
	if cp == nil {
		for _, b := range bks {
			if t.History.All || (!t.History.Since.IsZero() && !b.rotated.Before(t.History.Since)) {
				pl.backlog = append(pl.backlog, backlogItem{path: b.path, alt: b.alt, rotated: b.rotated})
			}
		}
		return pl
	}
	want := fingerprint{n: cp.FingerprintLen, sum: cp.Fingerprint}
	if cur := pl.current; cur != nil && cur.dev == cp.Dev && cur.inode == cp.Inode && matchPlain(cur.f, want) {
		if size >= cp.Offset {
			cur.offset, cur.line, cur.fp = cp.Offset, cp.Line, want
			return pl
		}
		pl.problems = append(pl.problems, Problem{Path: target, Kind: Truncated,
			Msg: fmt.Sprintf("truncated to %d bytes while kaudit was not reading it (it had read %d); reading it from its start", size, cp.Offset)})
		return pl
	}
	for i, b := range bks {
		path, ok := matchBackup(b, cp, want)
		if !ok {
			continue
		}
		it := backlogItem{path: path, offset: cp.Offset, line: cp.Line, fp: want, rotated: b.rotated}
		if path == b.path {
			it.alt = b.alt
		}
		pl.backlog = append(pl.backlog, it)
		for _, nb := range bks[i+1:] {
			pl.backlog = append(pl.backlog, backlogItem{path: nb.path, alt: nb.alt, rotated: nb.rotated})
		}
		pl.problems = append(pl.problems, t.lostAfter(want, cp.Dev, cp.Inode, cp.Line, bks, pl.currentFile())...)
		return pl
	}
	// The file is gone. Backups rotated after the checkpoint was written
	// are newer than it: read them.
	if cp.Offset > 0 || cp.FingerprintLen > 0 {
		count, lost := t.lostCount(cp)
		pl.problems = append(pl.problems, Problem{Path: cp.Path, Line: cp.Line + 1, Kind: Unreadable, Lost: lost,
			Msg: fmt.Sprintf("rotated and deleted while kaudit was not reading it (device %d, inode %d, no backup with its fingerprint left): "+
				"everything after byte %d (line %d) of it could not be read%s", cp.Dev, cp.Inode, cp.Offset, cp.Line, count)})
		pl.problems = append(pl.problems, t.lostAfter(want, cp.Dev, cp.Inode, cp.Line, bks, pl.currentFile())...)
	}
	// FileSince (when the file was opened, or its backup's rotation
	// time) comes before its rotation; Updated (older checkpoints) may
	// come long after it, for a reader lagging behind (a forward sink's).
	mark := cp.Updated
	if !cp.FileSince.IsZero() {
		mark = rotatedAfter(cp.FileSince)
	}
	for _, b := range bks {
		if mark.IsZero() || b.rotated.After(mark) {
			pl.backlog = append(pl.backlog, backlogItem{path: b.path, alt: b.alt, rotated: b.rotated})
		}
	}
	return pl
}

// currentFile is the current file held open, or nil.
func (pl *tailPlan) currentFile() *os.File {
	if pl.current == nil {
		return nil
	}
	return pl.current.f
}

// matchPlain reports whether f starts with the fingerprinted bytes.
func matchPlain(f *os.File, want fingerprint) bool {
	if want.n == 0 {
		return true
	}
	fp, err := fingerprintOf(f, int64(want.n))
	return err == nil && fp == want
}

// matchBackup reports whether the backup at path (plain or gzip) is the
// checkpoint's file, and which path holds it. Without a fingerprint
// (nothing of it was read) only a plain backup with its device and inode
// matches.
func matchBackup(b backupFile, cp *Checkpoint, want fingerprint) (string, bool) {
	if matchFile(b.path, cp, want) {
		return b.path, true
	}
	if b.alt != "" && matchFile(b.alt, cp, want) {
		return b.alt, true
	}
	return "", false
}

func matchFile(path string, cp *Checkpoint, want fingerprint) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var head [2]byte
	n, _ := f.ReadAt(head[:], 0)
	if n == 2 && head[0] == 0x1f && head[1] == 0x8b {
		if want.n == 0 {
			return false
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			return false
		}
		fp, err := fingerprintOfStream(zr, want.n)
		return err == nil && fp == want
	}
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	dev, ino := fileID(fi)
	if want.n == 0 {
		return dev == cp.Dev && ino == cp.Inode
	}
	return matchPlain(f, want) && fi.Size() >= cp.Offset
}

// readBacklog reads one backup (plain or gzip) from it.offset to its end.
func (t *Tail) readBacklog(ctx context.Context, it backlogItem, emit func(Batch) error) error {
	f, err := it.f, error(nil)
	if f == nil {
		f, err = openInput(it.path)
	} else if _, serr := os.Stat(it.path); errors.Is(serr, fs.ErrNotExist) && it.alt != "" {
		// Held open, then compressed by lumberjack: its .gz holds the
		// same bytes, and events can be read back from it later (the
		// plain file cannot be opened by name any more).
		if af, aerr := openInput(it.alt); aerr == nil {
			f.Close()
			it.path, f = it.alt, af
		}
	}
	if errors.Is(err, fs.ErrNotExist) && it.alt != "" {
		// lumberjack compressed it meanwhile: read the .gz.
		if af, aerr := openInput(it.alt); aerr == nil || !errors.Is(aerr, fs.ErrNotExist) {
			it.path, f, err = it.alt, af, aerr
		}
	}
	if isFDExhausted(err) {
		// Not the file's fault: stop (the positions stay before it)
		// rather than skip it for good.
		return fmt.Errorf("%s: %w", it.path, err)
	}
	if err != nil {
		t.problem(Problem{Path: it.path, Kind: Unreadable, Msg: "cannot read: " + errText(err)})
		return nil
	}
	defer f.Close() // read once; its events' bytes are read again by path
	fi, err := f.Stat()
	if err != nil {
		t.problem(Problem{Path: it.path, Kind: Unreadable, Msg: "cannot read: " + errText(err)})
		return nil
	}
	dev, ino := fileID(fi)
	src := &source{path: it.path, dev: dev, inode: ino}
	fl := &follower{t: t, src: src, w: worker{maxLine: t.MaxLine}, off: it.offset, line: it.line, fp: it.fp, seen: it.rotated}
	var head [2]byte
	if n, _ := f.ReadAt(head[:], 0); n == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.problem(Problem{Path: it.path, Kind: Unreadable, Msg: "not a readable gzip file: " + err.Error()})
			return nil
		}
		if skipped, err := io.CopyN(io.Discard, zr, it.offset); err != nil {
			t.problem(Problem{Path: it.path, Line: it.line + 1, Kind: Truncated,
				Msg: fmt.Sprintf("holds %d bytes, fewer than the %d already read; nothing more read from it", skipped, it.offset)})
			return nil
		}
		fl.spool = NewSpool()
		fl.spool.Skip(it.offset)
		src.raw = fl.spool
		fl.rd = zr
	} else {
		src.raw = newLazyFile(f, it.path, dev, ino)
		fl.rd = &fdReader{f: f, off: it.offset}
	}
	err = fl.pump(ctx, true, emit)
	if err == nil {
		t.finished(fl)
	}
	if fl.spool != nil {
		fl.spool.Close() // seals it; it stays readable
	}
	return err
}
