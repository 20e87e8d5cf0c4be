package store

import (
	"github.com/RoaringBitmap/roaring/v2"

	"github.com/kaudit/kaudit/audit"
)

// Read-only helpers for filters: scans over columns that have no postings
// (name, auditID, latency, flags, time) and set operations over the
// distinct values of an indexed field. They take the read lock like every
// other reader.

// walkWindow is how many events of a set Select, Each and Times read under
// one hold of the read lock. A walk over millions of events takes the lock
// once per window, not once for the whole walk: a writer waiting for the
// lock (Append, Retain) gets it between two windows, and so do the readers
// queued behind that writer (sync.RWMutex lets no new reader in while a
// writer waits), so a long walk in a background goroutine never stalls the
// UI's View for more than one window. Each window sees the store as it is
// then: events retention drops between windows are skipped, and a set's
// IDs that were not yet appended when the walk began stay out of it.
const walkWindow = 1024

// LatencySaturated is the largest latency the store keeps, in microseconds
// (about 71 minutes): a Row with this latency took at least that long.
const LatencySaturated = ^uint32(0)

// Row is one stored event's columns, as Select shows them. It is valid only
// during the callback it was passed to.
type Row struct {
	s  *Store
	c  *chunk
	k  uint32
	id ID
}

// ID is the event's ID.
func (r Row) ID() ID { return r.id }

// Code is responseStatus.code, or 0 when it was absent or outside 0–65535.
func (r Row) Code() int32 { return int32(r.c.code[r.k]) }

// LatencyMicros is stageTimestamp − requestReceivedTimestamp truncated to
// whole microseconds, saturating at LatencySaturated.
func (r Row) LatencyMicros() uint32 { return r.c.latency[r.k] }

// StageTime is the stageTimestamp in Unix nanoseconds, 0 when absent.
func (r Row) StageTime() int64 { return r.c.stageTime[r.k] }

// Denied reports audit.Event.Denied of the event.
func (r Row) Denied() bool { return r.c.flags[r.k]&flagDenied != 0 }

// LongRunning reports audit.Event.LongRunning of the event.
func (r Row) LongRunning() bool { return r.c.flags[r.k]&flagLongRunning != 0 }

// Stage is the event's stage.
func (r Row) Stage() audit.Stage { return audit.Stage(r.c.stage[r.k]) }

// Level is the event's level.
func (r Row) Level() audit.Level { return audit.Level(r.c.level[r.k]) }

// Name is objectRef.name ("" when absent).
func (r Row) Name() string { return r.s.dicts[colName].str(r.NameKey()) }

// NameKey identifies Name cheaply: two rows have the same name exactly when
// their keys are equal, and Store.Key(name) returns it, within one key
// generation (KeyGen).
func (r Row) NameKey() uint32 {
	r.s.needCol(colName)
	return r.c.str[colName].get(r.k)
}

// Path is the request path of a non-resource request ("" otherwise).
func (r Row) Path() string { return r.s.dicts[colPath].str(r.PathKey()) }

// PathKey is Path's interned ID: equal keys, equal paths.
func (r Row) PathKey() uint32 {
	r.s.needCol(colPath)
	return r.c.str[colPath].get(r.k)
}

// Reason is the authorization.k8s.io/reason annotation.
func (r Row) Reason() string { return r.s.dicts[colReason].str(r.ReasonKey()) }

// ReasonKey is Reason's interned ID: equal keys, equal reasons.
func (r Row) ReasonKey() uint32 {
	r.s.needCol(colReason)
	return r.c.str[colReason].get(r.k)
}

// AppendAuditID appends the event's auditID ("" when it had none) to dst.
func (r Row) AppendAuditID(dst []byte) []byte {
	flags := r.c.flags[r.k]
	switch {
	case flags&flagNoAuditID != 0:
		return dst
	case flags&flagOddAuditID != 0:
		return append(dst, r.s.oddAuditIDs[r.id]...)
	}
	u := formatUUID(r.c.auditID[r.k])
	return append(dst, u...)
}

// Key returns the key that Row.NameKey has for rows whose name is v, and
// false when no stored string equals v.
func (s *Store) Key(v string) (uint32, bool) {
	s.needCol(colName)
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.dicts[colName].lookup(v)
}

// Select returns the events of set for which keep returns true. keep is
// called under the read lock, so it must not call back into the store.
// The lock is taken per window of walkWindow events (see walkWindow).
func (s *Store) Select(set *Set, keep func(Row) bool) *Set {
	out := roaring.New()
	buf := make([]uint32, walkWindow)
	kept := make([]uint32, 0, len(buf))
	it := set.ManyIterator()
	wk := s.startWalk()
	for n := it.NextMany(buf); n > 0; n = it.NextMany(buf) {
		kept = kept[:0]
		s.mu.RLock()
		ids, moved := wk.window(s, buf[:n])
		for _, id := range ids {
			if id >= s.n {
				break
			}
			if id < s.first {
				continue // dropped by retention
			}
			if keep(Row{s: s, c: s.chunks[id>>s.bits], k: id & s.mask, id: id}) {
				kept = append(kept, id)
			}
		}
		s.mu.RUnlock()
		if betweenWindows != nil {
			betweenWindows()
		}
		if moved > 0 { // a rebase between two windows: out follows it
			out = shiftSet(out, 0, moved)
		}
		out.AddMany(kept)
	}
	return out
}

// PartitionValues sorts the distinct values of field f into n classes:
// classify returns a class in [0, n), or -1 to leave the value out. The
// result holds, per class, the union of its values' postings. classify is
// called under the read lock and must not call back into the store.
func (s *Store) PartitionValues(f Field, n int, classify func(value string) int) []*Set {
	s.mu.RLock()
	defer s.mu.RUnlock()
	parts := make([][]*Set, n)
	s.eachValue(f, func(value string, p *Set) {
		if c := classify(value); c >= 0 && c < n {
			parts[c] = append(parts[c], p)
		}
	})
	out := make([]*Set, n)
	for c, ps := range parts {
		switch len(ps) {
		case 0:
			out[c] = roaring.New()
		case 1:
			out[c] = ps[0].Clone()
		default:
			out[c] = roaring.FastOr(ps...)
		}
	}
	return out
}

// WithAuditID returns every stored event whose auditID is id (each stage
// of that request).
func (s *Store) WithAuditID(id string) *Set {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := roaring.New()
	if id == "" {
		return out
	}
	var head ID
	var ok bool
	if u, isUUID := parseUUID(id); isUUID {
		head, ok = s.byAuditID.get(&u)
	} else {
		head, ok = s.byOddID[id]
	}
	if !ok {
		return out
	}
	for at := head; at != noID; at = s.at(at).next[at&s.mask] {
		out.Add(at)
	}
	return out
}
