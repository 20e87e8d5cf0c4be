package store

// Matching a column through its dictionary: an event's string columns
// hold interned IDs, and audit logs repeat a few thousand names, paths and
// reasons across millions of events. So a test on the strings (free text,
// a glob on names) is made once per distinct value, and the events are
// then sorted by a table lookup on the ID, with no string touched.

// TextColumn is a string column without postings that free text searches.
type TextColumn uint8

// Columns for SelectMatching.
const (
	ColumnName   TextColumn = iota // objectRef.name
	ColumnPath                     // the path of a non-resource request
	ColumnReason                   // the authorization.k8s.io/reason annotation
)

var textColumns = [...]int{ColumnName: colName, ColumnPath: colPath, ColumnReason: colReason}

// SelectMatching returns the events of set whose value in one of cols
// satisfies match. match sees each distinct value of a column once (the
// empty string too), under the read lock, so it must not call back into
// the store. The lock is taken per window, as Select does.
func (s *Store) SelectMatching(set *Set, cols []TextColumn, match func(string) bool) *Set {
	if set.IsEmpty() || len(cols) == 0 {
		return &Set{}
	}
	m := make([]dictMatch, len(cols))
	for i, c := range cols {
		m[i].col = textColumns[c]
		s.needCol(m[i].col)
	}
	s.mu.RLock()
	none := true
	for i := range m {
		m[i].gen = s.compact.gen
		m[i].extend(&s.dicts[m[i].col], match)
		none = none && !m[i].any
	}
	n := s.n
	s.mu.RUnlock()
	if none && set.Maximum() < n {
		// No value matches, and every event of set was stored when the
		// values were read: its strings were among them.
		return &Set{}
	}
	return s.Select(set, func(r Row) bool {
		for i := range m {
			if m[i].gen != s.compact.gen {
				m[i].ok, m[i].gen = m[i].ok[:0], s.compact.gen // renumbered (compact.go)
			}
			v := r.c.str[m[i].col].get(r.k)
			if int(v) >= len(m[i].ok) {
				m[i].extend(&s.dicts[m[i].col], match) // a value newer than the walk
			}
			if m[i].ok[v] {
				return true
			}
		}
		return false
	})
}

// dictMatch is what match said of each value of one column, by ID.
type dictMatch struct {
	col int
	ok  []bool
	any bool   // some value matched
	gen uint64 // the key generation of ok's IDs (see KeyGen)
}

// extend decides the values added to d since the last call. The caller
// holds the read lock.
func (m *dictMatch) extend(d *dict, match func(string) bool) {
	for id := len(m.ok); id < len(d.strs); id++ {
		ok := match(d.strs[id])
		m.ok = append(m.ok, ok)
		m.any = m.any || ok
	}
}
