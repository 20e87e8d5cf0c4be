package store

import (
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/kaudit/kaudit/audit"
)

// Rebasing event IDs. IDs are uint32 and only grow: after about 4.29 G
// appended events (5 days at 10 k events/s) the next ID would wrap, and a
// long-running watch with retention gets there while holding only a few
// million events. So once retention has dropped enough, Retain rebases:
// every kept event's ID moves down by the same shift (the dropped prefix,
// a whole number of chunks, and of 65,536-event roaring containers when
// the chunks are that big, so that postings move by renumbering container
// keys). The shifts add up in the ID base (IDBase): base + ID is an
// event's place among all events ever appended, and never changes.
//
// Cost: the kept chunks' chain column (4 bytes per kept event) and every
// postings list are copied, the dedup table's slots rewritten, and the
// maps by ID rebuilt, once per rebaseAt appended events at most (half the
// ID space): nothing per event worth counting. The copies are made under
// the read lock, beside the readers (the lazy postings build excepted,
// see plan); the write lock is held for pointer swaps only.
//
// Readers. An ID or a set of IDs is valid within one ID base. A walk
// (Each, Select, SelectMatching, EachRow, Times, ObjectRows) follows a
// rebase that happens between its windows: the rest of its set is moved
// as the store was, and Select's result is in the base current when it
// returns. A reader that keeps IDs or sets from one call to the next
// reads IDBase first and, when it moved, moves what it kept (MapID,
// MapSet) or computes it again. Entry, Stages, Raw and Source of an ID
// that is not stored (dropped, or stale and past the end) return nothing.
//
// Without retention nothing is dropped and nothing can move: Append then
// refuses the events past the ID space (AppendResult.Refused,
// Stats().Refused) rather than wrap.

// DefaultIDSpace is how many IDs a store hands out before it must rebase:
// the uint32 range less one chunk, so that noID is never an event's.
const DefaultIDSpace = 1<<32 - 1<<16

// IDSpace sets how many IDs the store may hand out before it rebases (or,
// without retention, refuses events): DefaultIDSpace unless set. Tests
// lower it to exercise many rebases cheaply.
func IDSpace(n uint32) Option {
	return func(s *Store) { s.ids.space = n }
}

// idState is the rebase bookkeeping of a Store.
type idState struct {
	space   uint32        // IDs handed out at most (0: DefaultIDSpace)
	base    uint64        // shifts so far: see IDBase
	refused int           // events Append refused for want of IDs
	rebases int           // rebases done
	took    time.Duration // the longest hold of the write lock
	spent   time.Duration // all rebases' time
}

func (s *Store) idSpace() uint32 {
	if s.ids.space == 0 {
		return DefaultIDSpace
	}
	return s.ids.space
}

// IDBase is the store's ID generation: the sum of the shifts of every
// rebase so far. IDs (and sets of them) handed out under one base are
// valid under that base only; read it before the IDs it is to vouch for.
func (s *Store) IDBase() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.ids.base
}

// MapID moves id, handed out under base, to the current base; false when
// the event is no longer stored.
func (s *Store) MapID(id ID, base uint64) (ID, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.mapID(id, base)
}

func (s *Store) mapID(id ID, base uint64) (ID, bool) {
	v := uint64(id) + base
	if v < s.ids.base {
		return 0, false
	}
	v -= s.ids.base
	if v < uint64(s.first) || v >= uint64(s.n) {
		return 0, false
	}
	return ID(v), true
}

// MapSet returns set, made under base, moved to the current base (set
// itself when the base did not move).
func (s *Store) MapSet(set *Set, base uint64) *Set {
	return MoveSet(set, base, s.IDBase())
}

// MoveSet returns set, made under ID base from, moved to base to (a later
// one): set itself when they are equal.
func MoveSet(set *Set, from, to uint64) *Set {
	if from == to {
		return set
	}
	return shiftSet(set, from, to)
}

