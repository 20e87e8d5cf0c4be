package webhook

import (
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
}

// OpenSpoolFile opens (creating) dir/SpoolName for appending.
func OpenSpoolFile(dir string) (*SpoolFile, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, SpoolName)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syncDir(dir); err != nil { // the file's creation is durable too
		f.Close()
		return nil, err
	}
	return &SpoolFile{f: f, path: path}, nil
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
	if _, err := s.f.Write(s.buf); err != nil {
		return err
	}
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

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
