package store

import (
	"strconv"
	"time"

	"github.com/kaudit/kaudit/audit"
)

// Entry is a stored event as tables and filters see it. Its strings and
// slices are shared with the store: do not modify them.
type Entry struct {
	ID           ID
	AuditID      string
	Stage        audit.Stage
	Level        audit.Level
	Verb         string
	User         audit.UserInfo
	Impersonated audit.UserInfo
	SourceIP     string
	UserAgent    string
	Object       audit.ObjectRef
	Path         string // request path (no query) of a non-resource request
	Code         int32
	Decision     string
	Reason       string
	Message      string
	Time         time.Time     // stageTimestamp; zero when the event had none
	Latency      time.Duration // stageTimestamp − requestReceivedTimestamp
	LongRunning  bool
	Denied       bool
	BadUTF8      bool
	Phases       []audit.Phase // apiserver.latency.k8s.io/* annotations, by name
	Source       string        // where the event was read: host, file or cluster
}

// Subject is who the request acted as: the impersonated user when there is
// one, else the authenticated user.
func (e *Entry) Subject() audit.UserInfo {
	if e.Impersonated.Name != "" {
		return e.Impersonated
	}
	return e.User
}

// Len is the number of events appended: every ID is below it. Retention
// may have dropped the oldest; Stats().Events counts those kept.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return int(s.n)
}

// Entry returns event id, which must be below Len.
func (s *Store) Entry(id ID) Entry {
	s.need(AllColumns) // an Entry has every column (project.go)
	s.mu.RLock()
	defer s.mu.RUnlock()
	var e Entry
	if id >= s.n {
		return Entry{ID: id} // a stale ID (see rebase.go)
	}
	s.fill(&e, id)
	return e
}

// Each calls fn for every event of set in ID order; returning false stops
// the walk. The Entry is valid only during the call (copy it to keep it).
// Entries are read under the read lock a window at a time (see
// walkWindow) and fn is called without it, so fn may call the store.
func (s *Store) Each(set *Set, fn func(*Entry) bool) {
	s.EachColumns(set, AllColumns, fn)
}

