package ingest

import (
	"context"
	"os"
	"path/filepath"
	"time"
)

// openTarget opens the current file; stage says where (stagePlan,
// stageCurrent, stageRotated). Tests replace it to rotate the file at that
// very moment, which makes each race window deterministic.
var openTarget = defaultOpenTarget

func defaultOpenTarget(stage, path string) (*os.File, error) { return os.Open(path) }

// The stages at which openTarget is called.
const (
	stagePlan    = "plan"    // start-up: the current file, before the backups are listed
	stageCurrent = "current" // a current file that was missing (at start-up, or after a rotation)
	stageRotated = "rotated" // the new current file after a rotation, before the backups are listed
)

// rotated is called after the old file was drained: it opens the new
// current file, then reads the backups rotated between the two (the file
// may have been rotated more than once between two looks), and returns the
// new file's follower (nil if there is none yet) and the rotation time of
// the last backup it read (or of the old file's).
func (t *Tail) rotated(ctx context.Context, old *follower, target string, emit func(Batch) error) (*follower, time.Time, error) {
	var next *follower
	opened := time.Now()
	if f, err := openTarget(stageRotated, target); err == nil {
		next, _ = t.follow(f, target, nil, opened)
	}
	bks := backups(filepath.Dir(target), filepath.Base(target))
	cp := &Checkpoint{Dev: old.src.dev, Inode: old.src.inode}
	// The old file was not rotated before it was opened.
	from, since := -1, rotatedAfter(old.seen)
	for i, b := range bks {
		if _, ok := matchBackup(b, cp, old.fp); ok {
			from, since = i+1, b.rotated
			break
		}
	}
	if from < 0 {
		// The old file's backup is gone already (deleted by
		// --audit-log-maxbackup): the backups rotated since it was
		// opened are the ones in between.
		from = len(bks)
		for i, b := range bks {
			if b.rotated.After(since) {
				from = i
				break
			}
		}
	}
	var curFile *os.File
	if next != nil {
		curFile = next.src.file
	}
	for _, p := range t.lostAfter(old.fp, old.src.dev, old.src.inode, old.line, bks, curFile) {
		t.problem(p)
	}
	since, err := t.readBackups(ctx, bks[from:], next.id(), since, emit)
	if err != nil {
		if next != nil {
			next.release()
		}
		return nil, since, err
	}
	return next, since, nil
}

// rotatedAfter is the mark that the rotation time of a file not rotated
// before at comes after: lumberjack's names carry milliseconds, so one
// rotated in at's millisecond counts.
func rotatedAfter(at time.Time) time.Time {
	return at.Truncate(time.Millisecond).Add(-time.Nanosecond)
}

// readBackups reads bks, oldest first, up to the one that is the followed
// file cur (rotated again just now; cur may be nil), and returns the
// rotation time of the last one read (since if none).
func (t *Tail) readBackups(ctx context.Context, bks []backupFile, cur *followedID, since time.Time, emit func(Batch) error) (time.Time, error) {
	var items []backlogItem
	for _, nb := range bks {
		if cur.is(nb) {
			break // rotated again just now: it is being followed
		}
		items = append(items, backlogItem{path: nb.path, alt: nb.alt, rotated: nb.rotated})
	}
	hold(items)
	for i, it := range items {
		if err := t.readBacklog(ctx, it, emit); err != nil {
			unhold(items[i+1:])
			return since, err
		}
		since = it.rotated
	}
	return since, nil
}

// catchUp says which backups are newer than everything the Tail has read
// or deliberately left (History), while it has no current file open:
// those rotated after since (all of them if since is zero). A file can
// be created, written and rotated between the moment the Tail found no
// current file and the moment it opens the next one; it is one of those.
type catchUp struct {
	on    bool
	since time.Time
}

// read reads the backups newer than c's mark up to cur, the current file
// just opened, and turns c off.
func (c *catchUp) read(ctx context.Context, t *Tail, target string, cur *follower, emit func(Batch) error) error {
	if !c.on {
		return nil
	}
	var newer []backupFile
	for _, b := range backups(filepath.Dir(target), filepath.Base(target)) {
		if b.rotated.After(c.since) {
			newer = append(newer, b)
		}
	}
	_, err := t.readBackups(ctx, newer, cur.id(), c.since, emit)
	*c = catchUp{}
	return err
}

// followedID is the file being followed, to recognise it among the
// backups: by device and inode while its backup is plain, by its first
// bytes once lumberjack compressed it (the .gz is another inode), or when
// the backup is a copy of it (logrotate's copytruncate, before the
// truncation). Reading it from the backup as well would read it twice.
type followedID struct {
	f          *os.File
	dev, inode uint64
	fp         *fingerprint // of its first bytes, once needed
}

// id is the followed file's identity (nil for none).
func (fl *follower) id() *followedID {
	if fl == nil || fl.src.file == nil {
		return nil
	}
	return &followedID{f: fl.src.file, dev: fl.src.dev, inode: fl.src.inode}
}

// is reports whether the backup b holds the followed file.
func (id *followedID) is(b backupFile) bool {
	if id == nil {
		return false
	}
	if fi, err := os.Stat(b.path); err == nil {
		if dev, ino := fileID(fi); dev == id.dev && ino == id.inode {
			return true
		}
	}
	if id.fp == nil {
		id.fp = &fingerprint{}
		if fi, err := id.f.Stat(); err == nil && fi.Size() > 0 {
			if fp, err := fingerprintOf(id.f, min(fi.Size(), fingerprintSize)); err == nil {
				*id.fp = fp
			}
		}
	}
	if id.fp.n == 0 {
		return false // nothing to compare: an empty file was not rotated
	}
	_, ok := matchBackup(b, &Checkpoint{Dev: id.dev, Inode: id.inode}, *id.fp)
	return ok
}
