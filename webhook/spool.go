package webhook

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/kaudit/kaudit/audit"
)

// SpoolName is the file a SpoolFile writes in its directory.
const SpoolName = "webhook.log"

// SpoolFile is the durable spool of a Receiver: every accepted event is
// appended as one JSON line (its original bytes, compacted if it spanned
// lines) and the file is fsynced before the request is answered 200. It is
// an audit log like any other: follow it with a Tail (and positions), so a
// crash after the 200 loses nothing.
//
// The spool only grows; rotating or trimming it is left to the operator
// (nothing in kaudit deletes it).
//
// Goroutines: any; a mutex serialises appends (each append is one write
// and one fsync).
type SpoolFile struct {
	mu   sync.Mutex
	f    *os.File
	path string
	buf  []byte

	size    int64                     // the end of the last complete line
	trimmed int64                     // bytes of a torn last line cut off at open
	write   func([]byte) (int, error) // f.Write; tests make the disk full
}

// Trimmed is how many bytes of a torn last line (a write cut short by a
// crash or a full disk) OpenSpoolFile cut off.
func (s *SpoolFile) Trimmed() int64 { return s.trimmed }

// OpenSpoolFile opens (creating) dir/SpoolName for appending.
func OpenSpoolFile(dir string) (*SpoolFile, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, SpoolName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	// A crash in the middle of an append leaves a torn last line: cut it
	// off, or the next batch would be glued onto it and its first event
	// lost in one malformed line.
	size, trimmed, err := trimTorn(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: trimming a torn last line: %w", path, err)
	}
	if err := syncDir(dir); err != nil { // the file's creation is durable too
		f.Close()
		return nil, err
	}
	sp := &SpoolFile{f: f, path: path, size: size, trimmed: trimmed}
	sp.write = f.Write
	return sp, nil
}

// Path is the spool file's path.
func (s *SpoolFile) Path() string { return s.path }

// Append writes events, one line each, and fsyncs.
func (s *SpoolFile) Append(events []audit.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf = s.buf[:0]
	for i := range events {
		s.buf = append(s.buf, oneLine(events[i].Raw)...)
		s.buf = append(s.buf, '\n')
	}
	n, err := s.write(s.buf)
	if err != nil {
		// A short write (a full disk) left part of the batch: the request
		// is answered 503 and will be sent again, and the next batch must
		// start on a line of its own. Cut back to the last complete line.
		if n > 0 {
			if terr := s.f.Truncate(s.size); terr != nil {
				return fmt.Errorf("%w (and cutting the partial write off failed: %v)", err, terr)
			}
		}
		return err
	}
	s.size += int64(n)
	if cap(s.buf) > 1<<20 {
		s.buf = nil // do not keep one big body's buffer for ever
	}
	return s.f.Sync()
}

// Close closes the file.
func (s *SpoolFile) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.f.Close()
}

// trimTorn truncates f after its last newline and returns the new size
// and how many bytes were cut.
func trimTorn(f *os.File) (size, trimmed int64, err error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	end := fi.Size()
	buf := make([]byte, 64<<10)
	for pos := end; pos > 0; {
		n := int64(len(buf))
		if pos < n {
			n = pos
		}
		pos -= n
		if _, err := f.ReadAt(buf[:n], pos); err != nil {
			return 0, 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			size = pos + int64(i) + 1
			break
		}
	}
	if size == end {
		return size, 0, nil
	}
	if err := f.Truncate(size); err != nil {
		return 0, 0, err
	}
	return size, end - size, f.Sync()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
