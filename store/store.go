// Package store is kaudit's in-memory index of audit events: append-only
// column chunks with interned strings, dense uint32 IDs in input order,
// postings per field, deduplication on (auditID, stage, stageTimestamp) and
// pairing of a request's stages.
package store

import (
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/kaudit/kaudit/audit"
)

// ID is an event's place in the store: dense, starting at 0, in the order
// events were appended.
type ID = uint32

// Set is a set of event IDs (a compressed bitmap).
type Set = roaring.Bitmap

// Store holds indexed audit events.
//
// One writer goroutine calls Append (and Retain); any number of readers
// may call the other methods at the same time (a RWMutex orders them).
// Append does its work on two goroutines (see index.go) but holds the
// write lock until both are done, so readers see whole batches only.
type Store struct {
	mu sync.RWMutex

	n      uint32
	chunks []*chunk
	bits   uint32 // a chunk holds 1<<bits events
	mask   ID     // 1<<bits - 1: an ID's place in its chunk

	dicts      [numStrCols]dict
	groups     dict      // group names, with postings (FieldGroup)
	groupSets  dict      // group lists joined with NUL: most events share a few
	setMembers [][]strID // by groupSets ID: the groups in it
	joinBuf    []byte

	batch batch // Append's scratch (see index.go)

	// Postings built on first use (see lazy.go): lazy is the option,
	// posted says they are kept (always, without lazy), buildMu guards
	// their build by a reader.
	lazy    bool
	posted  atomic.Bool
	buildMu sync.Mutex

	// Postings of the fields that are small integers.
	codes  map[uint16]*Set
	stages [8]*Set
	levels [8]*Set

	requests *Set // one event per request: the one tables count

	byAuditID   heads         // first event of each request with a UUID auditID
	byOddID     map[string]ID // the same for auditIDs that are not UUIDs
	oddAuditIDs map[ID]string
	phases      map[ID][]audit.Phase

	segs     []io.ReaderAt
	segIndex map[io.ReaderAt]uint32
	segRefs  []int // by segment: stored events whose bytes it holds

	readersMu sync.Mutex
	readers   []*RawReader // released, for reuse (see AcquireRawReader)

	duplicates int

	// Retention (see Retain): events below first were dropped; their
	// chunks point at gone.
	first   ID
	evicted int
	gone    *chunk
	sizedAt int // len(chunks) when Retain last estimated the memory

	minTime, maxTime int64 // of the stageTimestamps appended (0: none yet)
	keptMin          int64 // the oldest kept once retention dropped some (see TimeRange)

	compact compactState // dictionary compaction after retention (compact.go)
	ids     idState      // ID rebasing after retention (rebase.go)
	keys    keyState     // the decode workers' snapshot of the dictionaries (keys.go)
	proj    projection   // the string columns kept (project.go)
}

// Option configures a Store.
type Option func(*Store)

// ChunkEvents sets how many events a chunk holds: n rounded up to a power
// of two between 64 and 16M; 65536 by default. Retention drops whole
// chunks, so its bounds hold to within one chunk; tests use small chunks
// to exercise many of them cheaply.
func ChunkEvents(n int) Option {
	return func(s *Store) {
		b := uint32(minChunkBits)
		for b < maxChunkBits && 1<<b < n {
			b++
		}
		s.bits, s.mask = b, 1<<b-1
	}
}

func (s *Store) chunkEvents() int { return 1 << s.bits }

// ExpectEvents says about n events are coming (a replay knows its input's
// size): the deduplication index is allocated for them at once instead of
// growing to it. A wrong n costs memory or growth, never an event.
func ExpectEvents(n int) Option {
	return func(s *Store) { s.byAuditID.reserve(n) }
}

