package cloud

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Stream defaults: the window a Stream starts with, the most it grows to
// (one JSON value or line), and the most events of one input line put on
// one output line (Firehose objects concatenated on a single line).
const (
	DefaultWindow = 1 << 20
	DefaultLimit  = 64 << 20
	groupLimit    = 4 << 20
)

// Stream decodes a cloud export from a reader with bounded memory: it
// holds one window of the input (one value or line at least, at most
// Limit bytes) and gives back the events laid out as Lines does. Problems
// come out as they are found (Problems); Counts adds them all up.
//
// One line of the input whose events exceed 4 MiB (SetLineLimit; Firehose objects
// concatenated without newlines) continues on extra output lines, so the
// line numbers of what follows it in the output run ahead of the input's
// until blank output lines make up the difference.
//
// Goroutines: one at a time.
type Stream struct {
	r      io.Reader
	d      decoder
	buf    []byte // the window is buf[:n]
	n      int
	limit  int
	out    bytes.Buffer // output not yet read
	lw     linesWriter
	err    error // a read error other than EOF
	done   bool
	lines  int64 // newlines read
	last   byte  // the last byte read
	read   bool  // a byte was read
	sniffd bool  // the BOM was looked for

	cluster  string // the cluster the first record names
	clusters int    // 0 no record yet, 1 all the same so far, 2 several
	diffLine int64  // the first line whose record names another cluster
}

// NewStream reads r with the default window and limit.
func NewStream(r io.Reader) *Stream { return newStream(r, DefaultWindow, DefaultLimit, DefaultWindow) }

func newStream(r io.Reader, window, limit, bigLine int) *Stream {
	s := &Stream{r: r, buf: make([]byte, window), limit: limit}
	s.d = decoder{line: 1, res: &Result{}, bigLine: bigLine}
	return s
}

// Read gives the events as JSON lines (see Lines).
func (s *Stream) Read(p []byte) (int, error) {
	for s.out.Len() == 0 && !s.done {
		s.advance()
	}
	if s.out.Len() == 0 {
		if s.err != nil {
			return 0, s.err
		}
		return 0, io.EOF
	}
	return s.out.Read(p)
}

// SetLineLimit bounds the output lines: the events of one input line
// continue on the next output line past n bytes (by default 4 MiB), so
// that a reader with a line limit of n plus 128 bytes (the EventList
// around them) reads them all. One event longer than that is a line of
// its own.
func (s *Stream) SetLineLimit(n int) { s.lw.limit = n }

// Problems gives the problems found since the last call, at most 100 of
// each kind in all (the rest are only counted).
func (s *Stream) Problems() []Problem {
	p := s.d.res.Problems
	s.d.res.Problems = nil
	return p
}

// Counts is every problem so far, per kind.
func (s *Stream) Counts() [NumKinds]int { return s.d.res.Counts }

// Cluster is the cluster the records so far name, "" when none does or
// they name several (several: true).
func (s *Stream) Cluster() (name string, several bool) {
	if s.clusters == 2 {
		return "", true
	}
	return s.cluster, false
}

// OtherCluster is the first line whose record names a cluster other than
// the first record's, or 0.
func (s *Stream) OtherCluster() int64 { return s.diffLine }

// advance decodes what the window holds, hands on its events, then slides
// the window and reads more.
func (s *Stream) advance() {
	s.d.data = s.buf[:s.n]
	s.d.run()
	s.flush()
	// No record can start before the decoder's line any more: write what
	// the lines before it hold now, so that the blank lines of a long
	// stretch without events never pile up.
	s.lw.settle(&s.out, s.d.line)
	if s.d.eof {
		s.lw.finish(&s.out, s.totalLines())
		s.done = true
		return
	}
	if rest := s.n - s.d.pos; rest >= s.limit {
		s.tooLong()
	}
	// Slide what is left to the front; grow when it fills the window.
	rest := s.n - s.d.pos
	copy(s.buf, s.buf[s.d.pos:s.n])
	s.d.slid(s.d.pos)
	s.n = rest
	if rest == len(s.buf) {
		nb := make([]byte, min(2*len(s.buf), s.limit+1))
		copy(nb, s.buf[:rest])
		s.buf = nb
	}
	s.fill()
}

