package store

import (
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/kaudit/kaudit/audit"
)

// Work done ahead, on the decode workers (Prepare, then AppendKeys).
//
// Why: the writer reads every string and fixed field of every event, and
// by the time it does, the event and its line were decoded on another
// core a while ago. Measured on the 1 GiB log, the store's CPU per event
// was about three times what the same work takes on bytes still in cache
// (scripts/stagecost: store against store-warm). So the decode worker
// that has just decoded a chunk works out, per event, what does not
// depend on the events before it: each string's dictionary ID, looked up
// in a snapshot of the dictionaries, the auditID parsed, the flags and
// the fixed-width fields, into an audit.Keys (a parallel slice). The
// writer reads those 128 bytes in order instead of the event.
//
// What stays on the writer: IDs, deduplication and stage pairing (place),
// which need every earlier event; the values the snapshot did not hold
// (new ones, and the source, which the reader names after decoding),
// interned as before; and all writes.
//
// Correctness: a worker only reads an immutable snapshot (keySnap) that
// the writer publishes. IDs never change between compactions, so an ID
// from a snapshot of the current key generation is the one the writer's
// dictionary has. A compaction (compact.go) renumbers: it publishes a new
// snapshot with the new generation, and the writer ignores the string
// IDs of keys made with another one (it interns those events' strings
// from the events, as if no keys came). Rebasing event IDs (rebase.go)
// touches no string ID. An event without keys (copied by the merge,
// filtered, or from a source without Prepare) is stored as before, so
// Append and AppendKeys store the same (TestAppendKeysSame).

// Where Keys holds what (in uint32 words); the first numStrCols are the
// string columns' IDs.
const (
	kUUID = numStrCols      // 4 words: the auditID's 16 bytes (keyUUID)
	kMeta = numStrCols + 4  // keyValid | keyUUID | keyNoAuditID | keyPhases | eventFlags<<8
	kGen  = numStrCols + 5  // the key generation of the string IDs
	kTime = numStrCols + 6  // 2 words: stageTime, Unix ns
	kLat  = numStrCols + 8  // latency, µs (micros)
	kCode = numStrCols + 9  // code | stage<<16 | level<<24
	kRaw  = numStrCols + 10 // len(Raw)
	kEnd  = numStrCols + 11
)

var _ [len(audit.Keys{}) - kEnd]struct{} // Keys has room for all

// keyUnknown is a string ID the worker did not find.
const keyUnknown = ^uint32(0)

const (
	keyValid uint32 = 1 << iota
	keyUUID
	keyNoAuditID
	keyPhases
)

// keySnap is what workers look values up in: per string column (but
// the source and the two group columns) the dictionary's IDs, and the
// group lists' IDs by their NUL-joined names, as they were at the
// writer's last refresh.
type keySnap struct {
	gen     uint64
	ids     [numStrCols]map[string]strID
	strs    [numStrCols][]string // the dictionaries' strings by ID, as ids holds them
	sets    map[string]strID
	setStrs []string
	sizes   [numStrCols + 1]int // the dictionaries' sizes when copied (groupSets last)
}

// keyState is the Store's part of the above.
type keyState struct {
	snap   atomic.Pointer[keySnap]
	wanted atomic.Bool // Prepare was called: keep snap up to date
	caches sync.Pool   // *prepCache (prepcache.go)
}

// Prepare works out keys[i] for events[i] (see above; len(keys) must be at
// least len(events)). Any goroutine may call it, beside Append.
func (s *Store) Prepare(events []audit.Event, keys []audit.Keys) {
	snap := s.keys.snap.Load()
	if snap == nil {
		s.keys.wanted.Store(true) // the next Append publishes one
		for i := range events {
			prepareFixed(&events[i], &keys[i])
			for col := range numStrCols {
				keys[i][col] = keyUnknown
			}
		}
		return
	}
	c := s.keys.cache(snap)
	defer s.keys.caches.Put(c)
	c.prepare(snap, &s.proj, events, keys)
}

// prepareFixed fills in what place needs of e but its strings: what
// fromEvent works out, in the words fromKeys reads back.
func prepareFixed(e *audit.Event, k *audit.Keys) {
	var u uuidOf
	u.fromEvent(e)
	meta := keyValid | uint32(u.flags)<<8
	if u.ok {
		*keyUUIDOf(k) = u.u
		meta |= keyUUID
	}
	if u.noAuditID {
		meta |= keyNoAuditID
	}
	if u.phases {
		meta |= keyPhases
	}
	k[kMeta] = meta
	k[kTime], k[kTime+1] = uint32(u.stageTime), uint32(uint64(u.stageTime)>>32)
	k[kLat] = u.latency
	k[kCode] = uint32(u.code) | uint32(u.stage)<<16 | uint32(u.level)<<24
	k[kRaw] = u.rawLen
}

func keyUUIDOf(k *audit.Keys) *[16]byte { return (*[16]byte)(unsafe.Pointer(&k[kUUID])) }

