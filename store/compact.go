package store

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
// Cost: a compacted column is read and rewritten over every kept event.
// A dictionary compacts only once it has doubled since its last
// compaction, and only once half as many events as are kept were dropped
// since the last one, so each kept event is rewritten at most about twice
// per retention period: O(1) per appended event, amortised.
//
// Readers. Everything happens under the write lock (Retain's), so a
// reader sees the dictionaries and columns before or after, never between.
// But a compaction renumbers the dictionary IDs that Row.FieldKey,
// NameKey, PathKey, ReasonKey and Store.Key hand out: those keys are valid
// within one key generation (KeyGen), and a reader that keeps one across
// two holds of the read lock (a map by key that lives from one walk window,
// or one live update, to the next) compares the generation first and
// drops what it kept when it moved. Event IDs and postings sets do not
// change. Anything the writer keeps by dictionary ID from one Append to the
// next must do the same.

// minCompact is the smallest dictionary compacted: a few thousand strings
// cost less than walking the kept events for them.
const minCompact = 1024

// compactState is the compaction bookkeeping of a Store.
type compactState struct {
	gen       uint64          // key generation: compactions done so far
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
// were dropped since the last compaction. The caller holds the write lock.
func (s *Store) maybeCompact() {
	kept := int(s.n - s.first)
	if s.evicted == s.compact.evictedAt || s.evicted-s.compact.evictedAt < kept/2 {
		return
	}
	var cols []int
	for col := range s.dicts {
		if col != colGroups && col != colImpersonatedGroups && due(len(s.dicts[col].strs), s.compact.liveAt[col]) {
			cols = append(cols, col)
		}
	}
	sets := due(len(s.groupSets.strs), s.compact.setsAt)
	groups := due(len(s.groups.strs), s.compact.groupsAt)
	if len(cols) == 0 && !sets && !groups {
		return
	}
	s.compactDicts(cols, sets || groups)
}

// compactDicts compacts the plain dictionaries of columns cols, and the
// group lists and groups if groups is set. The caller holds the write lock.
func (s *Store) compactDicts(cols []int, groups bool) {
	for _, col := range cols {
		if col == colGroups || col == colImpersonatedGroups {
			continue // their IDs are groupSets' (compactGroups), their dicts unused
		}
		d := &s.dicts[col]
		var live []bool
		if d.postings != nil {
			live = liveByPostings(d)
		} else {
			live = s.liveInColumns(len(d.strs), col)
		}
		remap := d.compact(live)
		s.remapColumns(remap, col)
		s.compact.liveAt[col] = len(d.strs)
	}
	if groups {
		s.compactGroups()
	}
	s.compact.evictedAt = s.evicted
	s.compact.gen++
}

// compactGroups compacts the group lists (held by two columns) and then
// the groups (held by the kept lists' members).
func (s *Store) compactGroups() {
	live := s.liveInColumns(len(s.groupSets.strs), colGroups, colImpersonatedGroups)
	remap := s.groupSets.compact(live)
	s.remapColumns(remap, colGroups, colImpersonatedGroups)
	members := make([][]strID, len(s.groupSets.strs))
	for old, id := range remap {
		if live[old] {
			members[id] = s.setMembers[old]
		}
	}
	s.setMembers = members
	s.compact.setsAt = len(s.groupSets.strs)

	liveG := make([]bool, len(s.groups.strs))
	liveG[0] = true
	for _, ms := range members {
		for _, g := range ms {
			liveG[g] = true
		}
	}
	remapG := s.groups.compact(liveG)
	for _, ms := range members {
		for i, g := range ms {
			ms[i] = remapG[g]
		}
	}
	s.compact.groupsAt = len(s.groups.strs)
}

// liveByPostings marks the values of an indexed dictionary that some kept
// event holds: retention took the dropped events out of the postings.
func liveByPostings(d *dict) []bool {
	live := make([]bool, len(d.strs))
	live[0] = true
	for id, p := range d.postings {
		live[id] = live[id] || !p.IsEmpty()
	}
	return live
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

// remapColumns renumbers the kept chunks' columns cols by remap (old ID
// to new). Only the kept chunks: the dropped ones all share the gone chunk,
// whose columns are empty.
func (s *Store) remapColumns(remap []strID, cols ...int) {
	for _, c := range s.chunks[s.first>>s.bits:] {
		for _, col := range cols {
			sc := &c.str[col]
			for i, id := range sc.dense {
				sc.dense[i] = remap[id]
			}
			for i, id := range sc.ids {
				sc.ids[i] = remap[id]
			}
		}
	}
}

// compact keeps the values marked live (0, "", always is), in their order,
// and returns each old ID's new one (0 for a value dropped). The map is
// made anew: a Go map does not give back the room of deleted keys.
func (d *dict) compact(live []bool) []strID {
	remap := make([]strID, len(d.strs))
	n := 0
	for _, ok := range live {
		if ok {
			n++
		}
	}
	strs := make([]string, 0, n)
	ids := make(map[string]strID, n)
	var postings []*Set
	if d.postings != nil {
		postings = make([]*Set, 0, n)
	}
	for old, ok := range live {
		if !ok {
			continue
		}
		id := strID(len(strs))
		remap[old] = id
		strs = append(strs, d.strs[old])
		ids[d.strs[old]] = id
		if postings != nil {
			postings = append(postings, d.postings[old])
		}
	}
	d.strs, d.ids, d.postings = strs, ids, postings
	return remap
}
