package store

import (
	"fmt"
	"testing"
)

// TestObjectRows: every row ObjectRows gives matches the Entry of the
// same event, across chunks and windows, for plain, odd and missing
// auditIDs.
func TestObjectRows(t *testing.T) {
	var lines []string
	n := testChunk + walkWindow + 10
	for i := range n {
		id := fmt.Sprintf("%08x-0000-4000-8000-00000000abcd", i)
		switch i % 50 {
		case 3:
			id = fmt.Sprintf("odd-%d", i)
		case 4:
			id = ""
		}
		lines = append(lines, event(id, "ResponseComplete", fmt.Sprintf("user%d", i%7), "update", "leases", "ns", 200+i%2, t0, t1))
	}
	evs, offs, raw := decodeLines(t, lines...)
	s := newTestStore()
	s.Append(evs, raw, offs)
	seen := 0
	s.ObjectRows(s.All(), func(r *ObjectRow) bool {
		e := s.Entry(r.ID)
		if string(r.AuditID) != e.AuditID || r.Subject != e.Subject().Name || r.Verb != e.Verb || r.Code != e.Code ||
			r.Resource != e.Object.Resource || r.Namespace != e.Object.Namespace || r.Level != e.Level || r.Stage != e.Stage ||
			r.Time != e.Time.UnixNano() {
			t.Fatalf("row %d: %+v\nentry %+v", r.ID, r, e)
		}
		seen++
		return true
	})
	if seen != s.Len() {
		t.Errorf("%d rows for %d events", seen, s.Len())
	}
}
