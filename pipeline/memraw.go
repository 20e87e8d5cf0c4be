package pipeline

import (
	"io"
	"sync"

	"github.com/kaudit/kaudit/audit"
)

// memRawLimit bounds the bytes memRaw holds: a headless filter keeps few
// events of a big log, and printing them from memory spares a read of the
// file for each (or a window of it); past the limit, events are read back
// from their file as usual.
const memRawLimit = 64 << 20

// memRaw holds copies of kept events' original bytes, one after the
// other, as a store segment.
//
// Goroutines: hold is called by the writer; ReadAt from any goroutine.
type memRaw struct {
	mu   sync.RWMutex
	b    []byte
	full bool    // the limit was reached: hold no more
	offs []int64 // hold's offsets, reused
}

// hold copies evs' bytes and returns the segment and offsets to store
// them with: m and their places in it, or raw and offs as they were once
// m is full.
func (m *memRaw) hold(evs []audit.Event, raw io.ReaderAt, offs []int64) (io.ReaderAt, []int64) {
	size := 0
	for i := range evs {
		size += len(evs[i].Raw)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.full || len(m.b)+size > memRawLimit {
		m.full = true
		return raw, offs
	}
	m.offs = m.offs[:0]
	for i := range evs {
		m.offs = append(m.offs, int64(len(m.b)))
		m.b = append(m.b, evs[i].Raw...)
	}
	return m, m.offs
}

func (m *memRaw) ReadAt(p []byte, off int64) (int, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if off < 0 || off >= int64(len(m.b)) {
		return 0, io.EOF
	}
	n := copy(p, m.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
