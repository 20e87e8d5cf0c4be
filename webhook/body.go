package webhook

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
)

// DefaultMaxBuffered is the default of Receiver.MaxBuffered: the bytes of
// request bodies (decompressed) held at once, across every request.
const DefaultMaxBuffered = 256 << 20

// tooLargeError is a body over the limit.
type tooLargeError struct {
	size  int64 // declared (Content-Length), or -1 when only known to exceed
	limit int64
	gz    bool
}

func (e *tooLargeError) Error() string {
	what := "body"
	if e.gz {
		what = "decompressed body"
	}
	if e.size >= 0 {
		return fmt.Sprintf("%s of %d bytes over the limit of %d bytes; refused", what, e.size, e.limit)
	}
	return fmt.Sprintf("%s over the limit of %d bytes; refused", what, e.limit)
}

// errBuffersFull is a body that does not fit in what is left of the
// budget shared by every request: answered 429, the sender retries later.
var errBuffersFull = errors.New("too many request bytes held at once (--max-buffered); retry")

// budget bounds the bytes of bodies held by every request together, so
// that concurrent gzip bombs (each stopped at MaxBody) cannot add up.
// Goroutines: any (a mutex).
type budget struct {
	mu         sync.Mutex
	max        int64
	used, peak int64
}

func (b *budget) take(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.max {
		return false
	}
	b.used += n
	b.peak = max(b.peak, b.used)
	return true
}

func (b *budget) give(n int64) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
}

// lease is what one request holds of the budget.
type lease struct {
	b    *budget
	held int64
}

func (l *lease) grow(n int64) error {
	if !l.b.take(n) {
		return errBuffersFull
	}
	l.held += n
	return nil
}

func (l *lease) shrink(n int64) { l.b.give(n); l.held -= n }

// release gives back everything; the request is done with its body.
func (l *lease) release() { l.shrink(l.held) }

// readBody reads the body, never more than the limit (+1 byte to notice):
// a declared Content-Length over the limit is refused before reading any of
// it; a gzip body is limited before and after decompression. The buffer
// grows by doubling, each step leased from the shared budget first (the old
// and the new buffer both count while one is copied to the other); the
// caller releases the lease once the events are handed on.
func (w *Receiver) readBody(rw http.ResponseWriter, r *http.Request) ([]byte, *lease, error) {
	limit := w.maxBody()
	l := &lease{b: &w.buffered}
	if r.ContentLength > limit {
		return nil, l, &tooLargeError{size: r.ContentLength, limit: limit}
	}
	var in io.Reader = http.MaxBytesReader(rw, r.Body, limit)
	gz := strings.EqualFold(strings.TrimSpace(r.Header.Get("Content-Encoding")), "gzip")
	if gz {
		zr, err := gzip.NewReader(in)
		if err != nil {
			return nil, l, overLimit(err, limit, false)
		}
		defer zr.Close()
		in = zr
	}
	size := int64(64 << 10)
	if r.ContentLength > 0 && !gz {
		size = r.ContentLength + 1 // +1: EOF is seen without growing
	}
	size = min(size, limit+1)
	if err := l.grow(size); err != nil {
		return nil, l, err
	}
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) {
			if int64(len(buf)) > limit {
				return nil, l, &tooLargeError{size: -1, limit: limit, gz: gz}
			}
			next := min(2*int64(cap(buf)), limit+1)
			if err := l.grow(next); err != nil {
				return nil, l, err
			}
			nb := make([]byte, len(buf), next)
			copy(nb, buf)
			l.shrink(int64(cap(buf)))
			buf = nb
		}
		n, err := in.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, l, overLimit(err, limit, false) // MaxBytesError: the body as sent
		}
	}
	if int64(len(buf)) > limit {
		return nil, l, &tooLargeError{size: -1, limit: limit, gz: gz}
	}
	return buf, l, nil
}

func overLimit(err error, limit int64, gz bool) error {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return &tooLargeError{size: -1, limit: limit, gz: gz}
	}
	return err
}