// New returns an empty store.
func New(opts ...Option) *Store {
	s := &Store{
		bits:        defaultChunkBits,
		mask:        1<<defaultChunkBits - 1,
		groups:      newDict(true),
		groupSets:   newDict(false),
		setMembers:  [][]strID{nil},
		codes:       map[uint16]*Set{},
		requests:    roaring.New(),
		byOddID:     map[string]ID{},
		oddAuditIDs: map[ID]string{},
		phases:      map[ID][]audit.Phase{},
		segIndex:    map[io.ReaderAt]uint32{},
	}
	s.byAuditID = newHeads(func(id ID) *[16]byte { return &s.at(id).auditID[id&s.mask] })
	for col := range s.dicts {
		s.dicts[col] = newDict(indexedCol(col))
	}
	for i := range s.stages {
		s.stages[i], s.levels[i] = &Set{}, &Set{}
	}
	s.setProjection(AllColumns)
	for _, o := range opts {
		o(s)
	}
	for col := range s.dicts {
		if !s.kept(col) { // no postings to keep or build (project.go)
			s.dicts[col].indexed, s.dicts[col].postings = false, nil
		}
	}
	s.posted.Store(!s.lazy)
	if s.lazy {
		s.unpost()
	}
	return s
}

// AppendResult says what Append did with a batch.
type AppendResult struct {
	Added      int // new events stored
	Duplicates int // events already stored (same auditID, stage and stageTimestamp)
	// Refused counts the events not stored because the IDs ran out: only
	// a store that retention never let rebase gets there (see rebase.go).
	Refused int
}

// Append stores events in order. raw is where their original bytes can be
// read again: event i's are len(events[i].Raw) bytes at offsets[i]. raw must
// be comparable (a pointer such as *os.File) and stay readable for as long
// as the store is used.
//
// A batch is stored in two halves (see index.go): place deduplicates,
// pairs stages and assigns IDs one event after the other, while a second
// goroutine interns the batch's strings; then the string columns and the
// postings are written, again on two goroutines. Append holds the write
// lock from start to end and returns only after both goroutines are done,
// so a reader sees all of a batch or none of it.
func (s *Store) Append(events []audit.Event, raw io.ReaderAt, offsets []int64) AppendResult {
	return s.AppendKeys(events, nil, raw, offsets)
}

// AppendKeys is Append with the events' keys, keys[i] for events[i], as
// this store's Prepare worked them out (see keys.go), or nil. It stores
// the same as Append.
func (s *Store) AppendKeys(events []audit.Event, keys []audit.Keys, raw io.ReaderAt, offsets []int64) AppendResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	var res AppendResult
	if room := s.room(); len(events) > room { // see rebase.go
		res.Refused = len(events) - room
		s.ids.refused += res.Refused
		events, offsets = events[:room], offsets[:room]
		if keys != nil {
			keys = keys[:room]
		}
		if room == 0 {
			return res
		}
	}
	seg := s.segment(raw)
	b := s.batch.reset(len(events))
	from := s.n
	fork(len(events), func() { s.internAll(events, keys, b) }, func() { s.placeAll(events, keys, offsets, seg, b) })
	s.indexAll(events, b, from)
	res.Added = int(s.n - from)
	res.Duplicates = len(events) - res.Added
	s.duplicates += res.Duplicates
	s.refreshKeys(false)
	return res
}

func (s *Store) segment(raw io.ReaderAt) uint32 {
	if seg, ok := s.segIndex[raw]; ok {
		return seg
	}
	seg := uint32(len(s.segs))
	s.segs = append(s.segs, raw)
	s.segRefs = append(s.segRefs, 0)
	s.segIndex[raw] = seg
	return seg
}