// EachColumns is Each for a reader of the string columns cols only: it
// panics if the store dropped one of them (OnlyColumns). The entries have
// every column the store keeps; the dropped ones are "" (nil groups).
func (s *Store) EachColumns(set *Set, cols Columns, fn func(*Entry) bool) {
	s.need(cols)
	w := int(min(walkWindow, set.GetCardinality()))
	if w == 0 {
		return
	}
	ids := make([]uint32, w)
	entries := make([]Entry, 0, w)
	it := set.ManyIterator()
	wk := s.startWalk() // IDs appended after the walk began stay out
	for n := it.NextMany(ids); n > 0; n = it.NextMany(ids) {
		var done bool
		entries, done = s.fillWindow(entries[:0], ids[:n], &wk)
		for i := range entries {
			if !fn(&entries[i]) {
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

// fillWindow appends the entries of ids (below the walk's limit, not
// dropped) to dst under one hold of the read lock, and reports whether
// the walk reached its limit.
func (s *Store) fillWindow(dst []Entry, ids []uint32, wk *walk) ([]Entry, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ids, _ = wk.window(s, ids)
	for _, id := range ids {
		if id >= wk.limit {
			return dst, true
		}
		if id < s.first {
			continue // dropped by retention
		}
		dst = append(dst, Entry{})
		s.fill(&dst[len(dst)-1], id)
	}
	return dst, false
}

func (s *Store) fill(e *Entry, id ID) {
	c, k := s.at(id), id&s.mask
	str := func(col int) string { return s.dicts[col].str(c.str[col].get(k)) }
	flags := c.flags[k]
	*e = Entry{
		ID:           id,
		Stage:        audit.Stage(c.stage[k]),
		Level:        audit.Level(c.level[k]),
		Verb:         str(colVerb),
		User:         audit.UserInfo{Name: str(colUser), Groups: s.groupList(c.str[colGroups].get(k))},
		Impersonated: audit.UserInfo{Name: str(colImpersonated), Groups: s.groupList(c.str[colImpersonatedGroups].get(k))},
		SourceIP:     str(colSourceIP),
		UserAgent:    str(colUserAgent),
		Source:       str(colSource),
		Object: audit.ObjectRef{
			APIGroup:    str(colAPIGroup),
			APIVersion:  str(colAPIVersion),
			Resource:    str(colResource),
			Subresource: str(colSubresource),
			Namespace:   str(colNamespace),
			Name:        str(colName),
		},
		Path:        str(colPath),
		Code:        int32(c.code[k]),
		Decision:    str(colDecision),
		Reason:      str(colReason),
		Message:     str(colMessage),
		Latency:     time.Duration(c.latency[k]) * time.Microsecond,
		LongRunning: flags&flagLongRunning != 0,
		Denied:      flags&flagDenied != 0,
		BadUTF8:     flags&flagBadUTF8 != 0,
	}
	if ns := c.stageTime[k]; ns != 0 {
		e.Time = time.Unix(0, ns).UTC()
	}
	switch {
	case flags&flagNoAuditID != 0:
	case flags&flagOddAuditID != 0:
		e.AuditID = s.oddAuditIDs[id]
	default:
		e.AuditID = formatUUID(c.auditID[k])
	}
	if flags&flagPhases != 0 {
		e.Phases = s.phases[id]
	}
}

func (s *Store) groupList(set strID) []string {
	members := s.setMembers[set]
	if len(members) == 0 {
		return nil
	}
	out := make([]string, len(members))
	for i, g := range members {
		out[i] = s.groups.str(g)
	}
	return out
}

// Stages returns every stored event of id's request (id included), in the
// order they were appended.
func (s *Store) Stages(id ID) []ID {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if id >= s.n {
		return nil // a stale ID (see rebase.go)
	}
	c, k := s.at(id), id&s.mask
	var head ID
	var ok bool
	switch {
	case id < s.first:
		return nil // dropped by retention
	case c.flags[k]&flagNoAuditID != 0:
		return []ID{id}
	case c.flags[k]&flagOddAuditID != 0:
		head, ok = s.byOddID[s.oddAuditIDs[id]]
	default:
		head, ok = s.byAuditID.get(&c.auditID[k])
	}
	if !ok {
		return []ID{id}
	}
	var ids []ID
	for at := head; at != noID; at = s.at(at).next[at&s.mask] {
		ids = append(ids, at)
	}
	return ids
}

// All returns the set of every stored event.
func (s *Store) All() *Set {
	s.mu.RLock()
	defer s.mu.RUnlock()
	all := &Set{}
	all.AddRange(uint64(s.first), uint64(s.n))
	return all
}

// Requests returns one event per request: its ResponseComplete or Panic
// event, else the latest stage seen. Tables count these.
func (s *Store) Requests() *Set {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.requests.Clone()
}

// Postings returns the events whose field f equals value (a copy; empty when
// none do). Codes are written in decimal ("403"; "" for none), stages and
// levels by name.
func (s *Store) Postings(f Field, value string) *Set {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if p := s.postings(f, value); p != nil {
		return p.Clone()
	}
	return &Set{}
}

func (s *Store) postings(f Field, value string) *Set {
	s.need(FieldColumns(f))
	s.ensurePostings()
	switch f {
	case FieldGroup:
		if id, ok := s.groups.lookup(value); ok {
			return s.groups.postings[id]
		}
	case FieldCode:
		code := 0
		if value != "" {
			var err error
			if code, err = strconv.Atoi(value); err != nil || code < 0 || code > 65535 {
				return nil
			}
		}
		return s.codes[uint16(code)]
	case FieldStage:
		if st := audit.ParseStage(value); st != audit.StageUnknown || value == "" {
			return s.stages[st]
		}
	case FieldLevel:
		if l := audit.ParseLevel(value); l != audit.LevelUnknown || value == "" {
			return s.levels[l]
		}
	default:
		if f < numFields {
			d := &s.dicts[fieldCol[f]]
			if id, ok := d.lookup(value); ok {
				return d.postings[id]
			}
		}
	}
	return nil
}

// Values returns the distinct values of field f held by at least one event,
// in no particular order.
func (s *Store) Values(f Field) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []string
	s.eachValue(f, func(v string, _ *Set) { out = append(out, v) })
	return out
}

// eachValue calls fn with every value of field f that some event holds, and
// its postings. The caller holds the lock.
func (s *Store) eachValue(f Field, fn func(value string, p *Set)) {
	s.need(FieldColumns(f))
	s.ensurePostings()
	each := func(d *dict) {
		for id, p := range d.postings {
			if !p.IsEmpty() {
				fn(d.strs[id], p)
			}
		}
	}
	switch f {
	case FieldGroup:
		each(&s.groups)
	case FieldCode:
		for code, p := range s.codes {
			if !p.IsEmpty() {
				fn(codeText(code), p)
			}
		}
	case FieldStage:
		for st, p := range s.stages {
			if !p.IsEmpty() {
				fn(audit.Stage(st).String(), p)
			}
		}
	case FieldLevel:
		for l, p := range s.levels {
			if !p.IsEmpty() {
				fn(audit.Level(l).String(), p)
			}
		}
	default:
		if f < numFields {
			each(&s.dicts[fieldCol[f]])
		}
	}
}

func codeText(code uint16) string {
	if code == 0 {
		return ""
	}
	return strconv.Itoa(int(code))
}

// Stats describes the store's contents and memory.
type Stats struct {
	Events     int
	Requests   int
	Duplicates int // events not stored because they were already there
	Evicted    int // events dropped by retention (Retain)
	Strings    int // distinct interned strings
	IndexBytes int // estimated memory of columns, postings and maps
}

// Stats returns the store's current figures.
func (s *Store) Stats() Stats {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.statsLocked()
}

func (s *Store) statsLocked() Stats {
	// Another reader may be building the postings (lazy.go).
	s.buildMu.Lock()
	defer s.buildMu.Unlock()
	st := Stats{
		Evicted:    s.evicted,
		Events:     int(s.n - s.first),
		Requests:   int(s.requests.GetCardinality()),
		Duplicates: s.duplicates,
	}
	st.IndexBytes = s.chunkBytes() + int(s.requests.GetSizeInBytes()) + s.groups.bytes() + s.groupSets.bytes()
	for col := range s.dicts {
		st.Strings += len(s.dicts[col].strs)
		st.IndexBytes += s.dicts[col].bytes()
	}
	for _, p := range s.codes {
		st.IndexBytes += int(p.GetSizeInBytes()) + 48
	}
	for i := range s.stages {
		st.IndexBytes += int(s.stages[i].GetSizeInBytes() + s.levels[i].GetSizeInBytes())
	}
	st.IndexBytes += s.byAuditID.bytes() + len(s.byOddID)*64 + len(s.oddAuditIDs)*64 + len(s.phases)*96
	return st
}

// First is the lowest ID still stored (retention drops the oldest events);
// with Len it bounds the IDs a reader may ask for.
func (s *Store) First() ID {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.first
}

// Kept is the number of events stored now (appended, less those retention
// dropped): Stats().Events without the memory estimate.
func (s *Store) Kept() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return int(s.n - s.first)
}

// Evicted is the number of events retention dropped (see Retain).
func (s *Store) Evicted() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.evicted
}
