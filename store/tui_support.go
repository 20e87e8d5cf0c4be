package store

// Histogram counts the events of set per time bucket: buckets equal spans
// of [from, to) (Unix nanoseconds, stageTimestamp). Events outside the span
// or without a time are left out. denied and errors count, per bucket, the
// refused requests and the 5xx ones. It reads the time, code and flag
// columns directly — a few nanoseconds an event — so the terminal UI can
// redraw its request-rate sparkline for a million events on every update.
func (s *Store) Histogram(set *Set, from, to int64, buckets int) (counts, denied, errors []int) {
	counts, denied, errors = make([]int, buckets), make([]int, buckets), make([]int, buckets)
	if buckets <= 0 || to <= from {
		return counts, denied, errors
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	span := float64(to - from)
	it := set.Iterator()
	for it.HasNext() {
		id := it.Next()
		if id >= s.n {
			break
		}
		if id < s.first {
			continue // dropped by retention
		}
		c, k := s.at(id), id&chunkMask
		t := c.stageTime[k]
		if t < from || t >= to {
			continue
		}
		b := min(int(float64(t-from)/span*float64(buckets)), buckets-1)
		counts[b]++
		if c.flags[k]&flagDenied != 0 {
			denied[b]++
		}
		if code := c.code[k]; code >= 500 && code < 600 {
			errors[b]++
		}
	}
	return counts, denied, errors
}

// TimeSpan is the span of the stageTimestamps ever appended (retention does
// not narrow it), in nanoseconds: it only grows while events are appended,
// which is what lets the UI's sparkline slots only ever widen.
func (s *Store) TimeSpan() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.maxTime - s.minTime
}

// Times calls fn with the stageTimestamp (Unix nanoseconds; 0 when the
// event has none) and the denied and 5xx marks of every event of set,
// under the read lock: fn must not call back into the store. The terminal
// UI folds new requests into its sparkline with it.
func (s *Store) Times(set *Set, fn func(t int64, denied, serverError bool)) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	it := set.Iterator()
	for it.HasNext() {
		id := it.Next()
		if id >= s.n {
			break
		}
		if id < s.first {
			continue // dropped by retention
		}
		c, k := s.at(id), id&chunkMask
		code := c.code[k]
		fn(c.stageTime[k], c.flags[k]&flagDenied != 0, code >= 500 && code < 600)
	}
}
