package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/klauspost/compress/gzip"
)

// DefaultFileLogSize is how many finished files a FileLog remembers; older
// ones drop off.
const DefaultFileLogSize = 256

// FinishedFile is one file a Tail read to its end: a rotated file drained
// after its rotation, or a backup read from the backlog.
//
// kube-apiserver's log backend writes one audit Event per line, so Lines is
// also the number of events the file held (a malformed line counts too).
type FinishedFile struct {
	Path           string `json:"path"` // where it was read (for messages; lumberjack renames and gzips files)
	Dev            uint64 `json:"device"`
	Inode          uint64 `json:"inode"`
	Fingerprint    string `json:"fingerprint"` // hex sha256 of the first FingerprintLen bytes (decompressed): its identity
	FingerprintLen int    `json:"fingerprint_len"`
	Lines          int64  `json:"lines"` // lines read, a last line without its newline included
	Bytes          int64  `json:"bytes"`
}

func (e FinishedFile) fp() fingerprint { return fingerprint{n: e.FingerprintLen, sum: e.Fingerprint} }

// FileLog is a record, in completion order, of the files the main reader
// of a log finished reading. Readers that lag behind it (one per forward
// sink) consult it to count exactly what they can no longer read: a file
// the main reader finished and that has been deleted since.
//
// Files are identified by their fingerprint (it survives lumberjack's gzip
// of a backup, unlike device and inode).
//
// Goroutines: any; a mutex guards it. Typically the main Tail's Run
// goroutine adds, sink Tails' Run goroutines look up, and the positions
// flusher reads Entries.
type FileLog struct {
	mu      sync.Mutex
	entries []FinishedFile
	max     int
}

// NewFileLog returns a FileLog holding entries (oldest first; e.g. as
// loaded from the positions file), bounded to DefaultFileLogSize.
func NewFileLog(entries []FinishedFile) *FileLog {
	l := &FileLog{max: DefaultFileLogSize}
	for _, e := range entries {
		l.Add(e)
	}
	return l
}

// Add records e as finished now. A file already recorded (same
// fingerprint: read again after a restart) moves to the end.
func (l *FileLog) Add(e FinishedFile) {
	if e.FingerprintLen == 0 {
		return // nothing of it was read: nothing to identify, nothing to lose
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = slices.DeleteFunc(l.entries, func(x FinishedFile) bool {
		return x.Fingerprint == e.Fingerprint && x.FingerprintLen == e.FingerprintLen
	})
	l.entries = append(l.entries, e)
	if max := l.max; max > 0 && len(l.entries) > max {
		l.entries = slices.Delete(l.entries, 0, len(l.entries)-max)
	}
}

// Entries returns a copy of the record, oldest first.
func (l *FileLog) Entries() []FinishedFile {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.entries)
}

// find returns the index of the file identified by fp (or, when fp is
// shorter than the recorded fingerprint because less than 1 KiB of the
// file had been read, by device and inode with enough lines), or -1.
func findFinished(es []FinishedFile, fp fingerprint, dev, inode uint64, line int64) int {
	if fp.n == 0 {
		return -1
	}
	for i := len(es) - 1; i >= 0; i-- {
		e := es[i]
		if e.fp() == fp {
			return i
		}
		if fp.n < e.FingerprintLen && e.Dev == dev && e.Inode == inode && e.Lines >= line {
			return i
		}
	}
	return -1
}

// log is the record this Tail counts losses with: Known (a sink's reader),
// else its own Finished (the main reader after a restart).
func (t *Tail) log() *FileLog {
	if t.Known != nil {
		return t.Known
	}
	return t.Finished
}

// finished records fl's file, read to its end, in t.Finished.
func (t *Tail) finished(fl *follower) {
	if t.Finished == nil || fl.off == 0 {
		return
	}
	fp := fl.fp
	if fp.n < fingerprintSize && fl.off > int64(fp.n) {
		if got, err := fingerprintOf(fl.src.raw, min(fl.off, fingerprintSize)); err == nil {
			fp = got
		}
	}
	path := fl.src.path
	if fl.fi != nil {
		path = backupName(fl, fp)
	}
	t.Finished.Add(FinishedFile{Path: path, Dev: fl.src.dev, Inode: fl.src.inode,
		Fingerprint: fp.sum, FingerprintLen: fp.n, Lines: fl.line, Bytes: fl.off})
}

