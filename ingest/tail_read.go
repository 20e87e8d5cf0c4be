package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// follower reads one file (or one backup's decompressed stream) from an
// offset: it hands complete lines to a worker, skips over-long lines
// without holding them, keeps a partial trailing line until its newline,
// and emits the batches.
//
// Goroutines: the Tail's Run goroutine only.
type follower struct {
	t     *Tail
	src   *source
	fi    os.FileInfo // of the followed file (nil for backups)
	w     worker
	rd    io.Reader // the next bytes: an *fdReader, or a gzip reader
	spool *Spool    // non-nil: the stream is not a plain file; Batch.Raw reads it
	fp    fingerprint
	seen  time.Time // it was not rotated before: when it was opened (a followed file), or its backup's rotation time

	// head is the file's first bytes as read (up to fingerprintSize): a
	// file whose start no longer holds them was truncated in place and
	// written again (copytruncate), even if it grew past what was read.
	head        []byte
	overwritten bool // a read found the head changed: its bytes were dropped

	off, line int64  // end of the last complete line handed on (or skipped)
	pending   []byte // bytes from off on: a line without its newline yet
	skipping  bool   // inside a line longer than MaxLine, skip bytes of it so far
	skip      int64

	sniffed bool       // the first chunk was looked at for a cloud export
	cloud   *tailCloud // non-nil: the file is a cloud export (tail_cloud.go)
}

// readOff is how far the file has been read.
func (fl *follower) readOff() int64 { return fl.off + int64(len(fl.pending)) + fl.skip }

// restart reads the file again from its start (it was truncated in place).
func (fl *follower) restart() {
	if h, ok := fl.src.raw.(*heldFile); ok && fl.src.emitted {
		src := *fl.src
		src.raw, src.emitted = h.next(), false
		fl.src = &src
	}
	fl.off, fl.line, fl.pending, fl.skipping, fl.skip = 0, 0, nil, false, 0
	fl.fp, fl.head, fl.overwritten = fingerprint{}, nil, false
	if r, ok := fl.rd.(*fdReader); ok {
		r.off = 0
	}
}

// release closes the file unless some emitted event refers to it.
func (fl *follower) release() {
	if fl.cloud != nil {
		fl.cloud.src.raw.(*Spool).Close() // seals it; it stays readable
	}
	if fl.spool != nil {
		fl.spool.Close() // seals it; it stays readable
		return
	}
	if fl.src.emitted {
		return
	}
	if h, ok := fl.src.raw.(*heldFile); ok {
		h.Release()
	} else if fl.src.file != nil {
		fl.src.file.Close()
		fl.t.opened(-1)
	}
}

// pump reads what is there now and hands on every complete line. With
// final (the file was rotated away, or is a backup), the end of the data is
// the end of the file: a last line without a newline counts.
func (fl *follower) pump(ctx context.Context, final bool, emit func(Batch) error) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		want := max(fl.t.chunk, len(fl.pending))
		if r, ok := fl.rd.(*fdReader); ok {
			fl.checkPending(r)
			// Size the buffer to what is there: events alias it, so a few
			// new lines must not pin a whole chunk.
			fi, err := r.f.Stat()
			if err != nil {
				return nil
			}
			avail := fi.Size() - r.off
			if avail <= 0 {
				if final && (len(fl.pending) > 0 || fl.skipping) {
					return fl.end(emit)
				}
				return nil
			}
			want = int(min(int64(want), avail))
		}
		p := len(fl.pending)
		buf := make([]byte, p+want)
		copy(buf, fl.pending)
		n, eof, rerr := readFull(fl.rd, buf[p:])
		if r, ok := fl.rd.(*fdReader); ok {
			at := r.off - int64(n)
			fl.noteHead(buf[p:p+n], at)
			if !fl.headIntact() {
				// Truncated and written again while being read: these bytes
				// may be the new file's. Drop them; Run reads the rest of
				// the old file from its copy, then the new one from its start.
				r.off, fl.overwritten = at, true
				return nil
			}
		}
		data := buf[:p+n]
		if fl.skipping {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				fl.skip += int64(len(data))
				data = nil
			} else {
				fl.skip += int64(i)
				fl.tooLong(fl.line+1, fl.skip)
				fl.skipped(fl.skip + 1)
				data = data[i+1:]
			}
		}
		if !fl.skipping {
			cut := bytes.LastIndexByte(data, '\n') + 1
			if cut > 0 {
				if err := fl.handOn(data[:cut:cut], emit); err != nil {
					return err
				}
			}
			fl.pending = data[cut:]
			if len(fl.pending) > fl.t.MaxLine {
				fl.skipping, fl.skip, fl.pending = true, int64(len(fl.pending)), nil
			}
		}
		if rerr != nil {
			kind := Unreadable
			if errors.Is(rerr, io.ErrUnexpectedEOF) {
				kind = Truncated
			}
			fl.t.problem(Problem{Path: fl.src.path, Line: fl.line + 1, Kind: kind, Msg: readMsg(rerr)})
			fl.pending, fl.skipping, fl.skip = nil, false, 0
			return nil
		}
		if eof {
			if final {
				return fl.end(emit)
			}
			return nil
		}
	}
}

