package store

import "time"

// TimeSpan is the span of the stageTimestamps ever appended (retention does
// not narrow it), in nanoseconds: it only grows while events are appended,
// which is what lets the UI's sparkline slots only ever widen.
func (s *Store) TimeSpan() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.maxTime - s.minTime
}

// TimeRange is the oldest and newest stageTimestamp of the kept events
// (zero times when none has one), whatever order they were appended in.
// After retention dropped events, the newest may be one of those dropped.
func (s *Store) TimeRange() (from, to time.Time) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	lo := s.minTime
	if s.first > 0 {
		lo = s.keptMin
	}
	if lo == 0 || s.maxTime == 0 {
		return time.Time{}, time.Time{}
	}
	return time.Unix(0, lo).UTC(), time.Unix(0, s.maxTime).UTC()
}

// Times calls fn with the stageTimestamp (Unix nanoseconds; 0 when the
// event has none) and the denied and 5xx marks of every event of set,
// under the read lock a window at a time (see walkWindow): fn must not
// call back into the store. The terminal UI folds new requests into its
// sparkline with it.
func (s *Store) Times(set *Set, fn func(t int64, denied, serverError bool)) {
	buf := make([]uint32, walkWindow)
	it := set.ManyIterator()
	wk := s.startWalk()
	for n := it.NextMany(buf); n > 0; n = it.NextMany(buf) {
		s.timesWindow(buf[:n], &wk, fn)
		if betweenWindows != nil {
			betweenWindows()
		}
	}
}

func (s *Store) timesWindow(ids []uint32, wk *walk, fn func(t int64, denied, serverError bool)) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ids, _ = wk.window(s, ids)
	for _, id := range ids {
		if id >= s.n {
			break
		}
		if id < s.first {
			continue // dropped by retention
		}
		c, k := s.at(id), id&s.mask
		code := c.code[k]
		fn(c.stageTime[k], c.flags[k]&flagDenied != 0, code >= 500 && code < 600)
	}
}

// Source is where event id was read (host, file or cluster; "" when
// unnamed or dropped): what jq's source helper returns.
func (s *Store) Source(id ID) string {
	s.needCol(colSource)
	s.mu.RLock()
	defer s.mu.RUnlock()
	if id < s.first || id >= s.n {
		return "" // dropped, or a stale ID (see rebase.go)
	}
	return s.dicts[colSource].str(s.at(id).str[colSource].get(id & s.mask))
}
