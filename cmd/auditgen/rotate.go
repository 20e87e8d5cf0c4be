package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/klauspost/compress/gzip"
)

// rotator writes audit.log in dir and rotates it like lumberjack (the
// kube-apiserver log backend): before a write that would make the file
// exceed max bytes, audit.log is renamed to audit-<UTC time>.log and a new
// audit.log is started; with compression the backup becomes .log.gz (written
// next to it, then the .log is removed). The time is the generated clock's.
type rotator struct {
	dir   string
	max   int64
	gzip  bool
	f     *os.File
	w     *bufio.Writer
	size  int64
	last  time.Time // time of the last line written
	prev  string    // name of the previous backup (to keep names unique)
	files int
	errc  chan error // results of background compressions
	jobs  int
}

const (
	currentName  = "audit.log"
	backupLayout = "2006-01-02T15-04-05.000" // lumberjack's backupTimeFormat
)

func newRotator(dir string, max int64, gz bool) (*rotator, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	r := &rotator{dir: dir, max: max, gzip: gz, errc: make(chan error, 64)}
	return r, r.open()
}

func (r *rotator) open() error {
	f, err := os.OpenFile(filepath.Join(r.dir, currentName), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	r.f, r.size, r.files = f, 0, r.files+1
	if r.w == nil {
		r.w = bufio.NewWriterSize(f, 1<<20)
	} else {
		r.w.Reset(f)
	}
	return nil
}

func (r *rotator) writeLine(line []byte, t time.Time) error {
	if r.max > 0 && r.size > 0 && r.size+int64(len(line)) > r.max {
		if err := r.rotate(t); err != nil {
			return err
		}
	}
	r.last = t
	n, err := r.w.Write(line)
	r.size += int64(n)
	return err
}

// finish flushes and closes audit.log, stamping it with the time of its last line.
func (r *rotator) finish() error {
	if err := r.w.Flush(); err != nil {
		return err
	}
	if err := r.f.Close(); err != nil {
		return err
	}
	return os.Chtimes(r.f.Name(), r.last, r.last)
}

func (r *rotator) rotate(t time.Time) error {
	if err := r.finish(); err != nil {
		return err
	}
	name := "audit-" + t.UTC().Format(backupLayout) + ".log"
	for name <= r.prev { // two rotations within one millisecond of generated time
		t = t.Add(time.Millisecond)
		name = "audit-" + t.UTC().Format(backupLayout) + ".log"
	}
	r.prev = name
	backup := filepath.Join(r.dir, name)
	if err := os.Rename(filepath.Join(r.dir, currentName), backup); err != nil {
		return err
	}
	if r.gzip {
		// Like lumberjack's mill goroutine: compress in the background.
		r.jobs++
		mtime := r.last
		go func() { r.errc <- compress(backup, mtime) }()
		if r.jobs >= cap(r.errc) {
			if err := r.drain(1); err != nil {
				return err
			}
		}
	}
	return r.open()
}

func (r *rotator) drain(n int) error {
	var first error
	for ; n > 0 && r.jobs > 0; n-- {
		if err := <-r.errc; err != nil && first == nil {
			first = err
		}
		r.jobs--
	}
	return first
}

func (r *rotator) close(time.Time) (int, error) {
	err := r.finish()
	if e := r.drain(r.jobs); err == nil {
		err = e
	}
	return r.files, err
}

// compress writes src.gz and removes src.
func compress(src string, mtime time.Time) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	dst := src + ".gz"
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	zw := gzip.NewWriter(out)
	if _, err := io.Copy(zw, in); err != nil {
		out.Close()
		return fmt.Errorf("compress %s: %w", src, err)
	}
	if err := zw.Close(); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	if err := os.Chtimes(dst, mtime, mtime); err != nil {
		return err
	}
	return os.Remove(src)
}
