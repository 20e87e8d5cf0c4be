package store

import (
	"fmt"
)

// Raw returns event id's original bytes, appended to dst.
func (s *Store) Raw(id ID, dst []byte) ([]byte, error) {
	s.mu.RLock()
	if id < s.first {
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
}

// rawWindow is how much a RawReader reads at once.
const rawWindow = 1 << 20

// NewRawReader returns a reader of original bytes.
func (s *Store) NewRawReader() *RawReader {
	return &RawReader{s: s, seg: noID}
}

// Raw returns event id's original bytes, valid until the next call.
func (r *RawReader) Raw(id ID) ([]byte, error) {
	r.s.mu.RLock()
	if id < r.s.first {
		r.s.mu.RUnlock()
		return nil, fmt.Errorf("event %d: dropped by retention", id)
	}
	ref := r.s.at(id).raw[id&r.s.mask]
	seg := r.s.segs[ref.seg]
	r.s.mu.RUnlock()
	end := ref.off + int64(ref.len)
	if ref.seg == r.seg && ref.off >= r.winOff && end <= r.winOff+int64(len(r.win)) {
		return r.win[ref.off-r.winOff : end-r.winOff], nil
	}
	if ref.len > rawWindow/2 {
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
