package ingest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// truncatedInPlace handles the followed file being truncated in place
// (logrotate's copytruncate): seen as a file shorter than what was read, or
// one whose first bytes changed (it was truncated and written again past
// the read offset). The lines not read yet are in the copy made just
// before the truncation: it is found among the backups by the file's first
// bytes and read from where the Tail stood. Then the file is read again
// from its start. Only without such a copy is anything lost, and reported.
func (t *Tail) truncatedInPlace(ctx context.Context, cur *follower, target string, size int64, emit func(Batch) error) error {
	off, line, read := cur.off, cur.line, cur.readOff()
	var want fingerprint
	if head := cur.head[:min(int64(len(cur.head)), off)]; len(head) > 0 {
		want = fingerprintOfBytes(head)
	}
	// The old generation's bytes are gone from the file: its events are
	// read from the copy if it is a plain file, else they fail rather than
	// return the new generation's bytes.
	old, _ := cur.src.raw.(*heldFile)
	cur.restart()
	if want.n > 0 && off > 0 {
		cp := &Checkpoint{Offset: off}
		bks := backups(filepath.Dir(target), filepath.Base(target))
		for i := len(bks) - 1; i >= 0; i-- { // the newest copy is the likeliest
			path, ok := matchBackup(bks[i], cp, want)
			if !ok {
				continue
			}
			if l := plainCopy(path, want); l != nil && old != nil {
				old.moved.Store(l)
			}
			if err := t.readBacklog(ctx, backlogItem{path: path, offset: off, line: line, fp: want, rotated: bks[i].rotated}, emit); err != nil {
				return err
			}
			// Newer copies are later generations, copied and truncated
			// before the Tail looked: read them too, up to a copy of what
			// the file holds now (it is read from its start next).
			_, err := t.readBackups(ctx, bks[i+1:], cur.id(), time.Time{}, emit)
			return err
		}
	}
	if off == 0 && read == 0 {
		return nil // nothing was read of it: nothing to miss
	}
	t.problem(Problem{Path: target, Line: line + 1, Kind: Truncated,
		Msg: fmt.Sprintf("truncated in place to %d bytes (copytruncate) after %d bytes were read, and no copy of it (a backup starting with the same bytes) was found: "+
			"lines written after line %d and not read before the truncation are lost; reading it again from its start", size, read, line)})
	return nil
}

// plainCopy is the plain (not gzip) file at path as a lazyFile identified
// by fp, or nil.
func plainCopy(path string, fp fingerprint) *lazyFile {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var head [2]byte
	if n, _ := f.ReadAt(head[:], 0); n == 2 && head[0] == 0x1f && head[1] == 0x8b {
		return nil
	}
	fi, err := f.Stat()
	if err != nil {
		return nil
	}
	dev, ino := fileID(fi)
	return &lazyFile{path: path, dev: dev, inode: ino, fp: fp}
}
