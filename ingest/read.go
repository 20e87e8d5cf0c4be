package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/gzip"
)

// defaultChunk is how much the reader hands a decoding worker at a time:
// large enough that per-chunk costs (a goroutine hand-off, a read) vanish
// next to decoding ~400 lines, small enough to keep a few in flight. 1 MiB
// chunks took the same CPU and 8 MB more RSS on the 1 GiB log (15 of
// them are in flight, with their event arrays: 2.7k more page faults).
const defaultChunk = 512 << 10

// binarySniff is how much of the start of a file is looked at for NULs.
const binarySniff = 8 << 10

var bom = []byte{0xEF, 0xBB, 0xBF}

// source is one input being read: its name and identity for Positions and
// Problems, and where its bytes can be read again (Batch.Raw).
//
// Goroutines: created and filled in by the reader goroutine before its first
// job is sent; read-only after that, except emitted, which only the emitting
// goroutine touches.
type source struct {
	path       string
	dev, inode uint64
	raw        io.ReaderAt // *heldFile, *lazyFile or *Spool
	file       *os.File    // the descriptor of a plain regular file being read, or nil
	emitted    bool        // a batch of this source was emitted: keep file open
	cluster    string      // the one cluster a cloud export names (see Batch.Cluster)
}

// job is one unit in the ordered stream from the reader to the emitter: a
// chunk for a worker to decode, or (done == nil) a ready-made control item
// carrying problems found by the reader or the end of a file.
//
// Goroutines: the reader goroutine fills in the input fields and sends it
// to both the ordered and the work channel; one worker goroutine fills in
// the output fields and closes done; the emitting goroutine reads the
// outputs after done is closed.
type job struct {
	src *source
	buf []byte // the chunk: whole lines, or whole documents; never modified
	// whole is buf's underlying buffer, all of it, to be reused once the
	// chunk was emitted (Replay.Recycle); nil when it must not be.
	whole []byte
	// arrays are the events' arrays, to be reused once the chunk was
	// emitted (Replay.Recycle); set by the worker.
	arrays evArrays
	off    int64 // stream offset of buf[0]
	line   int64 // lines before buf[0] (rel: that the reader counted)
	nl     int   // newlines in buf (line mode), to size the event slice; -1: not counted yet (rel)
	// rel: the line numbers of this job (line, its problems' and batches'
	// Pos.Line, end.lines) leave out the newlines of the input's chunks
	// before it, which the reader does not count: the worker counts
	// them as it splits (nl), and the emitter adds them (addLines).
	rel  bool
	doc  bool // document mode: buf holds the documents in docs
	docs []span

	problems []Problem
	batches  []Batch
	end      *fileEnd
	done     chan struct{} // nil for control items
}

// fileEnd closes a source in the ordered stream and carries its counts.
type fileEnd struct {
	src          *source
	read         bool // some of it could be read (it counts in Summary.Files)
	bytes, lines int64
}

// reader is the goroutine that opens the inputs in order, reads them in
// chunks and feeds the workers and the emitter.
//
// Goroutines: the reader goroutine only (sources is read by Run after the
// reader has ended).
type reader struct {
	ctx     context.Context
	ordered chan<- *job // every job, in input order, for the emitter
	work    chan<- *job // chunk jobs, for the workers
	chunk   int
	maxLine int
	stdin   io.Reader
	live    bool // Replay.Live
	sources []*source
	fatal   error       // why reading stopped early, not because of the input
	free    chan []byte // buffers of emitted chunks to reuse (Replay.Recycle), or nil
}

// buffer returns a buffer of size bytes: a reused one when there is one
// big enough.
func (r *reader) buffer(size int) []byte {
	select {
	case b := <-r.free:
		if cap(b) >= size {
			return b[:size]
		}
	default:
	}
	return make([]byte, size)
}