// place stores one event's fixed-width columns unless it is a duplicate,
// pairs it with the earlier stages of its request, and returns its ID (noID
// for a duplicate). It is the half of Append that must see every earlier
// event, this batch's included, in order: IDs are dense, so a duplicate
// moves every later event's ID, and the dedup and pairing index (heads,
// byOddID, the chains) is read and written here only.
func (s *Store) place(e *audit.Event, ref rawRef, pre *uuidOf) ID {
	id := s.n
	uuid, isUUID := &pre.u, pre.ok
	stageTime := pre.stageTime

	// Pair with earlier stages of the same request, or find it is a duplicate.
	var head ID
	var paired bool
	switch {
	case pre.noAuditID:
	case isUUID:
		head, paired = s.byAuditID.getTag(uuid, pre.tag)
	default:
		head, paired = s.byOddID[e.AuditID]
	}
	if paired {
		for at := head; at != noID; at = s.at(at).next[at&s.mask] {
			c, k := s.at(at), at&s.mask
			if c.stage[k] == pre.stage && c.stageTime[k] == stageTime {
				return noID
			}
		}
	}

	if id&s.mask == 0 {
		s.chunks = append(s.chunks, newChunk(s.chunkEvents()))
	}
	c, k := s.chunks[id>>s.bits], id&s.mask
	s.n++

	c.stageTime[k] = stageTime
	if stageTime != 0 {
		if s.minTime == 0 || stageTime < s.minTime {
			s.minTime = stageTime
		}
		s.maxTime = max(s.maxTime, stageTime)
		if s.first > 0 && (s.keptMin == 0 || stageTime < s.keptMin) {
			s.keptMin = stageTime
		}
	}
	c.latency[k] = pre.latency
	c.code[k] = pre.code
	c.stage[k] = pre.stage
	c.level[k] = pre.level
	c.next[k] = noID
	c.raw[k] = ref
	s.segRefs[ref.seg]++

	flags := pre.flags
	switch {
	case pre.noAuditID:
		flags |= flagNoAuditID
	case isUUID:
		c.auditID[k] = *uuid
	default:
		flags |= flagOddAuditID
		s.oddAuditIDs[id] = strings.Clone(e.AuditID)
	}
	if pre.phases {
		flags |= flagPhases
		s.phases[id] = clonePhases(e.Phases)
	}
	c.flags[k] = flags

	switch {
	case !paired && isUUID:
		s.byAuditID.addTag(pre.tag, id)
		s.requests.Add(id)
	case !paired && flags&flagOddAuditID != 0:
		s.byOddID[s.oddAuditIDs[id]] = id
		s.requests.Add(id)
	case !paired:
		s.requests.Add(id)
	default:
		s.link(head, id)
	}
	return id
}

// eventFlags are the flags of e that depend on e alone.
func eventFlags(e *audit.Event) uint8 {
	var flags uint8
	if e.Denied() {
		flags |= flagDenied
	}
	if e.LongRunning() {
		flags |= flagLongRunning
	}
	if e.BadUTF8 {
		flags |= flagBadUTF8
	}
	return flags
}

// link appends id to the chain of stages starting at head and makes it the
// request's representative if it is the better one: a final stage
// (ResponseComplete or Panic) beats any other, otherwise the later stage wins.
func (s *Store) link(head, id ID) {
	last, rep := head, head
	for at := head; at != noID; at = s.at(at).next[at&s.mask] {
		last = at
		if s.requests.Contains(at) {
			rep = at
		}
	}
	s.at(last).next[last&s.mask] = id
	if stageRank(s.stageOf(id)) >= stageRank(s.stageOf(rep)) {
		s.requests.Remove(rep)
		s.requests.Add(id)
	}
}

func stageRank(st audit.Stage) int {
	if st.Final() {
		return 10
	}
	return int(st)
}

func (s *Store) at(id ID) *chunk           { return s.chunks[id>>s.bits] }
func (s *Store) stageOf(id ID) audit.Stage { return audit.Stage(s.at(id).stage[id&s.mask]) }

func unixNano(e *audit.Event) int64 {
	if e.StageTime.IsZero() {
		return 0
	}
	return e.StageTime.UnixNano()
}

func micros(d time.Duration) uint32 {
	us := d.Microseconds()
	if us > int64(^uint32(0)) {
		return ^uint32(0)
	}
	return uint32(us)
}

func clampCode(c int32) uint16 {
	if c < 0 || c > 65535 {
		return 0
	}
	return uint16(c)
}

func clonePhases(ps []audit.Phase) []audit.Phase {
	out := make([]audit.Phase, len(ps))
	for i, p := range ps {
		out[i] = audit.Phase{Name: strings.Clone(p.Name), Duration: p.Duration}
	}
	return out
}
