package store

import "io"

// Span is where one event's original bytes lie in a window of Runs.
type Span struct{ Start, End int }

// runGap is the most bytes between two events that Runs reads over to keep
// them in one window (the events of a filter are often far apart: reading
// the gap would cost more than a second read).
const runGap = 64 << 10

// refsBatch is how many events' locations Runs reads under one read lock.
const refsBatch = 512

// Runs reads the original bytes of ids (ascending, as Set.ToArray gives
// them) a window at a time, and calls fn with each window and the events
// in it: run[i]'s bytes are buf[spans[i].Start:spans[i].End], in increasing
// order and not overlapping. Searching a window once (and mapping what it
// finds to events) costs far less than a call per event: the find in view
// does that. An event that cannot be read (dropped by retention, its file
// changed) is left out. buf, run and spans are valid until fn returns; fn
// returns false to stop.
func (r *RawReader) Runs(ids []ID, fn func(buf []byte, run []ID, spans []Span) bool) {
	var (
		run        []ID
		spans      []Span
		seg        uint32
		start, end int64       // the current window's bytes in seg
		from       io.ReaderAt // the current window's segment
		refs       [refsBatch]rawRef
		segs       [refsBatch]io.ReaderAt
	)
	flush := func() bool {
		if len(run) == 0 {
			return true
		}
		defer func() { run, spans = run[:0], spans[:0] }()
		n := int(end - start)
		if cap(r.win) < n {
			r.win = make([]byte, max(n, rawWindow))
		}
		r.seg = noID // the window no longer holds what Raw thinks
		buf := r.win[:n]
		if got, _ := from.ReadAt(buf, start); got == n {
			return fn(buf, run, spans)
		}
		// Part of it cannot be read: each event on its own, as Raw does.
		for _, id := range run {
			raw, err := r.s.Raw(id, r.buf[:0])
			if err != nil {
				continue
			}
			r.buf = raw
			if !fn(raw, []ID{id}, []Span{{0, len(raw)}}) {
				return false
			}
		}
		return true
	}
	for len(ids) > 0 {
		batch := ids[:min(len(ids), refsBatch)]
		ids = ids[len(batch):]
		r.s.mu.RLock()
		first := r.s.first
		for i, id := range batch {
			if id >= first && id < r.s.n { // not dropped, not stale (see rebase.go)
				refs[i] = r.s.at(id).raw[id&r.s.mask]
				segs[i] = r.s.segs[refs[i].seg]
			} else {
				refs[i] = rawRef{seg: noID}
			}
		}
		r.s.mu.RUnlock()
		for i, id := range batch {
			ref := refs[i]
			if ref.seg == noID {
				continue
			}
			off, stop := ref.off, ref.off+int64(ref.len)
			if len(run) > 0 && ref.seg == seg && off >= end && off-end <= runGap && stop-start <= rawWindow {
				run, end = append(run, id), stop
				spans = append(spans, Span{int(off - start), int(stop - start)})
				continue
			}
			if !flush() {
				return
			}
			seg, start, end, from = ref.seg, off, stop, segs[i]
			run = append(run, id)
			spans = append(spans, Span{0, int(ref.len)})
		}
	}
	flush()
}