func (r *reader) run(inputs []input) {
	defer close(r.work)
	defer close(r.ordered)
	for _, in := range inputs {
		if in.problem != nil {
			if !r.send(&job{problems: []Problem{*in.problem}}) {
				return
			}
			continue
		}
		if !r.input(in) {
			return
		}
	}
}

// send puts j in the ordered stream and, for chunk jobs, in the work queue.
// It reports false when the run was cancelled.
func (r *reader) send(j *job) bool {
	select {
	case r.ordered <- j:
	case <-r.ctx.Done():
		return false
	}
	if j.done == nil {
		return true
	}
	select {
	case r.work <- j:
		return true
	case <-r.ctx.Done():
		return false
	}
}

func (r *reader) problem(path string, line int64, kind ProblemKind, msg string) bool {
	return r.send(&job{problems: []Problem{{Path: path, Line: line, Kind: kind, Msg: msg}}})
}

// gunzip reads rd as gzip, whatever the name says: its bytes can only be
// read again through the spool. It is nil for a file that is not readable
// gzip, with sent what sending the problem reported.
func (r *reader) gunzip(src *source, rd io.Reader) (_ io.Reader, sent bool) {
	src.file = nil
	zr, err := gzip.NewReader(rd)
	if err != nil {
		kind := Unreadable
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			kind = Truncated
		}
		return nil, r.problem(src.path, 0, kind, "not a readable gzip file: "+err.Error())
	}
	return zr, true
}

// input reads one file or stdin to its end. It reports false when the run
// was cancelled.
func (r *reader) input(in input) bool {
	src := &source{path: in.path}
	var rd io.Reader
	var head [2]byte
	var nhead int
	stream := true // not a regular file: read by Read only, spooled
	if in.stdin {
		rd = r.stdin
	} else {
		f, err := openInput(in.path)
		if isFDExhausted(err) {
			// Not the input's fault: stop, rather than skip it and the
			// files after it and exit 0.
			r.fatal = fmt.Errorf("%s: %w", in.path, err)
			return false
		}
		if err != nil {
			return r.problem(in.path, 0, Unreadable, "cannot read: "+errText(err))
		}
		// Read once, then closed: events' bytes are read again by path
		// (lazyFile), so any number of files can be replayed.
		defer f.Close()
		r.sources = append(r.sources, src)
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return r.problem(in.path, 0, Unreadable, "cannot read: "+errText(err))
		}
		src.dev, src.inode = fileID(fi)
		if fi.Mode().IsRegular() {
			stream = false
			src.file = f
			nhead, _ = f.ReadAt(head[:], 0) // peek without moving the read offset
			rd = newCachedReader(f)
		} else {
			rd = f
		}
	}
	if stream {
		// Pipes cannot be peeked: read the magic bytes and put them back.
		n, err := io.ReadFull(rd, head[:])
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			return r.problem(src.path, 0, Unreadable, "cannot read: "+errText(err))
		}
		nhead = n
		rd = io.MultiReader(bytes.NewReader(head[:n]), rd)
	}
	if nhead == 2 && head[0] == 0x1f && head[1] == 0x8b {
		var sent bool
		if rd, sent = r.gunzip(src, rd); rd == nil {
			return sent
		}
	}
	// A live stream cannot wait for 8 KiB to be sniffed for cloud shapes.
	if !in.stdin || !r.live {
		var ok bool
		if rd, ok = r.cloudInput(src, rd); !ok {
			return false
		}
	}
	fr := &fileReader{r: r, src: src, rd: rd, stream: in.stdin, live: in.stdin && r.live}
	if src.file != nil {
		src.raw = newLazyFile(src.file, src.path, src.dev, src.inode)
	} else {
		fr.spool = NewSpool()
		src.raw = fr.spool
		defer fr.spool.Close()
	}
	if !fr.read() {
		return false
	}
	return r.send(&job{end: &fileEnd{src: src, read: !fr.unreadable, bytes: fr.off, lines: fr.line}, rel: fr.rel})
}