// checkPending drops the partial last line read so far if the file no
// longer holds it: a torn write cut off and overwritten (a spool trimming a
// short write, a writer rewriting its last line). The line is then read
// again from its start instead of being glued onto the old fragment.
func (fl *follower) checkPending(r *fdReader) {
	if len(fl.pending) == 0 || fl.skipping {
		return
	}
	buf := make([]byte, len(fl.pending))
	if n, _ := r.f.ReadAt(buf, fl.off); n == len(buf) && bytes.Equal(buf, fl.pending) {
		return
	}
	fl.pending, r.off = nil, fl.off
	fl.head = fl.head[:min(int64(len(fl.head)), fl.off)]
}

// noteHead records the file's first bytes from b, read at off.
func (fl *follower) noteHead(b []byte, off int64) {
	have := int64(len(fl.head))
	if have >= fingerprintSize || off > have || off+int64(len(b)) <= have {
		return
	}
	fl.head = append(fl.head, b[have-off:min(int64(len(b)), fingerprintSize-off)]...)
}

// headIntact reports whether the followed file still starts with the bytes
// read from its start (a plain file only).
func (fl *follower) headIntact() bool {
	r, ok := fl.rd.(*fdReader)
	// Only the complete lines handed on must stand: a partial last line
	// may be cut off and written again (see checkPending).
	head := fl.head[:min(int64(len(fl.head)), fl.off)]
	if !ok || len(head) == 0 {
		return true
	}
	buf := make([]byte, len(head))
	n, _ := r.f.ReadAt(buf, 0)
	return n == len(buf) && bytes.Equal(buf, head)
}

// dropPartial forgets the partial last line read so far (the file was cut
// back to the end of its last complete line): it is read again from there.
func (fl *follower) dropPartial() {
	fl.pending, fl.skipping, fl.skip = nil, false, 0
	if r, ok := fl.rd.(*fdReader); ok {
		r.off = fl.off
	}
	fl.head = fl.head[:min(int64(len(fl.head)), fl.off)]
}

// end hands on (or reports) what follows the last newline of a file that
// will not grow any more.
func (fl *follower) end(emit func(Batch) error) error {
	if fl.skipping {
		fl.tooLong(fl.line+1, fl.skip)
		fl.skipped(fl.skip)
		return nil
	}
	if len(fl.pending) == 0 {
		return nil
	}
	last := fl.pending
	fl.pending = nil
	return fl.handOn(last[:len(last):len(last)], emit)
}

func (fl *follower) tooLong(line, size int64) {
	fl.t.problem(Problem{Path: fl.src.path, Line: line, Kind: TooLong,
		Msg: fmt.Sprintf("line too long: %d bytes (limit %d); skipped", size, fl.t.MaxLine)})
}

