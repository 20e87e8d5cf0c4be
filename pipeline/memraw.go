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

// memBlock is the size of memRaw's blocks. Held bytes are appended to the
// last block, a new one started when it is full: growing never copies what
// is held, nor takes twice its size in fresh memory (page faults and all),
// as one growing slice did.
const memBlock = 256 << 10

// memRaw holds copies of kept events' original bytes, one after the
// other, as a store segment: byte off is in block off/memBlock.
//
// Goroutines: hold is called by the writer; ReadAt from any goroutine.
type memRaw struct {
	mu     sync.RWMutex
	blocks [][]byte // memBlock bytes each, but the last (its len: bytes held)
	n      int64    // bytes held
	full   bool     // the limit was reached: hold no more
	offs   []int64  // hold's offsets, reused
}

// hold copies evs' bytes and returns the segment and offsets to store
// them with: m and their places in it, or raw and offs as they were once
// m is full.
func (m *memRaw) hold(evs []audit.Event, raw io.ReaderAt, offs []int64) (io.ReaderAt, []int64) {
	size := int64(0)
	for i := range evs {
		size += int64(len(evs[i].Raw))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.full || m.n+size > memRawLimit {
		m.full = true
		return raw, offs
	}
	m.offs = m.offs[:0]
	for i := range evs {
		m.offs = append(m.offs, m.n)
		m.add(evs[i].Raw)
	}
	return m, m.offs
}

// add appends p to the held bytes.
func (m *memRaw) add(p []byte) {
	for len(p) > 0 {
		k := len(m.blocks) - 1
		if k < 0 || len(m.blocks[k]) == memBlock {
			m.blocks = append(m.blocks, make([]byte, 0, memBlock))
			k++
		}
		c := min(len(p), memBlock-len(m.blocks[k]))
		m.blocks[k] = append(m.blocks[k], p[:c]...)
		p = p[c:]
		m.n += int64(c)
	}
}

func (m *memRaw) ReadAt(p []byte, off int64) (int, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if off < 0 || off >= m.n {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && off < m.n {
		c := copy(p[n:], m.blocks[off/memBlock][off%memBlock:])
		n += c
		off += int64(c)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
