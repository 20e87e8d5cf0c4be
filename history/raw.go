package history

import "github.com/kaudit/kaudit/store"

// rawReader reads one event's original bytes at a time into a reused
// buffer. An object's events are sparse in the store, so reading exactly
// each event beats store.RawReader's 1 MiB windows: even for an object
// with 10 % of the events, the windows would copy the whole log to read
// a twentieth of it.
type rawReader struct {
	st  *store.Store
	buf []byte
}

func newRawReader(st *store.Store) *rawReader { return &rawReader{st: st} }

// Raw returns event id's bytes, valid until the next call.
func (r *rawReader) Raw(id store.ID) ([]byte, error) {
	var err error
	r.buf, err = r.st.Raw(id, r.buf[:0])
	return r.buf, err
}
