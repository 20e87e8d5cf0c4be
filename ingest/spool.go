package ingest

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"
)

// SpoolFrameSize is how many bytes of the stream a Spool compresses as one
// zstd frame: big enough for a good ratio on audit JSON (keys and user
// agents repeat within a few lines), small enough that reading one event
// back decompresses little.
const SpoolFrameSize = 256 << 10

// spoolCacheFrames is how many decompressed frames ReadAt keeps: a reader
// going through events in order hits the same frame hundreds of times.
const spoolCacheFrames = 4

// spoolQueue bounds the frames waiting for the compressor: when it falls
// behind, Write blocks rather than holding the stream uncompressed.
const spoolQueue = 8

var (
	spoolEncoder = sync.OnceValue(func() *zstd.Encoder {
		// SpeedFastest: the spool must keep up with reading; concurrency 2
		// lets two spools (or a spool and a test) compress at once.
		e, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(2), zstd.WithEncoderCRC(false))
		if err != nil {
			panic(err) // only for invalid options
		}
		return e
	})
	spoolDecoder = sync.OnceValue(func() *zstd.Decoder {
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(2))
		if err != nil {
			panic(err)
		}
		return d
	})
)

// ErrSpoolHole is returned by Spool.ReadAt for bytes the spool did not keep:
// those of a line skipped as too long. No event points there.
var ErrSpoolHole = errors.New("ingest: spool: bytes not kept (skipped line)")

// errSpoolReleased: the spool's bytes were freed by Release.
var errSpoolReleased = errors.New("ingest: spool: released")

// Spool keeps a copy of a stream that cannot be read again — standard input,
// the decompressed contents of a .gz file — so that each event's original
// bytes can be read back by offset (io.ReaderAt) without holding the stream
// uncompressed: it stores it as zstd frames of SpoolFrameSize bytes and
// decompresses on demand, keeping the last few frames read.
//
// Goroutines: one writer calls Write, Skip and Close (the replay reader
// goroutine); a compressor goroutine of the spool's own compresses full
// frames so the writer does not; any goroutine may call ReadAt, Size and
// Stats at any time, also while writing goes on (bytes not yet compressed
// are read from the pending frame). A mutex guards the frame list and cache.
type Spool struct {
	mu     sync.Mutex
	frames []spoolFrame // sealed frames, in stream order
	cur    []byte       // the frame being filled; cap SpoolFrameSize
	curOff int64        // stream offset of cur[0]
	size   int64        // bytes written or skipped so far
	closed bool
	cache  [spoolCacheFrames]spoolCached
	tick   uint64

	compressed int64         // bytes of zstd frames so far
	encodeTime time.Duration // compressor time, for Stats

	free [][]byte // frame buffers the compressor is done with, for Write to reuse

	work chan int      // indexes of sealed frames to compress; closed by Close
	done chan struct{} // closed when the compressor has finished
}

type spoolFrame struct {
	off  int64
	n    int
	raw  []byte // uncompressed, until the compressor replaces it with z
	z    []byte
	hole bool // skipped bytes: nothing kept
}

type spoolCached struct {
	frame int // index+1; 0 = empty slot
	data  []byte
	used  uint64
}

// NewSpool returns an empty spool and starts its compressor goroutine,
// which ends after Close.
func NewSpool() *Spool {
	s := &Spool{work: make(chan int, spoolQueue), done: make(chan struct{})}
	go s.compressor()
	return s
}

// Write appends p to the stream. It copies p, so the caller may reuse it.
func (s *Spool) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		var sealed = -1
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return n - len(p), errors.New("ingest: spool: write after close")
		}
		if s.cur == nil {
			if n := len(s.free); n > 0 {
				s.cur, s.free = s.free[n-1][:0], s.free[:n-1]
			} else {
				s.cur = make([]byte, 0, SpoolFrameSize)
			}
			s.curOff = s.size
		}
		c := copy(s.cur[len(s.cur):cap(s.cur)], p)
		s.cur = s.cur[:len(s.cur)+c]
		s.size += int64(c)
		p = p[c:]
		if len(s.cur) == cap(s.cur) {
			sealed = s.seal()
		}
		s.mu.Unlock()
		if sealed >= 0 {
			s.work <- sealed // outside the lock: the compressor needs it to finish
		}
	}
	return n, nil
}

// Skip advances the stream by n bytes that are not kept (a line too long to
// hold): offsets after it stay those of the original stream.
func (s *Spool) Skip(n int64) {
	if n <= 0 {
		return
	}
	s.mu.Lock()
	sealed := s.seal()
	s.frames = append(s.frames, spoolFrame{off: s.size, n: int(n), hole: true})
	s.size += n
	s.mu.Unlock()
	if sealed >= 0 {
		s.work <- sealed
	}
}

