package store

import (
	"slices"
	"time"
)

// Dictionary compaction. Retain drops whole chunks of events, but the
// strings those events held stay in the dictionaries (and their postings
// lists, empty, stay too) unless something takes them out: a long-running
// watch with retention, or the detect Labeler's small store, would keep
// every pod name, generated name and user agent ever seen. So after a
// drop, Retain compacts the dictionaries that grew to more than twice what
// was live at their last compaction: each keeps only the values some kept
// event holds, in their old order, and the kept chunks' columns are
// renumbered to match.
//
// Cost: a compacted column is read twice and copied once over every kept
// event. A dictionary compacts only once it has doubled since its last
// compaction, and only once half as many events as are kept were dropped
// since the last one, so each kept event is copied at most about twice
// per retention period: O(1) per appended event, amortised (about 20-50
// ns per event in BenchmarkChurn). The copies are made beside the
// readers, under the read lock; memory briefly holds both (4 bytes per
// kept event and compacted column).
//
// Readers. The switch to the new dictionaries and columns is made under
// the write lock, so a reader sees them all before or all after, never
// some of each; it takes a pointer swap per kept chunk and column. But a
// compaction renumbers the dictionary IDs that Row.FieldKey, NameKey,
// PathKey, ReasonKey and Store.Key hand out: those keys are valid within
// one key generation (KeyGen), and a reader that keeps one across two
// holds of the read lock (a map by key that lives from one walk window,
// or one live update, to the next) compares the generation first and
// drops what it kept when it moved. Event IDs and postings sets do not
// change. Anything the writer keeps by dictionary ID from one Append to the
// next must do the same.

// minCompact is the smallest dictionary compacted: a few thousand strings
// cost less than walking the kept events for them.
const minCompact = 1024

// compactState is the compaction bookkeeping of a Store.
type compactState struct {
	off       bool            // never compact (BenchmarkChurn's baseline)
	gen       uint64          // key generation: compactions done so far
	took      time.Duration   // the longest hold of the write lock, for BenchmarkChurn
	spent     time.Duration   // all compactions' time, for BenchmarkChurn
	evictedAt int             // Store.evicted at the last compaction
	liveAt    [numStrCols]int // each dict's size after its last compaction
	groupsAt  int             // the same for groups
	setsAt    int             // and groupSets
}

// KeyGen is the store's key generation: the dictionary IDs that
// Row.FieldKey, NameKey, PathKey, ReasonKey and Key return are comparable
// only within one generation. Read it before the keys it is to vouch for.
func (s *Store) KeyGen() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.compact.gen
}

// KeyGen is the key generation of the row's keys (see Store.KeyGen).
func (r Row) KeyGen() uint64 { return r.s.compact.gen }

// due reports whether a dictionary of n strings, live strings after its
// last compaction, is worth compacting.
func due(n, live int) bool { return n >= minCompact && n > 2*live }

// maybeCompact compacts the dictionaries that are due, if enough events
// were dropped since the last compaction. Only the writer calls it,
// without the lock: the new dictionaries are worked out under the read
// lock, beside the readers (nothing else writes meanwhile: the writer is
// here), and only the switch to them, with the columns' renumbering, holds
// the write lock.
func (s *Store) maybeCompact() {
	start := time.Now()
	s.mu.RLock()
	p := s.planDue()
	s.mu.RUnlock()
	if p == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apply(p)
	s.compact.spent += time.Since(start)
}

// planDue plans the compaction of the dictionaries that are due, or
// returns nil. The caller holds the lock.
func (s *Store) planDue() *compactPlan {
	kept := int(s.n - s.first)
	if s.compact.off || s.evicted == s.compact.evictedAt || s.evicted-s.compact.evictedAt < kept/2 {
		return nil
	}
	var cols []int
	for col := range s.dicts {
		if col != colGroups && col != colImpersonatedGroups && due(len(s.dicts[col].strs), s.compact.liveAt[col]) {
			cols = append(cols, col)
		}
	}
	groups := due(len(s.groupSets.strs), s.compact.setsAt) || due(len(s.groups.strs), s.compact.groupsAt)
	if len(cols) == 0 && !groups {
		return nil
	}
	return s.plan(cols, groups)
}

// compactPlan is a compaction worked out: the new dictionaries, and how
// the old IDs map to theirs.
type compactPlan struct {
	cols   []colPlan
	groups *groupPlan
}

type colPlan struct {
	col int
	dictPlan
	renumbered []strCol // the kept chunks' column col, in new IDs
}

type groupPlan struct {
	sets, groups dictPlan
	members      [][]strID   // by new group list ID, in new group IDs
	renumbered   [2][]strCol // the kept chunks' colGroups and colImpersonatedGroups
}

// dictPlan is one dictionary's compaction: the values kept (live), in
// their order, and their new IDs.
type dictPlan struct {
	live  []bool
	remap []strID // old ID -> new (0 for a value dropped)
	strs  []string
	ids   map[string]strID
}

// plan works out the compaction of the plain dictionaries of columns cols,
// and of the group lists and groups if groups is set. It reads the columns
// and strings only (not the postings, which a reader may be building: see
// LazyPostings), so the read lock will do.
func (s *Store) plan(cols []int, groups bool) *compactPlan {
	p := &compactPlan{}
	for _, col := range cols {
		if col == colGroups || col == colImpersonatedGroups {
			continue // their IDs are groupSets' (planGroups), their dicts unused
		}
		d := &s.dicts[col]
		c := colPlan{col: col, dictPlan: planDict(d, s.liveInColumns(len(d.strs), col))}
		c.renumbered = s.renumbered(c.remap, col)
		p.cols = append(p.cols, c)
	}
	if groups {
		p.groups = s.planGroups()
	}
	return p
}

