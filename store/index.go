package store

import (
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/kaudit/kaudit/audit"
)

// The index half of Append: strings interned and postings added a column
// at a time for a whole batch, on a second goroutine beside place.
//
// Why the cut is here: an event's ID is known only once every earlier
// event was deduplicated (a duplicate takes no ID), and the time-ordered
// merge hands events on in an order no decoder knows, so IDs, dedup and
// stage pairing stay on the writer, one event after the other (place).
// Interning needs no ID: a string's dictionary ID depends only on the
// strings interned before it, so the batch's strings are interned at the
// same time as place runs (a duplicate's strings are interned too and
// simply get no postings; a value without events is what retention leaves
// as well, and Values skips it). Postings need the IDs, so they are added
// once place is done, each list by one goroutine only: the dictionaries'
// lists on the second goroutine, the others (groups, codes, stages,
// levels) and the string columns on the writer. Everything happens under
// the write lock, and Append joins both goroutines before it returns.

// parallelMin is the smallest batch whose halves run on two goroutines:
// for fewer events, starting a goroutine costs more than it saves (a
// followed log's batches are often a few events).
const parallelMin = 64

// batch is Append's scratch, kept between batches: each event's interned
// strings by column (a column's pass touches one dictionary) and its ID
// (noID for a duplicate).
type batch struct {
	strs  [numStrCols][]strID
	ids   []ID
	uuids [internBlock]uuidOf // placeAll's scratch
	// sinks take what touch (0) and placeAll's reads ahead (1) load, so
	// that they are not optimised away; one goroutine writes each.
	sinks [2]uint64
}

// uuidOf is what placeAll works out of an event ahead of place (or reads
// from its keys, see keys.go): its auditID parsed (see parseUUID), the
// flags that depend on the event alone (flagDenied, flagLongRunning,
// flagBadUTF8) and its fixed-width fields.
type uuidOf struct {
	u         [16]byte
	ok        bool
	noAuditID bool
	phases    bool
	flags     uint8
	stage     uint8
	level     uint8
	code      uint16
	latency   uint32
	rawLen    uint32
	stageTime int64
	tag       uint32 // hashUUID(&u), if ok: worked out by placeAll
}

// fromEvent works out u from e.
func (u *uuidOf) fromEvent(e *audit.Event) {
	u.u, u.ok = parseUUID(e.AuditID)
	u.flags, u.noAuditID, u.phases = eventFlags(e), e.AuditID == "", len(e.Phases) > 0
	u.stage, u.level, u.code = uint8(e.Stage), uint8(e.Level), clampCode(e.Code)
	u.latency, u.rawLen, u.stageTime = micros(e.Latency()), uint32(len(e.Raw)), unixNano(e)
}

func (b *batch) reset(n int) *batch {
	if cap(b.ids) < n || cap(b.ids) > 4*max(n, 4096) {
		b.ids = make([]ID, n)
		for col := range b.strs {
			b.strs[col] = make([]strID, n)
		}
	}
	b.ids = b.ids[:n]
	for col := range b.strs {
		b.strs[col] = b.strs[col][:n]
	}
	return b
}

// fork runs a on a goroutine of its own and b on this one, and returns when
// both are done; for a batch of fewer than parallelMin events, or one
// processor, it runs them one after the other.
func fork(n int, a, b func()) {
	if n < parallelMin || runtime.GOMAXPROCS(0) < 2 {
		a()
		b()
		return
	}
	var wg sync.WaitGroup
	wg.Go(a)
	b()
	wg.Wait()
}

// colValue reads the string columns from an event (the group lists are
// interned otherwise).
var colValue = [numStrCols]func(e *audit.Event) string{
	colUser:         func(e *audit.Event) string { return e.User.Name },
	colImpersonated: func(e *audit.Event) string { return e.Impersonated.Name },
	colPath:         requestPath,
	colVerb:         func(e *audit.Event) string { return e.Verb },
	colAPIGroup:     func(e *audit.Event) string { return e.Object.APIGroup },
	colAPIVersion:   func(e *audit.Event) string { return e.Object.APIVersion },
	colResource:     func(e *audit.Event) string { return e.Object.Resource },
	colSubresource:  func(e *audit.Event) string { return e.Object.Subresource },
	colNamespace:    func(e *audit.Event) string { return e.Object.Namespace },
	colName:         func(e *audit.Event) string { return e.Object.Name },
	colUserAgent:    func(e *audit.Event) string { return e.UserAgent },
	colSourceIP:     func(e *audit.Event) string { return e.SourceIP },
	colReason:       func(e *audit.Event) string { return e.Reason },
	colMessage:      func(e *audit.Event) string { return e.Message },
	colDecision:     func(e *audit.Event) string { return e.Decision },
	colSource:       func(e *audit.Event) string { return e.Source },
}

