package ingest

// Reading one stream (a file or stdin) in chunks for the reader goroutine
// (read.go): sniffing its format, cutting JSON lines into chunks (pretty-
// printed documents: docscan.go), skipping lines too long to keep, and
// handing each chunk on as a job.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// fileReader reads one stream in chunks. Every buffer it hands on is
// freshly allocated and never written again: events decoded from it alias
// its bytes.
//
// Goroutines: the reader goroutine only.
type fileReader struct {
	r       *reader
	src     *source
	rd      io.Reader
	stream  bool   // stdin: hand on what a short read brought, so pipes flow
	sniffed bool   // the start of the stream was looked at
	live    bool   // stdin is live: hand on its first lines without waiting for 8 KiB
	spool   *Spool // non-nil: keep a copy of the stream for Batch.Raw
	off     int64  // stream offset of the next byte not yet handed on or skipped
	line    int64  // newlines handed on or skipped (+1 at the end for a last line without one); rel: skipped only
	rel     bool   // JSON lines: the chunks' newlines are counted by the workers (job.rel)
	last    byte   // the last byte handed on or skipped
	eof     bool
	err     error // a read error other than EOF

	unreadable bool   // not a byte could be read: does not count as a file read
	whole      []byte // the buffer the next chunk handed on is cut from (Replay.Recycle)
}

// fill reads into buf[n:] until it is full, the stream ends, or (stdin) a
// read brought a newline, and returns the new fill level.
func (f *fileReader) fill(buf []byte, n int) int {
	for zero := 0; n < len(buf) && !f.eof && f.err == nil; {
		m, err := f.rd.Read(buf[n:])
		n += m
		switch {
		case err == io.EOF:
			f.eof = true
		case err != nil:
			f.err = err
		case m == 0:
			if zero++; zero > 100 {
				f.err = io.ErrNoProgress
			}
		}
		if f.stream && (f.sniffed || f.live) && m > 0 && bytes.IndexByte(buf[n-m:n], '\n') >= 0 {
			break
		}
	}
	return n
}

// read sniffs the stream and reads it to the end. It reports false when the
// run was cancelled.
func (f *fileReader) read() bool {
	path := f.src.path
	// The first buffer is big enough to sniff: a BOM, NULs in the first
	// 8 KiB, the first non-blank line. It is filled even from stdin, so a
	// pipe's first events wait for 8 KiB or the end of input.
	buf := make([]byte, max(f.r.chunk, binarySniff))
	n := f.fill(buf[:binarySniff], 0)
	f.sniffed = true
	if !f.eof && f.err == nil && (!f.live || bytes.IndexByte(buf[:n], '\n') < 0) {
		n = f.fill(buf, n)
	}
	if bytes.HasPrefix(buf[:n], bom) {
		if f.spool != nil {
			f.spool.Write(bom)
		}
		buf, n, f.off = buf[len(bom):], n-len(bom), int64(len(bom))
	}
	switch {
	case n == 0 && f.err != nil:
		f.unreadable = true
		return f.r.problem(path, 0, readKind(f.err), "cannot read: "+errText(f.err))
	case n == 0:
		return f.r.problem(path, 0, Empty, "empty file")
	case f.off == 0 && isBinary(buf[:n]):
		return f.r.problem(path, 0, Binary, "binary file (NUL bytes in the first 8 KiB); skipped")
	}
	var ok bool
	if docMode(buf[:n], f.eof) {
		ok = f.docs(buf, n)
	} else {
		ok = f.lines(buf, n)
	}
	if ok && f.err != nil {
		ok = f.problem(f.line+1, readKind(f.err), readMsg(f.err))
	}
	if f.eof && f.err == nil && f.last != '\n' {
		f.line++ // the last line has no newline; it counts all the same
	}
	return ok
}

// lines reads a stream of JSON lines: it hands on chunks cut after their
// last newline and carries the partial line over into a fresh buffer.
func (f *fileReader) lines(buf []byte, n int) bool {
	f.rel = true
	for {
		cut := bytes.LastIndexByte(buf[:n], '\n') + 1
		if f.eof {
			cut = n // a final line without a newline is complete too
		}
		if cut == 0 && !f.eof && f.err == nil {
			switch {
			case n < len(buf): // stdin brought part of a line: wait for more
			case len(buf) <= f.r.maxLine: // one long line: grow, up to MaxLine
				nb := make([]byte, min(2*len(buf), f.r.maxLine+1))
				copy(nb, buf[:n])
				buf = nb
			default:
				var ok bool
				if buf, n, ok = f.skipLine(buf, n); !ok {
					return false
				}
				continue
			}
			n = f.fill(buf, n)
			continue
		}
		f.whole = buf
		if cut > 0 && !f.handOn(buf[:cut:cut], false, nil) {
			return false
		}
		if f.eof || f.err != nil {
			return true // a partial line before a read error is dropped
		}
		buf, n = f.carry(buf, cut, n)
		n = f.fill(buf, n)
	}
}