// backupName names a followed file, rotated, by its backup (found by
// inode, or by fingerprint once lumberjack gzipped it) rather than by the
// path it was followed at.
func backupName(fl *follower, fp fingerprint) string {
	bks := backups(filepath.Dir(fl.src.path), filepath.Base(fl.src.path))
	for _, b := range bks {
		if fi, err := os.Stat(b.path); err == nil {
			if dev, ino := fileID(fi); dev == fl.src.dev && ino == fl.src.inode {
				return b.path
			}
		}
	}
	e := FinishedFile{Fingerprint: fp.sum, FingerprintLen: fp.n}
	for i := len(bks) - 1; i >= 0; i-- { // newest first: it was rotated just now
		if onDisk(e, [][]byte{headOf(bks[i].path)}) {
			return bks[i].path
		}
	}
	return fl.src.path
}

// lostAfter reports, as problems, every file the main reader finished after
// the file identified by (fp, dev, inode) that is on disk neither as one of
// bks nor as the file open in cur (nil: none): it was rotated and deleted
// before this Tail read it. Each problem counts the events lost.
func (t *Tail) lostAfter(fp fingerprint, dev, inode uint64, line int64, bks []backupFile, cur *os.File) []Problem {
	es := t.log().Entries()
	i := findFinished(es, fp, dev, inode, line)
	if i < 0 || i == len(es)-1 {
		return nil
	}
	var heads [][]byte
	for _, b := range bks {
		if h := headOf(b.path); h != nil {
			heads = append(heads, h)
		} else if b.alt != "" {
			heads = append(heads, headOf(b.alt))
		}
	}
	if cur != nil {
		buf := make([]byte, fingerprintSize)
		n, _ := cur.ReadAt(buf, 0)
		heads = append(heads, buf[:n])
	}
	var out []Problem
	for _, e := range es[i+1:] {
		if onDisk(e, heads) {
			continue
		}
		out = append(out, Problem{Path: e.Path, Kind: Unreadable, Lost: e.Lines,
			Msg: fmt.Sprintf("rotated and deleted before it was read for this sink: %d events lost", e.Lines)})
	}
	return out
}

// onDisk reports whether one of heads (the first bytes of the files on
// disk) starts with e's fingerprinted bytes.
func onDisk(e FinishedFile, heads [][]byte) bool {
	for _, h := range heads {
		if len(h) < e.FingerprintLen {
			continue
		}
		s := sha256.Sum256(h[:e.FingerprintLen])
		if hex.EncodeToString(s[:]) == e.Fingerprint {
			return true
		}
	}
	return false
}

// headOf returns the first fingerprintSize bytes of path (decompressed if
// it is gzip), fewer if it is shorter; nil if it cannot be read.
func headOf(path string) []byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	buf := make([]byte, fingerprintSize)
	n, _ := f.ReadAt(buf, 0)
	if n >= 2 && buf[0] == 0x1f && buf[1] == 0x8b {
		zr, err := gzip.NewReader(io.NewSectionReader(f, 0, 1<<62))
		if err != nil {
			return nil
		}
		n, _ = io.ReadFull(zr, buf)
	}
	return buf[:n]
}

// lostCount is the message for the checkpoint's file, gone: how many events
// of it were lost, when the log knows the file.
func (t *Tail) lostCount(cp *Checkpoint) (string, int64) {
	l := t.log()
	if l == nil {
		return "", 0
	}
	es := l.Entries()
	i := findFinished(es, fingerprint{n: cp.FingerprintLen, sum: cp.Fingerprint}, cp.Dev, cp.Inode, cp.Line)
	if i < 0 {
		if t.Known == nil {
			return "", 0 // the main reader: its checkpoint is usually its newest file, never recorded
		}
		return "; count unknown (kaudit has no record of the file's length)", 0
	}
	e := es[i]
	n := max(e.Lines-cp.Line, 0)
	return fmt.Sprintf(": %d events lost (lines %d..%d of %s)", n, cp.Line+1, e.Lines, e.Path), n
}
