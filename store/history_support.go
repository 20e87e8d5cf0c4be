package store

import (
	"encoding/hex"

	"github.com/kaudit/kaudit/audit"
)

// ObjectRow is what one object's timeline (package history) needs of an
// event, read straight from the columns: no Entry, no group lists, so a
// walk over an object's 100k requests costs little more than the walk.
type ObjectRow struct {
	ID    ID
	Time  int64 // stageTimestamp, Unix nanoseconds; 0 when none
	Stage audit.Stage
	Level audit.Level
	Code  int32
	// Strings are the store's interned copies: they stay valid.
	Verb, Subject                                    string // Subject: the impersonated user, else the user
	APIGroup, Resource, Subresource, Namespace, Name string
	// AuditID is valid only during the callback (copy it to keep it):
	// a string each would be 100k allocations for a busy object.
	AuditID []byte
}

// ObjectRows calls fn for every event of set in ID order, under the read
// lock a window at a time like Each; fn is called without the lock.
// Returning false stops the walk.
func (s *Store) ObjectRows(set *Set, fn func(*ObjectRow) bool) {
	s.need(VerbCol | UserCol | ImpersonatedCol | APIGroupCol | ResourceCol | SubresourceCol | NamespaceCol | NameCol)
	ids := make([]uint32, walkWindow)
	rows := make([]ObjectRow, 0, walkWindow)
	var buf []byte
	it := set.ManyIterator()
	wk := s.startWalk()
	for n := it.NextMany(ids); n > 0; n = it.NextMany(ids) {
		var done bool
		rows, buf, done = s.objectRowsWindow(rows[:0], ids[:n], &wk, buf[:0])
		for i := range rows {
			if !fn(&rows[i]) {
				return
			}
		}
		if done {
			return
		}
		if betweenWindows != nil {
			betweenWindows()
		}
	}
}

func (s *Store) objectRowsWindow(dst []ObjectRow, ids []uint32, wk *walk, buf []byte) ([]ObjectRow, []byte, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ids, _ = wk.window(s, ids)
	for _, id := range ids {
		if id >= wk.limit {
			return dst, buf, true
		}
		if id < s.first {
			continue // dropped by retention
		}
		c, k := s.at(id), id&s.mask
		str := func(col int) string { return s.dicts[col].str(c.str[col].get(k)) }
		subject := str(colImpersonated)
		if subject == "" {
			subject = str(colUser)
		}
		start := len(buf)
		buf = s.appendAuditID(buf, c, k, id)
		dst = append(dst, ObjectRow{
			ID: id, Time: c.stageTime[k], Stage: audit.Stage(c.stage[k]), Level: audit.Level(c.level[k]),
			Code: int32(c.code[k]), Verb: str(colVerb), Subject: subject,
			APIGroup: str(colAPIGroup), Resource: str(colResource), Subresource: str(colSubresource),
			Namespace: str(colNamespace), Name: str(colName), AuditID: buf[start:len(buf):len(buf)],
		})
	}
	return dst, buf, false
}

// appendAuditID is Row.AppendAuditID without its string allocation.
func (s *Store) appendAuditID(dst []byte, c *chunk, k uint32, id ID) []byte {
	flags := c.flags[k]
	switch {
	case flags&flagNoAuditID != 0:
		return dst
	case flags&flagOddAuditID != 0:
		return append(dst, s.oddAuditIDs[id]...)
	}
	u := c.auditID[k]
	for i, part := range [][]byte{u[0:4], u[4:6], u[6:8], u[8:10], u[10:16]} {
		if i > 0 {
			dst = append(dst, '-')
		}
		dst = hex.AppendEncode(dst, part)
	}
	return dst
}