// skipped accounts for n bytes of an over-long line not handed on.
func (fl *follower) skipped(n int64) {
	if fl.spool != nil {
		fl.spool.Skip(n)
	}
	fl.off += n
	fl.line++
	fl.skipping, fl.skip = false, 0
	fl.t.ack(fl, Position{Path: fl.src.path, Dev: fl.src.dev, Inode: fl.src.inode, Offset: fl.off, Line: fl.line}, time.Time{})
}

// handOn decodes chunk (whole lines; the last one may lack its newline only
// at the end of a file) and emits its batches.
func (fl *follower) handOn(chunk []byte, emit func(Batch) error) error {
	if fl.spool != nil {
		fl.spool.Write(chunk)
	}
	if k, ok := fl.src.raw.(interface{ keep([]byte, int64) }); ok {
		k.keep(chunk, fl.off) // the batches' reads are answered from memory
	}
	nl := bytes.Count(chunk, []byte{'\n'})
	if !fl.sniffed {
		fl.sniffCloud(chunk)
	}
	j, fix := &job{src: fl.src, buf: chunk, off: fl.off, line: fl.line, nl: nl}, func(*job) {}
	if fl.cloud != nil {
		j, fix = fl.cloudChunk(chunk, nl)
	}
	if len(j.buf) > 0 {
		fl.w.decode(j)
		fix(j)
	}
	fl.off += int64(len(chunk))
	fl.line += int64(nl)
	if chunk[len(chunk)-1] != '\n' {
		fl.line++
	}
	for _, p := range j.problems {
		fl.t.problem(p)
	}
	for _, b := range j.batches {
		fl.src.emitted = true
		last := b.lastTime()
		fl.t.emitting = fl.t.checkpointAt(fl, b.Pos, last)
		if err := emit(b); err != nil {
			return err
		}
		fl.t.ack(fl, b.Pos, last)
	}
	fl.t.ack(fl, Position{Path: fl.src.path, Dev: fl.src.dev, Inode: fl.src.inode, Offset: fl.off, Line: fl.line}, time.Time{})
	return nil
}

// readFull reads into p until it is full or the reader has nothing more
// (eof); err is a read error other than EOF.
func readFull(r io.Reader, p []byte) (n int, eof bool, err error) {
	for zero := 0; n < len(p); {
		m, e := r.Read(p[n:])
		n += m
		switch {
		case e == io.EOF:
			return n, true, nil
		case e != nil:
			return n, true, e
		case m == 0:
			if zero++; zero > 100 {
				return n, true, io.ErrNoProgress
			}
		}
	}
	return n, false, nil
}

// ack records pos (whose events emit returned from) as acknowledged.
func (t *Tail) ack(fl *follower, pos Position, last time.Time) {
	c := t.checkpointAt(fl, pos, last)
	t.mu.Lock()
	t.acked = c
	t.mu.Unlock()
}

// checkpointAt is the checkpoint that acknowledging pos would record.
func (t *Tail) checkpointAt(fl *follower, pos Position, last time.Time) Checkpoint {
	if fl.fp.n < fingerprintSize && pos.Offset > int64(fl.fp.n) {
		n := min(pos.Offset, fingerprintSize)
		if int64(len(fl.head)) >= n {
			// From the bytes read, not the file: it may have been
			// truncated and written again since.
			fl.fp = fingerprintOfBytes(fl.head[:n])
		} else if fp, err := fingerprintOf(fl.src.raw, n); err == nil {
			fl.fp = fp
		}
	}
	t.mu.Lock()
	c := t.acked
	t.mu.Unlock()
	c.Path, c.Dev, c.Inode, c.Offset, c.Line = pos.Path, pos.Dev, pos.Inode, pos.Offset, pos.Line
	c.Fingerprint, c.FingerprintLen = fl.fp.sum, fl.fp.n
	c.FileSince = fl.seen.Round(0).UTC()
	if !last.IsZero() {
		c.LastEvent = last
	}
	return c
}