// fill reads until the window is full or the input ends.
func (s *Stream) fill() {
	for zero := 0; s.n < len(s.buf); {
		m, err := s.r.Read(s.buf[s.n:])
		if m > 0 {
			s.account(m)
		}
		switch {
		case errors.Is(err, io.EOF):
			s.d.eof = true
		case err != nil:
			s.err, s.d.eof = err, true // what was read is decoded; the caller reports the error
		case m == 0:
			if zero++; zero > 100 {
				s.err, s.d.eof = io.ErrNoProgress, true
			}
			continue
		}
		if err != nil {
			break
		}
	}
	if !s.sniffd && s.n > 0 {
		s.sniffd = true
		if bytes.HasPrefix(s.buf[:s.n], []byte("\xef\xbb\xbf")) {
			s.d.pos = 3
		}
	}
}

// account counts the m bytes just read.
func (s *Stream) account(m int) {
	p := s.buf[s.n : s.n+m]
	s.lines += int64(bytes.Count(p, []byte{'\n'}))
	s.last, s.read = p[m-1], true
	s.n += m
}

func (s *Stream) totalLines() int64 {
	if s.read && s.last != '\n' {
		return s.lines + 1
	}
	return s.lines
}

// tooLong skips a unit longer than the limit: the window up to its last
// newline, or all of it and the rest of its line.
func (s *Stream) tooLong() {
	d := &s.d
	win := d.data[d.pos:]
	k := "line"
	if d.data[d.pos] == '{' || d.data[d.pos] == '[' || d.inArray {
		k = "JSON value"
	}
	cut := bytes.LastIndexByte(win, '\n') + 1
	nl := bytes.Count(win[:cut], []byte{'\n'})
	d.problem(d.line, TooLong, fmt.Sprintf("a %s longer than %d bytes (or one that never ends); skipped with the %d lines after it", k, s.limit, nl))
	d.inArray = false
	if cut == 0 {
		d.pos, d.skip = len(d.data), true
		return
	}
	d.pos += cut
	d.line += int64(nl)
}

// flush writes the records decoded so far. Plain events alias the
// window: they are copied out before it slides.
func (s *Stream) flush() {
	for _, r := range s.d.res.Records {
		s.note(r)
		s.lw.add(&s.out, r)
	}
	clear(s.d.res.Records)
	s.d.res.Records = s.d.res.Records[:0]
}

func (s *Stream) note(r Record) {
	switch {
	case s.clusters == 0:
		s.cluster, s.clusters = r.Cluster, 1
	case r.Cluster != s.cluster && s.diffLine == 0:
		s.clusters, s.diffLine = 2, r.Line
	}
}

// linesWriter lays out records as Lines does, as they come.
type linesWriter struct {
	limit int          // the most bytes of events on one line (0: groupLimit)
	at    int64        // the next output line
	line  int64        // the input line of the group
	n     int          // records in the group
	group bytes.Buffer // their events, comma-separated
}

func (w *linesWriter) add(out *bytes.Buffer, r Record) {
	limit := w.limit
	if limit <= 0 {
		limit = groupLimit
	}
	if w.n > 0 && (r.Line != w.line || w.group.Len()+1+len(r.Event) > limit) {
		w.flush(out)
	}
	if w.n > 0 {
		w.group.WriteByte(',')
	}
	w.group.Write(r.Event)
	w.line = r.Line
	w.n++
}

func (w *linesWriter) flush(out *bytes.Buffer) {
	if w.at == 0 {
		w.at = 1
	}
	for ; w.at < w.line; w.at++ {
		out.WriteByte('\n')
	}
	if w.n == 1 {
		out.Write(w.group.Bytes())
	} else {
		out.WriteString(`{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[`)
		out.Write(w.group.Bytes())
		out.WriteString("]}")
	}
	out.WriteByte('\n')
	w.at++
	w.n = 0
	w.group.Reset()
}

// settle writes the group and the blank lines before line, when no
// record will come on them any more.
func (w *linesWriter) settle(out *bytes.Buffer, line int64) {
	if w.n > 0 && w.line < line {
		w.flush(out)
	}
	if w.n > 0 {
		return
	}
	if w.at == 0 {
		w.at = 1
	}
	for ; w.at < line; w.at++ {
		out.WriteByte('\n')
	}
}

// finish writes the last group and the blank lines up to the input's end.
func (w *linesWriter) finish(out *bytes.Buffer, lines int64) {
	if w.n > 0 {
		w.flush(out)
	}
	if w.at == 0 {
		w.at = 1
	}
	for ; w.at <= lines; w.at++ {
		out.WriteByte('\n')
	}
}