// carry moves buf[cut:n] to the start of a fresh buffer.
func (f *fileReader) carry(buf []byte, cut, n int) ([]byte, int) {
	rest := n - cut
	size := f.r.chunk
	if 2*rest > size {
		size = max(min(2*rest, f.r.maxLine+1), rest+1)
	}
	// With Recycle, buf itself may come back (its chunk was emitted
	// already): only this goroutine takes from the pool, and copy moves
	// overlapping bytes correctly.
	nb := f.r.buffer(size)
	copy(nb, buf[cut:n])
	return nb, rest
}

// skipLine streams through a line longer than MaxLine without holding it,
// given its first n bytes in buf, and reports it. It returns a fresh buffer
// holding what follows the line.
func (f *fileReader) skipLine(buf []byte, n int) ([]byte, int, bool) {
	size := int64(n)
	scratch := buf[:cap(buf)] // nothing aliases buf: it was never handed on
	for {
		m, err := f.rd.Read(scratch)
		if i := bytes.IndexByte(scratch[:m], '\n'); i >= 0 {
			size += int64(i)
			nb, rest := f.carry(scratch, i+1, m)
			f.skipped(size+1, '\n')
			if err == io.EOF {
				f.eof = true
			} else if err != nil {
				f.err = err
			}
			return nb, rest, f.tooLong(f.line, size) // f.line now ends with it
		}
		size += int64(m)
		switch {
		case err == io.EOF:
			f.eof = true
		case err != nil:
			f.err = err
		default:
			continue
		}
		f.skipped(size, 'x') // the last line, without newline
		return nil, 0, f.tooLong(f.line+1, size)
	}
}

// skipped accounts for n bytes (one line or document) that were not handed
// on, last being the last of them.
func (f *fileReader) skipped(n int64, last byte) {
	if f.spool != nil {
		f.spool.Skip(n)
	}
	f.off += n
	f.last = last
	if last == '\n' {
		f.line++
	}
}

func (f *fileReader) tooLong(line, size int64) bool {
	return f.problem(line, TooLong, fmt.Sprintf("line too long: %d bytes (limit %d); skipped", size, f.r.maxLine))
}

// problem reports a problem on line of the stream (as f.line counts).
func (f *fileReader) problem(line int64, kind ProblemKind, msg string) bool {
	return f.r.send(&job{problems: []Problem{{Path: f.src.path, Line: line, Kind: kind, Msg: msg}}, rel: f.rel})
}

// handOn sends chunk to a worker: whole lines, or (doc) whole documents.
func (f *fileReader) handOn(chunk []byte, doc bool, spans []span) bool {
	if f.spool != nil {
		f.spool.Write(chunk)
	}
	j := &job{src: f.src, buf: chunk, whole: f.whole, off: f.off, line: f.line, doc: doc, docs: spans, done: make(chan struct{}), rel: f.rel}
	f.whole = nil
	switch {
	case f.rel && f.r.free != nil:
		// The worker counts them as it splits the lines: a pass over
		// the chunk fewer (see job.rel). Its event slice mostly comes
		// from the pool (Recycle): it needs no count to be sized.
		j.nl = -1
	case f.rel:
		j.nl = bytes.Count(chunk, []byte{'\n'}) // sizes the event slice exactly
	default:
		j.nl = bytes.Count(chunk, []byte{'\n'})
		f.line += int64(j.nl)
	}
	f.off += int64(len(chunk))
	f.last = chunk[len(chunk)-1]
	return f.r.send(j)
}

// isBinary: NULs near the start, and not something that looks like JSON
// (a JSON file with a stray NUL is still read, and its bad line reported).
func isBinary(p []byte) bool {
	head := p[:min(len(p), binarySniff)]
	if bytes.IndexByte(head, 0) < 0 {
		return false
	}
	t := bytes.TrimLeft(head, " \t\r\n")
	return len(t) == 0 || (t[0] != '{' && t[0] != '[')
}

// docMode reports whether the stream is pretty-printed JSON: its first
// non-blank line is exactly "{" or "[" (an audit log line never is). p is
// the start of the stream, all of it when eof; a first line not complete in
// p is an ordinary (long) line.
func docMode(p []byte, eof bool) bool {
	for len(p) > 0 {
		line, rest, found := bytes.Cut(p, []byte{'\n'})
		if !found && !eof {
			return false
		}
		if t := bytes.Trim(line, " \t\r"); len(t) != 0 {
			return len(t) == 1 && (t[0] == '{' || t[0] == '[')
		}
		p = rest
	}
	return false
}

func readKind(err error) ProblemKind {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return Truncated
	}
	return Unreadable
}

func readMsg(err error) string {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "truncated: the stream ends in the middle (unexpected EOF); events before this line were kept"
	}
	return "read failed: " + errText(err) + "; events before this line were kept"
}