// planGroups plans the group lists' compaction (the lists two columns
// hold) and the groups' (the members of the kept lists).
func (s *Store) planGroups() *groupPlan {
	live := s.liveInColumns(len(s.groupSets.strs), colGroups, colImpersonatedGroups)
	g := &groupPlan{sets: planDict(&s.groupSets, live)}
	liveG := make([]bool, len(s.groups.strs))
	liveG[0] = true
	for old, ok := range live {
		if ok {
			for _, m := range s.setMembers[old] {
				liveG[m] = true
			}
		}
	}
	g.groups = planDict(&s.groups, liveG)
	g.members = make([][]strID, len(g.sets.strs))
	for old, ok := range live {
		if !ok || len(s.setMembers[old]) == 0 {
			continue
		}
		ms := make([]strID, len(s.setMembers[old])) // a copy: readers use the old
		for i, m := range s.setMembers[old] {
			ms[i] = g.groups.remap[m]
		}
		g.members[g.sets.remap[old]] = ms
	}
	g.renumbered[0] = s.renumbered(g.sets.remap, colGroups)
	g.renumbered[1] = s.renumbered(g.sets.remap, colImpersonatedGroups)
	return g
}

// apply switches to the dictionaries of p and renumbers the kept chunks'
// columns to match. The caller holds the write lock, and nothing was
// appended or dropped since p was planned.
func (s *Store) apply(p *compactPlan) {
	start := time.Now()
	for _, c := range p.cols {
		s.dicts[c.col].switchTo(&c.dictPlan)
		s.switchColumn(c.col, c.renumbered)
		s.compact.liveAt[c.col] = len(c.strs)
	}
	if g := p.groups; g != nil {
		s.groupSets.switchTo(&g.sets)
		s.groups.switchTo(&g.groups)
		s.setMembers = g.members
		s.switchColumn(colGroups, g.renumbered[0])
		s.switchColumn(colImpersonatedGroups, g.renumbered[1])
		s.compact.setsAt, s.compact.groupsAt = len(g.sets.strs), len(g.groups.strs)
	}
	s.compact.evictedAt = s.evicted
	s.compact.gen++
	s.refreshKeys(true) // a new generation: the workers' snapshot has the old IDs
	s.compact.took = max(s.compact.took, time.Since(start))
}

// liveInColumns marks the IDs below n that the kept chunks hold in any of
// cols.
func (s *Store) liveInColumns(n int, cols ...int) []bool {
	live := make([]bool, n)
	live[0] = true
	for _, c := range s.chunks[s.first>>s.bits:] {
		for _, col := range cols {
			sc := &c.str[col]
			for _, id := range sc.dense {
				live[id] = true
			}
			for _, id := range sc.ids {
				live[id] = true
			}
		}
	}
	return live
}

// renumbered returns a copy of the kept chunks' column col in the new
// IDs of remap (old ID to new), for apply to switch to: readers go on
// reading the old meanwhile, and the write lock is held only for the
// switch, not for a walk over every kept event. Only the kept chunks: the
// dropped ones all share the gone chunk, whose columns are empty.
func (s *Store) renumbered(remap []strID, col int) []strCol {
	kept := s.chunks[s.first>>s.bits:]
	out := make([]strCol, len(kept))
	for i, c := range kept {
		sc, nc := &c.str[col], &out[i]
		if sc.dense != nil {
			nc.dense = make([]strID, len(sc.dense))
			for k, id := range sc.dense {
				nc.dense[k] = remap[id]
			}
			continue
		}
		nc.at = slices.Clone(sc.at)
		nc.ids = make([]strID, len(sc.ids), cap(sc.ids))
		for k, id := range sc.ids {
			nc.ids[k] = remap[id]
		}
	}
	return out
}

// switchColumn makes cols (from renumbered) the kept chunks' column col.
// The caller holds the write lock.
func (s *Store) switchColumn(col int, cols []strCol) {
	for i, c := range s.chunks[s.first>>s.bits:] {
		c.str[col] = cols[i]
	}
}

// planDict plans keeping the values of d marked live (0, "", always is),
// in their order. The map is made anew: a Go map does not give back the
// room of deleted keys.
func planDict(d *dict, live []bool) dictPlan {
	n := 0
	for _, ok := range live {
		if ok {
			n++
		}
	}
	p := dictPlan{live: live, remap: make([]strID, len(d.strs)), strs: make([]string, 0, n), ids: make(map[string]strID, n)}
	for old, ok := range live {
		if !ok {
			continue
		}
		id := strID(len(p.strs))
		p.remap[old] = id
		p.strs = append(p.strs, d.strs[old])
		p.ids[d.strs[old]] = id
	}
	return p
}

// switchTo makes d the dictionary p planned, its postings included (those
// of the values kept, as they are now). The caller holds the write lock.
func (d *dict) switchTo(p *dictPlan) {
	if d.postings != nil {
		postings := make([]*Set, 0, len(p.strs))
		for old, ok := range p.live {
			if ok {
				postings = append(postings, d.postings[old])
			}
		}
		d.postings = postings
	}
	d.strs, d.ids = p.strs, p.ids
}
