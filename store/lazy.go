package store

// Postings built on first use (LazyPostings).
//
// A headless command that prints a table of every request (replay --view
// users with no filter) reads columns and the request set, never a
// postings list, and adding every event to 15 lists was about a sixth of
// the store's CPU per event. A lazy store appends without postings and
// builds them all from the columns the first time a reader asks for one
// (Postings, Values, PartitionValues and the filters over them); from then
// on Append keeps them up to date as usual. The lists are the same either
// way: they hold the IDs of the kept events with each value
// (TestLazyPostingsSame).
//
// Goroutines: the build runs on a reader holding the read lock, so the
// writer is not appending meanwhile; buildMu keeps a second reader from
// building too or reading half-built lists, and posted says once they are
// whole (an atomic, as readers look at it without buildMu).

// LazyPostings makes a store build its postings on first use instead of
// on Append: for a command that may never filter.
func LazyPostings() Option {
	return func(s *Store) { s.lazy = true }
}

// unpost drops the (empty) postings of a new lazy store.
func (s *Store) unpost() {
	for col := range s.dicts {
		s.dicts[col].postings = nil
	}
	s.groups.postings = nil
}

// ensurePostings builds the postings unless they are there. The caller
// holds the store's lock, read or write.
func (s *Store) ensurePostings() {
	if s.posted.Load() {
		return
	}
	s.buildMu.Lock()
	defer s.buildMu.Unlock()
	if s.posted.Load() {
		return
	}
	s.buildPostings()
	s.posted.Store(true)
}

// buildBlock is how many events buildPostings hands to postDicts and
// postOthers at a time: its scratch stays small (an ID and a string ID
// per column per event).
const buildBlock = 4096

// buildPostings adds every kept event to the postings, a block of events
// at a time, through the same code as Append (postDicts, postOthers).
func (s *Store) buildPostings() {
	for _, d := range s.indexedDicts() {
		d.postings = make([]*Set, len(d.strs))
		for i := range d.postings {
			d.postings[i] = &Set{}
		}
	}
	var b batch
	for lo := s.first; lo < s.n; {
		hi := min(s.n, lo+buildBlock, (lo|s.mask)+1) // within one chunk
		b.reset(int(hi - lo))
		c := s.at(lo)
		for i := range b.ids {
			b.ids[i] = lo + ID(i)
		}
		for col := range numStrCols {
			c.str[col].getRun(lo&s.mask, b.strs[col])
		}
		s.postDicts(&b)
		s.postOthers(&b)
		lo = hi
	}
}

// indexedDicts are the dictionaries with postings, the groups' included.
func (s *Store) indexedDicts() []*dict {
	ds := []*dict{&s.groups}
	for col := range s.dicts {
		if s.dicts[col].indexed {
			ds = append(ds, &s.dicts[col])
		}
	}
	return ds
}
