package ingest

import (
	"fmt"
	"io"
)

// span is one document of a document-mode chunk.
type span struct {
	start, end int   // byte range within the chunk
	line       int64 // line number of the document's first byte (1-based)
	endLine    int64 // line number of the document's last byte
}

// docScanner splits a stream of pretty-printed JSON into top-level values
// (documents) without decoding them: a byte scanner that tracks strings,
// escapes and nesting depth. A top-level array is not one document but a
// sequence of them: each element is decoded on its own, so a huge array of
// events needs no more memory than one event. Between documents, whitespace
// and commas are skipped; anything else starts a document (a stray scalar or
// bracket becomes a document of its own, which Decode then reports), so every
// byte is either part of a document or one of those separators.
//
// The scanner is incremental: scan may be called on a buffer that grows,
// and the state carries over when the caller moves the unscanned rest of
// the buffer to the start of a new one (see rebase).
//
// Goroutines: the replay reader goroutine only.
type docScanner struct {
	inDoc   bool  // inside a document
	inStr   bool  // inside a string of the current document
	esc     bool  // after a backslash in that string
	scalar  bool  // the current document is a bare scalar (ends at a delimiter)
	inArray bool  // inside a top-level array: its elements are the documents
	depth   int   // nesting depth within the current document
	start   int   // where the current document starts, relative to the buffer
	line    int64 // line of the current document's first byte
	lines   int64 // newlines consumed so far
}

// scan consumes p[from:], appending each document that ends to spans (with
// offsets relative to p). It returns the spans and the cut: every byte of
// p before the cut belongs to a completed document or is a separator, so
// p[:cut] can be handed on and p[cut:] carried over. With one set, scan
// returns as soon as one document ends, its end being the cut.
func (s *docScanner) scan(p []byte, from int, spans []span, one bool) ([]span, int) {
	for i := from; i < len(p); i++ {
		c := p[i]
		if s.inDoc {
			if s.inStr {
				switch {
				case s.esc:
					s.esc = false
				case c == '\\':
					s.esc = true
				case c == '"':
					s.inStr = false
				}
				if c == '\n' {
					s.lines++ // invalid JSON, but keep line numbers true
				}
				continue
			}
			if !s.scalar {
				switch c {
				case '"':
					s.inStr = true
				case '{', '[':
					s.depth++
				case '}', ']':
					s.depth--
					if s.depth == 0 {
						spans = s.end(spans, i+1)
						if one {
							return spans, i + 1
						}
					}
				case '\n':
					s.lines++
				}
				continue
			}
			if !isDelim(c) {
				continue
			}
			// The scalar ends before c; c itself is looked at below.
			spans = s.end(spans, i)
			if one {
				return spans, i
			}
		}
		switch c {
		case ' ', '\t', '\r', ',':
		case '\n':
			s.lines++
		case '[':
			if !s.inArray {
				s.inArray = true
				continue
			}
			s.begin(i, false)
			s.depth = 1
		case '{':
			s.begin(i, false)
			s.depth = 1
		case ']':
			if s.inArray {
				s.inArray = false
				continue
			}
			fallthrough
		case '}', ':':
			// A stray closer or colon: a one-byte document, so that Decode
			// reports it as malformed where it is.
			s.begin(i, false)
			spans = s.end(spans, i+1)
			if one {
				return spans, i + 1
			}
		case '"':
			s.begin(i, true)
			s.inStr = true
		default:
			s.begin(i, true)
		}
	}
	if s.inDoc {
		return spans, s.start
	}
	return spans, len(p)
}

func (s *docScanner) begin(i int, scalar bool) {
	s.inDoc, s.scalar, s.start, s.line, s.depth = true, scalar, i, s.lines+1, 0
}

func (s *docScanner) end(spans []span, end int) []span {
	s.inDoc, s.scalar, s.inStr, s.esc, s.depth = false, false, false, false, 0
	return append(spans, span{start: s.start, end: end, line: s.line, endLine: s.lines + 1})
}

// finish ends the stream, all of it scanned in p: an unterminated document
// becomes a span of its own (Decode reports it as malformed).
func (s *docScanner) finish(spans []span, p []byte) []span {
	n := len(p)
	if s.inDoc && s.start < n {
		spans = s.end(spans, n)
		if p[n-1] == '\n' {
			spans[len(spans)-1].endLine-- // already counted: the line it ends is the one before
		}
		return spans
	}
	s.inDoc = false
	return spans
}

// rebase is called when the caller drops the first cut bytes of the buffer.
func (s *docScanner) rebase(cut int) { s.start -= cut }

// isDelim reports whether c ends a bare scalar such as true or 12.
func isDelim(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', ',', ':', '[', ']', '{', '}', '"':
		return true
	}
	return false
}

// docs reads a stream of pretty-printed JSON documents: like lines, but
// chunks are cut after the last complete document, and a document longer
// than MaxLine is skipped.
func (f *fileReader) docs(buf []byte, n int) bool {
	sc := &docScanner{}
	var spans []span
	scanned := 0
	for {
		var cut int
		spans, cut = sc.scan(buf[:n], scanned, spans, false)
		scanned = n
		if f.eof {
			spans, cut = sc.finish(spans, buf[:n]), n
		}
		if cut == 0 && !f.eof && f.err == nil {
			switch {
			case n < len(buf):
			case len(buf) <= f.r.maxLine:
				nb := make([]byte, min(2*len(buf), f.r.maxLine+1))
				copy(nb, buf[:n])
				buf = nb
			default:
				var ok bool
				if buf, n, ok = f.skipDoc(sc, buf, n); !ok {
					return false
				}
				scanned = 0
				continue
			}
			n = f.fill(buf, n)
			continue
		}
		if cut > 0 {
			if !f.handOn(buf[:cut:cut], true, spans) {
				return false
			}
			spans = nil
		}
		if f.eof || f.err != nil {
			return true
		}
		sc.rebase(cut)
		buf, n = f.carry(buf, cut, n)
		scanned = n
		n = f.fill(buf, n)
	}
}

// skipDoc streams through a document longer than MaxLine, given its first n
// bytes in buf (it starts at buf[0]), and reports it at its first line.
func (f *fileReader) skipDoc(sc *docScanner, buf []byte, n int) ([]byte, int, bool) {
	size := int64(n)
	line := sc.line
	last := buf[n-1]          // the last byte of the document seen so far
	scratch := buf[:cap(buf)] // nothing aliases buf: it was never handed on
	for {
		m, err := f.rd.Read(scratch)
		ended, c := sc.scan(scratch[:m], 0, nil, true)
		if err == io.EOF {
			f.eof = true
		} else if err != nil {
			f.err = err
		}
		if len(ended) == 0 {
			c = m // all of it belongs to the document
		}
		if c > 0 {
			last = scratch[c-1]
		}
		size += int64(c)
		if len(ended) > 0 || f.eof || f.err != nil {
			sc.inDoc = false
			nb, rest := f.carry(scratch, c, m)
			f.skipped(size, last)
			f.line = sc.lines // a document spans several lines
			return nb, rest, f.r.problem(f.src.path, line, TooLong, fmt.Sprintf("document too long: %d bytes (limit %d); skipped", size, f.r.maxLine))
		}
	}
}
