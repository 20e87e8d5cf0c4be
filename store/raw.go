package store

import (
	"fmt"
)

// Raw returns event id's original bytes, appended to dst.
func (s *Store) Raw(id ID, dst []byte) ([]byte, error) {
	s.mu.RLock()
	if id < s.first || id >= s.n {
		s.mu.RUnlock()
		return dst, fmt.Errorf("event %d: dropped by retention", id)
	}
	ref := s.at(id).raw[id&s.mask]
	seg := s.segs[ref.seg]
	s.mu.RUnlock()
	start := len(dst)
	dst = append(dst, make([]byte, ref.len)...)
	if n, err := seg.ReadAt(dst[start:], ref.off); n != int(ref.len) {
		return dst[:start], fmt.Errorf("event %d: reading %d bytes at offset %d: %w", id, ref.len, ref.off, err)
	}
	return dst, nil
}

// RawReader reads many events' original bytes in ID order with few reads: it
// keeps a window of the segment around the last event read. It is for one
// goroutine.
type RawReader struct {
	s      *Store
	seg    uint32
	winOff int64
	win    []byte
	buf    []byte
	// lastSeg and lastEnd are where the last event read ended: a jump
	// past sparseGap predicts sparse events, which are read on their own.
	lastSeg uint32
	lastEnd int64
}

// sparseGap is the distance between events beyond which reading the
// next event alone costs less than reading a window over the gap (a
// headless filter printing a few events of a big log).
const sparseGap = 32 << 10

// rawWindow is how much a RawReader reads at once.
const rawWindow = 1 << 20

// NewRawReader returns a reader of original bytes.
func (s *Store) NewRawReader() *RawReader {
	return &RawReader{s: s, seg: noID, lastSeg: noID}
}

// maxFreeReaders bounds the RawReaders a store keeps for reuse (each holds
// a rawWindow buffer): one per core that evaluates jq is enough.
const maxFreeReaders = 4

// AcquireRawReader is NewRawReader, but returns a reader released earlier
// when there is one. Its buffer and the window it holds are reused:
// evaluating many filters over the same few events (detect's rules over a
// batch, each rule a Filter.Eval) reads and allocates the window once, not
// once per filter. The window stays valid because a segment's bytes do not
// change and segment numbers are never reused. Give it back with
// ReleaseRawReader.
func (s *Store) AcquireRawReader() *RawReader {
	s.readersMu.Lock()
	defer s.readersMu.Unlock()
	if n := len(s.readers); n > 0 {
		r := s.readers[n-1]
		s.readers = s.readers[:n-1]
		return r
	}
	return s.NewRawReader()
}

// ReleaseRawReader hands r, which the caller no longer uses, back to its
// store for AcquireRawReader.
func (s *Store) ReleaseRawReader(r *RawReader) {
	if r == nil || r.s != s {
		return
	}
	s.readersMu.Lock()
	defer s.readersMu.Unlock()
	if len(s.readers) < maxFreeReaders {
		s.readers = append(s.readers, r)
	}
}

// Raw returns event id's original bytes, valid until the next call.
func (r *RawReader) Raw(id ID) ([]byte, error) {
	r.s.mu.RLock()
	if id < r.s.first || id >= r.s.n { // dropped, or stale (see rebase.go)
		r.s.mu.RUnlock()
		return nil, fmt.Errorf("event %d: dropped by retention", id)
	}
	ref := r.s.at(id).raw[id&r.s.mask]
	seg := r.s.segs[ref.seg]
	r.s.mu.RUnlock()
	end := ref.off + int64(ref.len)
	if ref.seg == r.seg && ref.off >= r.winOff && end <= r.winOff+int64(len(r.win)) {
		r.lastSeg, r.lastEnd = ref.seg, end
		return r.win[ref.off-r.winOff : end-r.winOff], nil
	}
	sparse := ref.seg != r.lastSeg || ref.off-r.lastEnd > sparseGap || ref.off < r.lastEnd
	r.lastSeg, r.lastEnd = ref.seg, end
	if ref.len > rawWindow/2 || sparse {
		var err error
		r.buf, err = r.s.Raw(id, r.buf[:0])
		return r.buf, err
	}
	if cap(r.win) < rawWindow {
		r.win = make([]byte, rawWindow)
	}
	r.win = r.win[:rawWindow]
	n, err := seg.ReadAt(r.win, ref.off)
	r.win, r.seg, r.winOff = r.win[:n], ref.seg, ref.off
	if n < int(ref.len) {
		r.seg = noID
		return nil, fmt.Errorf("event %d: reading %d bytes at offset %d: %w", id, ref.len, ref.off, err)
	}
	return r.win[:ref.len], nil
}

// UnreadableError says that some events' original bytes could not be read
// again (their file was truncated, rewritten or deleted after it was read):
// a writer printing a set of events skips those and returns this error at
// the end, so the others are printed and the loss is not silent.
type UnreadableError struct {
	Count int   // events skipped
	First error // why the first one could not be read
}

func (e *UnreadableError) Error() string {
	if e.Count == 1 {
		return fmt.Sprintf("the original bytes of 1 event could not be read again (its file changed after it was read; it was not printed): %v", e.First)
	}
	return fmt.Sprintf("the original bytes of %d events could not be read again (their file changed after it was read; they were not printed); the first: %v", e.Count, e.First)
}

// Note counts one event whose bytes could not be read (err); e may be nil.
func (e *UnreadableError) Note(err error) *UnreadableError {
	if e == nil {
		e = &UnreadableError{First: err}
	}
	e.Count++
	return e
}
