package store

import (
	"io"

	"github.com/RoaringBitmap/roaring/v2"
)

// Releaser is implemented by a raw segment (see Append) that holds a
// resource worth giving back — an open file, a spool in memory — once no
// stored event refers to it any more. Retention calls Release at most once
// per segment, on the writer goroutine.
type Releaser interface {
	Release()
}

// Retain drops the oldest whole chunks of events while more than maxEvents
// events are kept (0: no bound) or the store's estimated memory is above
// maxBytes (0: no bound). The chunk being filled is never dropped, so the
// bounds hold to within one chunk (65536 events unless ChunkEvents says otherwise). It returns the number of
// events dropped now; Stats().Evicted counts them all. Only the writer
// goroutine calls it.
//
// A dropped event leaves every postings list, the request counts and the
// deduplication index, so tables, filters and the time range forget it as
// if it had never been appended; a later copy of it is stored again. IDs of
// the kept events do not change. Sets computed before the drop may still
// hold dropped IDs: Each, Select and Histogram skip them, and Entry returns
// an empty entry for them.
//
// Once enough was dropped, it also compacts the dictionaries (compact.go):
// the strings no kept event holds go; and once the IDs near the end of
// their space, it moves them down (rebase.go).
func (s *Store) Retain(maxEvents int, maxBytes int64) int {
	dropped := s.drop(maxEvents, maxBytes)
	if dropped > 0 {
		s.maybeCompact()
	}
	s.maybeRebase()
	return dropped
}

// drop is Retain's dropping of chunks, under the write lock.
func (s *Store) drop(maxEvents int, maxBytes int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	// The memory estimate walks every dictionary: look at it once per new
	// chunk (what can be dropped comes in chunks anyway), not per batch.
	sizeIt := maxBytes > 0 && len(s.chunks) != s.sizedAt
	s.sizedAt = len(s.chunks)
	dropped := 0
	for s.liveChunks() > 1 {
		over := maxEvents > 0 && int(s.n-s.first) > maxEvents
		if !over && sizeIt {
			over = int64(s.statsLocked().IndexBytes) > maxBytes
		}
		if !over {
			break
		}
		dropped += s.dropOldest()
	}
	if dropped > 0 {
		s.keptMin = s.minKept()
	}
	return dropped
}

// minKept is the oldest stageTimestamp of the kept events (0: none): not
// the first kept event's, as events need not arrive in time order.
func (s *Store) minKept() int64 {
	var m int64
	for id := s.first; id < s.n; id++ {
		if t := s.at(id).stageTime[id&s.mask]; t != 0 && (m == 0 || t < m) {
			m = t
		}
	}
	return m
}

// chunkBytes is the memory of the kept chunks' columns.
func (s *Store) chunkBytes() int {
	n := s.liveChunks() * s.chunkEvents() * eventBytes
	for _, c := range s.chunks[s.first>>s.bits:] {
		for col := range c.str {
			n += c.str[col].bytes()
		}
	}
	return n
}

func (s *Store) liveChunks() int { return len(s.chunks) - int(s.first>>s.bits) }

// dropOldest drops the oldest kept chunk, which is full.
func (s *Store) dropOldest() int {
	ci := s.first >> s.bits
	c := s.chunks[ci]
	size := ID(s.chunkEvents())
	lo, hi := s.first, s.first+size
	for k := range size {
		id := lo + k
		flags := c.flags[k]
		if flags&flagPhases != 0 {
			delete(s.phases, id)
		}
		switch {
		case flags&flagNoAuditID != 0:
		case flags&flagOddAuditID != 0:
			key := s.oddAuditIDs[id]
			delete(s.oddAuditIDs, id)
			if s.byOddID[key] == id {
				if next := s.rehead(id, hi); next == noID {
					delete(s.byOddID, key)
				} else {
					s.byOddID[key] = next
				}
			}
		default:
			key := &c.auditID[k]
			if head, ok := s.byAuditID.get(key); ok && head == id {
				if next := s.rehead(id, hi); next == noID {
					s.byAuditID.del(key)
				} else {
					s.byAuditID.set(key, next)
				}
			}
		}
		s.unref(c.raw[k].seg)
	}

	for _, p := range s.allPostings() {
		p.RemoveRange(uint64(lo), uint64(hi))
	}
	s.chunks[ci] = s.goneChunk()
	s.first = hi
	s.evicted += int(size)
	return int(size)
}

// rehead finds where the chain of stages starting at the dropped head goes
// on among the kept events (IDs from keep on): its new head, or noID. If
// the request's representative was dropped, the best kept stage becomes it,
// so the request is still counted once.
func (s *Store) rehead(head, keep ID) ID {
	next, repLost := noID, false
	for at := head; at != noID; at = s.at(at).next[at&s.mask] {
		if at < keep {
			repLost = repLost || s.requests.Contains(at)
			continue
		}
		if next == noID {
			next = at
		}
		if s.requests.Contains(at) {
			repLost = false
		}
	}
	if repLost && next != noID {
		rep := next
		for at := next; at != noID; at = s.at(at).next[at&s.mask] {
			if stageRank(s.stageOf(at)) >= stageRank(s.stageOf(rep)) {
				rep = at
			}
		}
		s.requests.Add(rep)
	}
	return next
}

// allPostings lists every postings list the store keeps, the request set
// included.
func (s *Store) allPostings() []*roaring.Bitmap {
	ps := []*roaring.Bitmap{s.requests}
	for col := range s.dicts {
		ps = append(ps, s.dicts[col].postings...)
	}
	ps = append(ps, s.groups.postings...)
	for _, p := range s.codes {
		ps = append(ps, p)
	}
	for i := range s.stages {
		ps = append(ps, s.stages[i], s.levels[i])
	}
	return ps
}

// goneChunk is what a dropped chunk's place holds: empty columns whose
// chains end at once, shared by every dropped chunk, so that reads of a
// dropped ID (from a set computed before the drop) are harmless. Its pages
// are mostly never written, so the OS gives them no memory.
func (s *Store) goneChunk() *chunk {
	if s.gone == nil {
		s.gone = newChunk(s.chunkEvents()) // raw: segment 0, zero length: reads return nothing
		for k := range s.gone.next {
			s.gone.next[k] = noID
		}
	}
	return s.gone
}

// unref counts one stored event less for segment seg and releases the
// segment once none is left.
func (s *Store) unref(seg uint32) {
	s.segRefs[seg]--
	if s.segRefs[seg] > 0 {
		return
	}
	r := s.segs[seg]
	if r == nil {
		return
	}
	if rel, ok := r.(Releaser); ok {
		rel.Release()
	}
	delete(s.segIndex, r)
	s.segs[seg] = releasedSegment{}
}

// releasedSegment stands in for a released segment: nothing can be read.
type releasedSegment struct{}

func (releasedSegment) ReadAt(p []byte, off int64) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return 0, io.ErrUnexpectedEOF
}