// internKeyed takes the events' string IDs from their keys where they
// are known and of the current key generation (see keys.go), and interns
// the others as internCol does. An event at a time: its keys are one
// 128-byte run.
func (s *Store) internKeyed(events []audit.Event, keys []audit.Keys, b *batch) {
	gen := uint32(s.compact.gen)
	sourceKept := s.kept(colSource)
	var c lastValues
	for i := range keys {
		k := &keys[i]
		// Only the kept columns (project.go): a dropped one's b.strs stay 0.
		if valid, stale := k[kMeta]&keyValid != 0, k[kGen] != gen; valid && !stale {
			for _, col := range s.proj.intern { // the common case: only unknown values to intern
				id := k[col]
				if id == keyUnknown {
					id = s.internOne(col, &events[i], &c)
				}
				b.strs[col][i] = id
			}
		} else {
			for _, col := range s.proj.intern {
				id := k[col]
				if !valid || id == keyUnknown || stale && id != 0 {
					id = s.internOne(col, &events[i], &c)
				}
				b.strs[col][i] = id
			}
		}
		if !sourceKept {
			continue
		}
		// The source is named after decoding (no key), and mostly one value.
		if v := events[i].Source; v != c.strs[colSource] {
			c.strs[colSource], c.ids[colSource] = v, s.dicts[colSource].intern(v)
		}
		b.strs[colSource][i] = c.ids[colSource]
	}
}

// The source is the last string column (internKeyed).
var _ [numStrCols - 1 - colSource]struct{}

// lastValues are the last value interned per column, as internCol keeps
// one: valid within one Append only (strings may be views into buffers
// reused after it).
type lastValues struct {
	strs   [numStrCols]string
	ids    [numStrCols]strID
	groups [2][]string // colGroups, colImpersonatedGroups
	sets   [2]strID
}

// internOne interns column col of e.
func (s *Store) internOne(col int, e *audit.Event, c *lastValues) strID {
	switch col {
	case colGroups, colImpersonatedGroups:
		j, g := col-colGroups, e.User.Groups
		if col == colImpersonatedGroups {
			g = e.Impersonated.Groups
		}
		if !slices.Equal(g, c.groups[j]) {
			c.groups[j], c.sets[j] = g, s.internGroups(g)
		}
		return c.sets[j]
	}
	if v := colValue[col](e); v != c.strs[col] {
		c.strs[col], c.ids[col] = v, s.dicts[col].intern(v)
	}
	return c.ids[col]
}

// fromKeys reads the fixed part of valid keys.
func (u *uuidOf) fromKeys(k *audit.Keys) {
	meta := k[kMeta]
	u.ok = meta&keyUUID != 0
	if u.ok {
		u.u = *keyUUIDOf(k)
	}
	u.flags = uint8(meta >> 8)
	u.noAuditID = meta&keyNoAuditID != 0
	u.phases = meta&keyPhases != 0
	u.stageTime = int64(uint64(k[kTime]) | uint64(k[kTime+1])<<32)
	u.latency = k[kLat]
	u.code = uint16(k[kCode])
	u.stage, u.level = uint8(k[kCode]>>16), uint8(k[kCode]>>24)
	u.rawLen = k[kRaw]
}

// maxSnapshot bounds the dictionaries copied for the workers: the
// snapshot's memory (a map entry per value) stays bounded, whatever the
// cardinality of a column (object names in a long watch); a larger
// dictionary's values are all interned by the writer.
const maxSnapshot = 1 << 20

// refreshKeys publishes a new snapshot for the workers if a dictionary
// grew by a sixteenth (and at least one value) since the last one, or if
// force (after a compaction: the old one has the old IDs). Copying a
// dictionary's map on each sixteenth's growth costs O(16) per new value,
// amortised. A small dictionary is copied on every new value: with a
// floor of 16 new values, a column of a few dozen (reasons, users,
// resources) could miss a value seen early for the whole replay, and the
// writer interned it for every event that had it (a tenth of the events'
// columns on the 1 GiB benchmark log). Only the writer calls it, under
// the write lock.
func (s *Store) refreshKeys(force bool) {
	if !s.keys.wanted.Load() {
		return
	}
	old := s.keys.snap.Load()
	grown := func(n, was int) bool { return force || old == nil || n-was >= max(1, was/16) }
	next := keySnap{gen: s.compact.gen}
	if old != nil {
		next = *old
		next.gen = s.compact.gen
	}
	changed := force || old == nil
	for col := range s.dicts {
		if col == colSource || col == colGroups || col == colImpersonatedGroups {
			continue
		}
		d := &s.dicts[col]
		switch {
		case len(d.strs) > maxSnapshot:
			changed = changed || next.ids[col] != nil
			next.ids[col], next.strs[col], next.sizes[col] = nil, nil, len(d.strs)
		case grown(len(d.strs), next.sizes[col]):
			// d.strs only grows (a compaction replaces it): its first
			// values stay as they are for the workers to read.
			next.ids[col], next.strs[col], next.sizes[col] = maps.Clone(d.ids), d.strs[:len(d.strs):len(d.strs)], len(d.strs)
			changed = true
		}
	}
	if grown(len(s.groupSets.strs), next.sizes[numStrCols]) {
		g := &s.groupSets
		next.sets, next.setStrs, next.sizes[numStrCols] = maps.Clone(g.ids), g.strs[:len(g.strs):len(g.strs)], len(g.strs)
		changed = true
	}
	if changed {
		s.keys.snap.Store(&next)
	}
}