// internBlock is how many events internAll interns a column at a time:
// their strings are views into the lines they were read from, and 64
// lines (about 77 KB) stay in the core's cache from one column's pass to
// the next, which a whole batch (512 lines) does not.
const internBlock = 64

// internAll fills b.strs with the dictionary IDs of the events' strings,
// a block of events at a time (internBlock), a column at a time within it
// (a column's pass touches one dictionary).
func (s *Store) internAll(events []audit.Event, keys []audit.Keys, b *batch) {
	if keys != nil {
		s.internKeyed(events, keys, b)
		return
	}
	for lo := 0; lo < len(events); lo += internBlock {
		hi := min(lo+internBlock, len(events))
		b.sinks[0] ^= uint64(touch(events[lo:hi]))
		for col := range numStrCols {
			if s.kept(col) { // a dropped column's b.strs stay 0 (project.go)
				s.internCol(col, events[lo:hi], b.strs[col][lo:hi])
			}
		}
	}
}

// internCol interns column col of events into ids. Consecutive events
// often repeat a value (the decision, the API version, the source, an
// empty impersonation), so the previous event's value is compared first:
// equal strings need no hashing.
func (s *Store) internCol(col int, events []audit.Event, ids []strID) {
	switch col {
	case colGroups, colImpersonatedGroups:
		var last []string
		lastID := strID(0)
		for i := range events {
			g := events[i].User.Groups
			if col == colImpersonatedGroups {
				g = events[i].Impersonated.Groups
			}
			if !slices.Equal(g, last) {
				last, lastID = g, s.internGroups(g)
			}
			ids[i] = lastID
		}
	default:
		d, value := &s.dicts[col], colValue[col]
		last, lastID := "", strID(0)
		for i := range events {
			var v string
			if col == colPath {
				v = requestPath(&events[i])
			} else {
				v = value(&events[i])
			}
			if v != last {
				last, lastID = v, d.intern(v)
			}
			ids[i] = lastID
		}
	}
}

// placeAll places the events (see place) in blocks of internBlock, each
// block's auditIDs parsed first and their dedup slots read: those loads
// depend on nothing but the event, so they overlap (see touch), where
// place's own wait one after the other. (Prefetching the next block's
// slots instead, in assembly, measured no better.)
func (s *Store) placeAll(events []audit.Event, keys []audit.Keys, offsets []int64, seg uint32, b *batch) {
	for lo := 0; lo < len(events); lo += internBlock {
		hi := min(lo+internBlock, len(events))
		us := b.uuids[:hi-lo]
		var x uint64
		for i := range us {
			u := &us[i]
			if keys != nil && keys[lo+i][kMeta]&keyValid != 0 {
				u.fromKeys(&keys[lo+i])
			} else {
				u.fromEvent(&events[lo+i])
			}
			if u.ok {
				u.tag = hashUUID(&u.u)
				x ^= s.byAuditID.slots[s.byAuditID.home(u.tag)]
			}
		}
		b.sinks[1] ^= x
		for i := lo; i < hi; i++ {
			b.ids[i] = s.place(&events[i], rawRef{off: offsets[i], seg: seg, len: us[i-lo].rawLen}, &us[i-lo])
		}
	}
}

// touch reads the first byte of each string the block's events will be
// interned by: the lines were decoded on another core and are far away by
// now, and loads that depend on nothing but the event overlap (dozens in
// flight), where interning's own loads wait one after the other behind a
// hash and a map probe.
func touch(events []audit.Event) uint8 {
	var x uint8
	first := func(s string) {
		if len(s) > 0 {
			x ^= s[0]
		}
	}
	for i := range events {
		e := &events[i]
		first(e.User.Name)
		first(e.Verb)
		first(e.Object.Resource)
		first(e.Object.Namespace)
		first(e.Object.Name)
		first(e.UserAgent)
		first(e.SourceIP)
		first(e.Reason)
		first(e.Object.APIGroup)
		first(e.Object.APIVersion)
		first(e.Object.Subresource)
		first(e.Decision)
		first(e.Message)
		first(e.Impersonated.Name)
		first(e.RequestURI)
		if len(e.User.Groups) > 0 {
			first(e.User.Groups[0])
		}
	}
	return x
}

// requestPath is the path column: the request path without its query, for
// non-resource requests only.
func requestPath(e *audit.Event) string {
	if e.Object.Resource != "" {
		return ""
	}
	path, _, _ := strings.Cut(e.RequestURI, "?")
	return path
}

// internGroups interns a list of groups as one value (most events share a
// few group lists), and each group of a list seen for the first time.
func (s *Store) internGroups(groups []string) strID {
	if len(groups) == 0 {
		return 0
	}
	s.joinBuf = joinGroups(s.joinBuf[:0], groups)
	set := s.groupSets.internBytes(s.joinBuf)
	if int(set) == len(s.setMembers) {
		members := make([]strID, len(groups))
		for i, g := range groups {
			members[i] = s.groups.intern(g)
		}
		s.setMembers = append(s.setMembers, members)
	}
	return set
}

