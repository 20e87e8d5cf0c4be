package store

// Events live in fixed-size chunks of columns. A chunk never moves or grows,
// so appending never copies what is stored, and retention can later drop
// whole chunks. A store's chunks hold 1<<bits events (ChunkEvents).
const (
	defaultChunkBits = 16 // 65536 events, about 8 MB
	minChunkBits     = 6
	maxChunkBits     = 24
)

// String-valued columns, each holding interned IDs.
const (
	colUser = iota
	colImpersonated
	colGroups // a group set: see Store.groupSets
	colImpersonatedGroups
	colVerb
	colAPIGroup
	colAPIVersion
	colResource
	colSubresource
	colNamespace
	colName
	colUserAgent
	colSourceIP
	colReason
	colMessage
	colPath // request path without query, for non-resource requests only
	colDecision
	colSource // where the event was read: host, file or cluster
	numStrCols
)

// Per-event flags.
const (
	flagDenied uint8 = 1 << iota
	flagLongRunning
	flagBadUTF8
	flagNoAuditID // never deduplicated or paired
	flagOddAuditID
	flagPhases
)

// noID ends a chain of stages.
const noID = ^uint32(0)

// rawRef locates an event's original bytes: len bytes at off in segment seg.
type rawRef struct {
	off int64
	seg uint32
	len uint32
}

// chunk is the column storage of one chunk's consecutive events; every
// column has the store's chunk size.
type chunk struct {
	stageTime []int64  // stageTimestamp, Unix nanoseconds; 0 when absent
	latency   []uint32 // microseconds, saturating at about 71 minutes
	str       [numStrCols][]strID
	code      []uint16
	stage     []uint8
	level     []uint8
	flags     []uint8
	auditID   [][16]byte // the UUID's bytes; see flagOddAuditID
	next      []uint32   // next stage of the same request, or noID
	raw       []rawRef
}

// eventBytes is what a chunk takes per event (121 bytes; see
// BenchmarkAppend for the measured total).
const eventBytes = 8 + 4 + numStrCols*4 + 2 + 1 + 1 + 1 + 16 + 4 + 16

func newChunk(size int) *chunk {
	c := &chunk{
		stageTime: make([]int64, size),
		latency:   make([]uint32, size),
		code:      make([]uint16, size),
		stage:     make([]uint8, size),
		level:     make([]uint8, size),
		flags:     make([]uint8, size),
		auditID:   make([][16]byte, size),
		next:      make([]uint32, size),
		raw:       make([]rawRef, size),
	}
	for col := range c.str {
		c.str[col] = make([]strID, size)
	}
	return c
}