// shiftSet moves set from base from to base to (to >= from); IDs that
// fall below 0 go.
func shiftSet(set *Set, from, to uint64) *Set {
	d := to - from
	if d >= 1<<32 {
		return roaring.New()
	}
	return roaring.AddOffset64(set, -int64(d))
}

// shiftIDs moves ids, handed out under base from, to the current base in
// place and returns those still possibly stored. The caller holds the lock.
func (s *Store) shiftIDs(ids []uint32, from uint64) []uint32 {
	if from == s.ids.base {
		return ids
	}
	d := s.ids.base - from
	out := ids[:0]
	for _, id := range ids {
		if uint64(id) >= d {
			out = append(out, uint32(uint64(id)-d))
		}
	}
	return out
}

// room is how many more events Append may store. The caller holds the
// write lock.
func (s *Store) room() int { return int(s.idSpace() - s.n) }

// rebaseDue reports whether Retain should rebase now: once the dropped
// prefix is half the ID space, or the space is nearly used up and
// anything at all was dropped.
func (s *Store) rebaseDue() bool {
	space := s.idSpace()
	return s.shift() > 0 && (s.first >= space/2 || s.n >= space-space/8)
}

// shift is how far a rebase moves IDs now: the dropped prefix, in whole
// roaring containers when it is at least one.
func (s *Store) shift() ID {
	if s.first >= 1<<16 && s.chunkEvents() <= 1<<16 {
		return s.first &^ (1<<16 - 1)
	}
	return s.first
}

// rebasePlan is a rebase worked out: the shift, and copies of whatever
// holds IDs, moved.
type rebasePlan struct {
	d        ID
	next     [][]uint32 // the kept chunks' chain columns
	slots    []uint64   // byAuditID's
	byOddID  map[string]ID
	oddIDs   map[ID]string
	phases   map[ID][]audit.Phase
	postings *movedPostings // nil: the postings were not built yet (lazy)
}

// maybeRebase rebases when it is due. Only the writer calls it, without
// the lock, like maybeCompact.
func (s *Store) maybeRebase() {
	start := time.Now()
	s.mu.RLock()
	var p *rebasePlan
	if s.rebaseDue() {
		p = s.planRebase()
	}
	s.mu.RUnlock()
	if p == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.applyRebase(p)
	s.ids.spent += time.Since(start)
}

// planRebase copies and moves what holds IDs. The caller holds the read
// lock and is the writer.
func (s *Store) planRebase() *rebasePlan {
	d := s.shift()
	p := &rebasePlan{d: d}
	for _, c := range s.chunks[s.first>>s.bits:] {
		next := make([]uint32, len(c.next))
		for k, at := range c.next {
			if at != noID {
				at -= d // chains run forward, among kept events
			}
			next[k] = at
		}
		p.next = append(p.next, next)
	}
	p.slots = make([]uint64, len(s.byAuditID.slots))
	for i, sl := range s.byAuditID.slots {
		if uint32(sl) != 0 { // a head (id+1); tombstones and empty slots stay
			sl -= uint64(d)
		}
		p.slots[i] = sl
	}
	p.byOddID = make(map[string]ID, len(s.byOddID))
	for k, id := range s.byOddID {
		p.byOddID[k] = id - d
	}
	p.oddIDs = make(map[ID]string, len(s.oddAuditIDs))
	for id, k := range s.oddAuditIDs {
		p.oddIDs[id-d] = k
	}
	p.phases = make(map[ID][]audit.Phase, len(s.phases))
	for id, ph := range s.phases {
		p.phases[id-d] = ph
	}
	// A reader may be building the postings (lazy.go): wait for it.
	s.buildMu.Lock()
	if s.posted.Load() {
		p.postings = s.movePostings(d)
	}
	s.buildMu.Unlock()
	return p
}