// joinGroups appends the groups to dst, NUL between: a group list's key
// in groupSets.
func joinGroups(dst []byte, groups []string) []byte {
	for i, g := range groups {
		if i > 0 {
			dst = append(dst, 0)
		}
		dst = append(dst, g...)
	}
	return dst
}

// indexAll writes the string columns of the events place stored (IDs from
// from on) and adds them to the postings.
func (s *Store) indexAll(events []audit.Event, b *batch, from ID) {
	if s.n == from {
		return // all duplicates
	}
	if !s.posted.Load() {
		s.writeStrCols(b) // postings are built when first asked for (lazy.go)
		return
	}
	fork(len(events), func() { s.postDicts(b) }, func() {
		s.writeStrCols(b)
		s.postOthers(b)
	})
}

// writeStrCols copies b's string IDs into the chunks, a run of events
// with consecutive IDs in one chunk at a time (a batch without duplicates
// is one run, or two across a chunk's end).
func (s *Store) writeStrCols(b *batch) {
	type span struct {
		c    *chunk
		k    uint32
		i, j int // b's events [i, j)
	}
	var spans []span
	for i := 0; i < len(b.ids); {
		id := b.ids[i]
		if id == noID {
			i++
			continue
		}
		j := i + 1
		for j < len(b.ids) && b.ids[j] == id+ID(j-i) && b.ids[j]&s.mask != 0 {
			j++
		}
		spans = append(spans, span{c: s.at(id), k: id & s.mask, i: i, j: j})
		i = j
	}
	size := s.chunkEvents()
	for col := range numStrCols {
		if !s.kept(col) {
			continue // all "": nothing stored (project.go)
		}
		for _, sp := range spans {
			sp.c.str[col].setRun(sp.k, b.strs[col][sp.i:sp.j], size)
		}
	}
}

// postDicts adds the batch to the postings of the indexed string columns.
func (s *Store) postDicts(b *batch) {
	var r run
	for col := range s.dicts {
		d := &s.dicts[col]
		if d.postings == nil {
			continue
		}
		strs := b.strs[col]
		for i, id := range b.ids {
			if id != noID {
				r.add(d.postings[strs[i]], id)
			}
		}
		r.flush()
	}
}

// postOthers adds the batch to the postings kept outside the dictionaries:
// each group of the user's groups, codes, stages and levels.
func (s *Store) postOthers(b *batch) {
	var groups, codes, stages, levels run
	set, setLo := strID(0), ID(0) // a run of events with the same group list
	flushSet := func(hi ID) {
		for _, g := range s.setMembers[set] {
			groups.set, groups.lo, groups.hi = s.groups.postings[g], setLo, hi
			groups.flush()
		}
	}
	lastCode, codeSet := -1, (*Set)(nil)
	sets := b.strs[colGroups]
	prev := noID
	for i, id := range b.ids {
		if id == noID {
			continue
		}
		if sets[i] != set || id != prev+1 {
			flushSet(prev + 1)
			set, setLo = sets[i], id
		}
		prev = id
		c, k := s.at(id), id&s.mask
		if code := int(c.code[k]); code != lastCode {
			lastCode, codeSet = code, s.codes[c.code[k]]
			if codeSet == nil {
				codeSet = &Set{}
				s.codes[c.code[k]] = codeSet
			}
		}
		codes.add(codeSet, id)
		stages.add(s.stages[c.stage[k]&7], id)
		levels.add(s.levels[c.level[k]&7], id)
	}
	flushSet(prev + 1)
	codes.flush()
	stages.flush()
	levels.flush()
}

// run gathers consecutive IDs going to the same postings list, so that a
// value most events share (a source, an empty subresource, a decision)
// costs one AddMany per run instead of one Add, with its container
// lookup, per event. (Not AddRange: roaring makes a run container of a
// range and copies it on every later range added.)
type run struct {
	set    *Set
	lo, hi ID
	seq    []uint32 // scratch for AddMany
}

func (r *run) add(set *Set, id ID) {
	if set == r.set && id == r.hi {
		r.hi++
		return
	}
	r.flush()
	r.set, r.lo, r.hi = set, id, id+1
}

func (r *run) flush() {
	switch {
	case r.set == nil:
	case r.hi-r.lo == 1:
		r.set.Add(r.lo)
	default:
		r.seq = r.seq[:0]
		for id := r.lo; id < r.hi; id++ {
			r.seq = append(r.seq, id)
		}
		r.set.AddMany(r.seq)
	}
	r.set = nil
}
