package ingest

import (
	"errors"
	"io"
	"os"
	"sync"
	"sync/atomic"
)

// heldFile is a followed file as Batch.Raw: readable until Release, which
// the consumer calls once no stored event refers to it any more.
//
// A file truncated in place (copytruncate) is read again from its start
// and the bytes of the events already handed on are overwritten: their
// heldFile turns stale (reads fail, rather than return other events' bytes)
// and the file goes on as a new heldFile sharing the descriptor, which is
// closed when every generation was released.
//
// The chunk handed on last is also kept (recent): reads of the events being
// emitted are answered from it, never from the file, so a consumer reading
// them in emit (the headless printer) gets them even when the file was
// truncated an instant after they were read.
type heldFile struct {
	*os.File
	t      *Tail
	refs   *atomic.Int32 // generations not yet released, shared
	stale  atomic.Bool
	once   sync.Once
	recent atomic.Pointer[memChunk]
	moved  atomic.Pointer[lazyFile] // stale: the copy holding its bytes (copytruncate), or nil
}

// memChunk is bytes of a file read at off.
type memChunk struct {
	off int64
	b   []byte
}

// keep makes b, read at off, the chunk reads are answered from.
func (h *heldFile) keep(b []byte, off int64) { h.recent.Store(&memChunk{off: off, b: b}) }

// readAt reads p at off from c if c holds off (c may be nil). A read
// going past the chunk is short, with io.EOF, as at the end of a file: a
// reader of a window (store.RawReader) takes what is there.
func (c *memChunk) readAt(p []byte, off int64) (int, bool, error) {
	if c == nil || off < c.off || off >= c.off+int64(len(c.b)) {
		return 0, false, nil
	}
	n := copy(p, c.b[off-c.off:])
	if n < len(p) {
		return n, true, io.EOF
	}
	return n, true, nil
}

func (t *Tail) held(f *os.File) *heldFile {
	h := &heldFile{File: f, t: t, refs: new(atomic.Int32)}
	h.refs.Store(1)
	return h
}

// errOverwritten: the bytes were overwritten by a truncation in place.
var errOverwritten = errors.New("the file was truncated in place (copytruncate) and these bytes overwritten")

func (h *heldFile) ReadAt(p []byte, off int64) (int, error) {
	if n, ok, err := h.recent.Load().readAt(p, off); ok {
		return n, err
	}
	if h.stale.Load() {
		if m := h.moved.Load(); m != nil {
			return m.ReadAt(p, off) // the same bytes, in the copy made before the truncation
		}
		return 0, errOverwritten
	}
	return h.File.ReadAt(p, off)
}

// next makes h stale and returns the file's next generation.
func (h *heldFile) next() *heldFile {
	h.stale.Store(true)
	h.refs.Add(1)
	return &heldFile{File: h.File, t: h.t, refs: h.refs}
}

// Release closes the file once every generation was released. The Tail is
// done with it by then: it has moved on to a newer file, or the consumer
// would still hold events of it.
func (h *heldFile) Release() {
	h.once.Do(func() {
		if h.refs.Add(-1) == 0 {
			h.File.Close()
			h.t.opened(-1)
		}
	})
}