// applyRebase switches to the moved copies. The caller holds the write
// lock, and nothing was appended or dropped since p was planned.
func (s *Store) applyRebase(p *rebasePlan) {
	start := time.Now()
	d := p.d
	for i, c := range s.chunks[s.first>>s.bits:] {
		c.next = p.next[i]
	}
	s.chunks = append([]*chunk(nil), s.chunks[d>>s.bits:]...)
	s.byAuditID.slots = p.slots
	s.byOddID, s.oddAuditIDs, s.phases = p.byOddID, p.oddIDs, p.phases
	if p.postings == nil && s.posted.Load() {
		p.postings = s.movePostings(d) // built by a reader since the plan
	}
	if p.postings != nil {
		s.switchPostings(p.postings)
	} else {
		s.requests = roaring.AddOffset64(s.requests, -int64(d)) // kept without postings too
	}
	s.first -= d
	s.n -= d
	s.sizedAt -= int(d >> s.bits)
	s.ids.base += uint64(d)
	s.ids.rebases++
	s.ids.took = max(s.ids.took, time.Since(start))
}

// movedPostings are every postings list, moved.
type movedPostings struct {
	requests *Set
	dicts    [numStrCols][]*Set
	groups   []*Set
	codes    map[uint16]*Set
	stages   [8]*Set
	levels   [8]*Set
}

func (s *Store) movePostings(d ID) *movedPostings {
	mv := func(p *Set) *Set { return roaring.AddOffset64(p, -int64(d)) }
	mvAll := func(ps []*Set) []*Set {
		if ps == nil {
			return nil
		}
		out := make([]*Set, len(ps))
		for i, p := range ps {
			out[i] = mv(p)
		}
		return out
	}
	m := &movedPostings{requests: mv(s.requests), groups: mvAll(s.groups.postings), codes: map[uint16]*Set{}}
	for col := range s.dicts {
		m.dicts[col] = mvAll(s.dicts[col].postings)
	}
	for c, p := range s.codes {
		m.codes[c] = mv(p)
	}
	for i := range s.stages {
		m.stages[i], m.levels[i] = mv(s.stages[i]), mv(s.levels[i])
	}
	return m
}

func (s *Store) switchPostings(m *movedPostings) {
	s.requests, s.groups.postings, s.codes = m.requests, m.groups, m.codes
	for col := range s.dicts {
		s.dicts[col].postings = m.dicts[col]
	}
	s.stages, s.levels = m.stages, m.levels
}

// RebaseStats says what rebasing did: for BenchmarkRebase and tests.
type RebaseStats struct {
	Rebases   int
	Base      uint64
	Refused   int
	LongestWL time.Duration // the longest hold of the write lock
	Spent     time.Duration
}

// RebaseStats returns the rebase figures.
func (s *Store) RebaseStats() RebaseStats {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return RebaseStats{Rebases: s.ids.rebases, Base: s.ids.base, Refused: s.ids.refused, LongestWL: s.ids.took, Spent: s.ids.spent}
}

// betweenWindows, when set (by tests only), is called between two
// windows of a walk, without the lock.
var betweenWindows func()

// walk is what a walk over a set (Each, Select, Times, ObjectRows) keeps
// from one window to the next: the ID base its set was made under, the
// base its IDs are in now, and the end of the events it walks.
type walk struct {
	setBase, base uint64
	limit         ID // IDs from limit on (in base) stay out
}

// startWalk begins a walk over a set made under the current base, over
// the events stored now.
func (s *Store) startWalk() walk {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return walk{setBase: s.ids.base, base: s.ids.base, limit: s.n}
}

// window moves a window of the set's IDs to the current base (see
// shiftIDs) and reports by how much the walk's base moved since the last
// window (0 mostly). The caller holds the read lock.
func (w *walk) window(s *Store, ids []uint32) ([]uint32, uint64) {
	ids = s.shiftIDs(ids, w.setBase)
	d := s.ids.base - w.base
	if d > 0 {
		w.base = s.ids.base
		w.limit = ID(uint64(w.limit) - min(d, uint64(w.limit)))
	}
	return ids, d
}