// seal moves the pending frame to the frame list and returns its index, or
// -1 when there was none. s.mu must be held.
func (s *Spool) seal() int {
	if len(s.cur) == 0 {
		return -1
	}
	s.frames = append(s.frames, spoolFrame{off: s.curOff, n: len(s.cur), raw: s.cur})
	s.cur = nil
	return len(s.frames) - 1
}

// Close ends the stream: the last frame is compressed and the compressor
// goroutine ends. ReadAt keeps working. Close waits for the compressor.
func (s *Spool) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		<-s.done
		return nil
	}
	s.closed = true
	sealed := s.seal()
	defer func() { s.mu.Lock(); s.free = nil; s.mu.Unlock() }()
	s.mu.Unlock()
	if sealed >= 0 {
		s.work <- sealed
	}
	close(s.work)
	<-s.done
	return nil
}

// Release closes the spool and frees what it holds: nothing can be read
// from it afterwards. Store retention calls it once no stored event refers
// to the spool.
func (s *Spool) Release() {
	s.Close()
	s.mu.Lock()
	s.frames = nil
	s.cache = [spoolCacheFrames]spoolCached{}
	s.mu.Unlock()
}

func (s *Spool) compressor() {
	defer close(s.done)
	enc := spoolEncoder()
	var scratch []byte
	for i := range s.work {
		s.mu.Lock()
		raw := s.frames[i].raw // immutable once sealed
		s.mu.Unlock()
		t := time.Now()
		scratch = enc.EncodeAll(raw, scratch[:0])
		// Copy to an exact-size slice: EncodeAll's output may have the
		// capacity of the input, which would waste what we saved.
		z := append([]byte(nil), scratch...)
		d := time.Since(t)
		s.mu.Lock()
		s.frames[i].z, s.frames[i].raw = z, nil
		if cap(raw) == SpoolFrameSize && len(s.free) < spoolQueue {
			// Nothing else holds raw (ReadAt copies out under the lock):
			// recycle it rather than allocate a frame per 256 KiB.
			s.free = append(s.free, raw)
		}
		s.compressed += int64(len(z))
		s.encodeTime += d
		s.mu.Unlock()
	}
}

// Size is the length of the stream so far.
func (s *Spool) Size() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.size
}

// SpoolStats says how well a spool compresses.
type SpoolStats struct {
	Size       int64         // stream bytes written or skipped
	Compressed int64         // bytes of compressed frames
	Pending    int64         // bytes not yet compressed
	Frames     int           // sealed frames
	EncodeTime time.Duration // time the compressor spent
}

// Stats reports the spool's sizes.
func (s *Spool) Stats() SpoolStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := SpoolStats{Size: s.size, Compressed: s.compressed, Frames: len(s.frames), EncodeTime: s.encodeTime, Pending: int64(len(s.cur))}
	for _, f := range s.frames {
		if f.raw != nil {
			st.Pending += int64(f.n)
		}
	}
	return st
}

// ReadAt reads len(p) bytes at offset off of the stream. It returns io.EOF
// when fewer remain, and ErrSpoolHole for bytes that were skipped.
func (s *Spool) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("ingest: spool: negative offset %d", off)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for n < len(p) {
		at := off + int64(n)
		if at >= s.size {
			return n, io.EOF
		}
		data, start, err := s.frameAt(at)
		if err != nil {
			return n, err
		}
		n += copy(p[n:], data[at-start:])
	}
	return n, nil
}

// frameAt returns the bytes of the frame holding stream offset at, and the
// frame's start offset. s.mu must be held.
func (s *Spool) frameAt(at int64) ([]byte, int64, error) {
	if s.cur != nil && at >= s.curOff {
		return s.cur, s.curOff, nil
	}
	i := sort.Search(len(s.frames), func(i int) bool { return s.frames[i].off+int64(s.frames[i].n) > at })
	if i == len(s.frames) {
		return nil, 0, errSpoolReleased
	}
	f := &s.frames[i]
	switch {
	case f.hole:
		return nil, 0, ErrSpoolHole
	case f.raw != nil:
		return f.raw, f.off, nil
	}
	s.tick++
	victim := 0
	for c := range s.cache {
		e := &s.cache[c]
		if e.frame == i+1 {
			e.used = s.tick
			return e.data, f.off, nil
		}
		if e.used < s.cache[victim].used {
			victim = c
		}
	}
	e := &s.cache[victim]
	data, err := spoolDecoder().DecodeAll(f.z, e.data[:0])
	if err != nil {
		e.frame = 0
		return nil, 0, fmt.Errorf("ingest: spool: frame at %d: %w", f.off, err)
	}
	e.frame, e.data, e.used = i+1, data, s.tick
	return data, f.off, nil
}
