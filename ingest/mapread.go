package ingest

import (
	"bytes"
	"io"
	"runtime/debug"
	"sync/atomic"
)

// Mapped reading: a filtered replay (Replay.Skim) reads a plain file by
// mapping it a chunk at a time instead of copying it with read(2). Skim
// rules out most lines and keeps no byte of them, so the file's pages are
// looked at where they are: read(2)'s copy of each byte into a buffer was
// a fifth to a quarter of a filter's CPU. Lines the workers decode are
// copied out of the window first (decoded events alias their bytes and
// live on), so that no byte of a window is read after its worker, which
// unmaps it.
//
// A file that shrinks under a mapping faults (SIGBUS) instead of ending
// early: the reader and the workers turn that fault into a Truncated
// problem (debug.SetPanicOnFault) and no more of the file is read.

// mapWindow is a mapped window of a file: mem holds its bytes from
// offset base. It is unmapped once the reader moved past it and the
// workers decoded its chunks (refs). Windows are mapWindowSize: mapping
// and unmapping each chunk cost most of what mapping saves (a munmap
// stops the other core to flush its TLB).
type mapWindow struct {
	mem  []byte
	base int64
	refs atomic.Int32 // chunks handed on not yet decoded, +1 while the reader maps from it
}

const mapWindowSize = 16 << 20

func (w *mapWindow) release() {
	if w.refs.Add(-1) == 0 {
		unmap(w.mem)
	}
}

// mapReads: filtered replays map plain files (tests turn it off to
// compare).
var mapReads = canMap

const shrankMsg = "the file shrank while it was read (truncated); the rest of it was not read"

// isFault reports whether a recovered panic is a memory fault (a mapped
// file that shrank), and panics again with anything else.
func isFault(e any) bool {
	if _, ok := e.(interface{ Addr() uintptr }); ok {
		return true
	}
	panic(e)
}

// linesMapped hands on the file's lines: those of the first buffer
// (buf[:n], read already), then the rest a mapped chunk at a time. done
// false says lines must go on reading, from f.off, with buf[:n]: the first
// buffer holds no whole line, or a line is longer than a chunk, or the
// file cannot be mapped.
func (f *fileReader) linesMapped(buf []byte, n int) (ok, done bool, rbuf []byte, rn int) {
	cut := bytes.LastIndexByte(buf[:n], '\n') + 1
	if cut == 0 || f.eof || f.err != nil {
		return true, false, buf, n
	}
	f.whole = buf
	if !f.handOn(buf[:cut:cut], false, nil) {
		return false, true, nil, 0
	}
	prev := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(prev)
	defer func() {
		if f.win != nil {
			f.win.release()
			f.win = nil
		}
		if e := recover(); e != nil && isFault(e) {
			f.eof = true
			ok, done = f.r.problem(f.src.path, f.line+1, Truncated, shrankMsg), true
		}
	}()
	for {
		fi, err := f.src.file.Stat()
		if err != nil {
			f.err = err
			return true, true, nil, 0
		}
		if f.off >= fi.Size() {
			f.eof = true
			return true, true, nil, 0
		}
		chunk := f.mapNext(fi.Size())
		if chunk == nil {
			// Read from here on.
			if _, err := f.src.file.Seek(f.off, io.SeekStart); err != nil {
				f.err = err
				return true, true, nil, 0
			}
			f.rd = f.src.file
			return true, false, f.r.buffer(f.r.chunk), 0
		}
		f.win.refs.Add(1)
		f.mapped = f.win
		if !f.handOn(chunk, false, nil) {
			f.win.release() // no worker got it
			return false, true, nil, 0
		}
	}
}

// mapNext returns the next chunk of a file of size bytes, from f.off, in
// f.win (mapping a new window when the chunk goes past it): up to the last
// newline of a chunk's worth, or to the end of the file. nil when no
// newline ends a line in a chunk's worth or the file cannot be mapped.
func (f *fileReader) mapNext(size int64) []byte {
	end := min(f.off+int64(f.r.chunk), size)
	if w := f.win; w == nil || end > w.base+int64(len(w.mem)) {
		if w != nil {
			w.release()
			f.win = nil
		}
		start := f.off &^ (pageSize - 1)
		mem, err := mapFile(f.src.file, start, int(min(max(mapWindowSize, end-start), size-start)))
		if err != nil {
			return nil
		}
		f.win = &mapWindow{mem: mem, base: start}
		f.win.refs.Store(1)
	}
	data := f.win.mem[f.off-f.win.base : end-f.win.base]
	k := len(data)
	if end < size {
		k = bytes.LastIndexByte(data, '\n') + 1
	}
	if k == 0 {
		return nil
	}
	return data[:k:k]
}

// decodeMapped is decode for a chunk in a mapped window, which it unmaps.
// A fault (the file shrank) drops what the chunk made and says so.
func (w *worker) decodeMapped(j *job) {
	prev := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(prev)
	defer j.mapped.release()
	defer func() {
		if e := recover(); e != nil && isFault(e) {
			j.batches = nil
			j.problems = []Problem{{Path: j.src.path, Line: j.line + 1, Kind: Truncated, Msg: shrankMsg}}
		}
	}()
	w.decode(j)
}
