package store

import "slices"

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
	str       [numStrCols]strCol
	code      []uint16
	stage     []uint8
	level     []uint8
	flags     []uint8
	auditID   [][16]byte // the UUID's bytes; see flagOddAuditID
	next      []uint32   // next stage of the same request, or noID
	raw       []rawRef
}

// eventBytes is what a chunk takes per event besides its string columns
// (53 bytes; see strCol.bytes for those, and BenchmarkAppend for the
// measured total).
const eventBytes = 8 + 4 + 2 + 1 + 1 + 1 + 16 + 4 + 16

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
	return c
}

// strCol is one string column of a chunk. It starts sparse, the events
// holding a value other than "" as (place, ID) pairs in place order, and
// turns dense (an ID per event) once more than an eighth of the chunk's
// events hold one: impersonation, the message and the path of
// non-resource requests are mostly empty, and cost 8 bytes per event that
// has one instead of 4 per event. (At a quarter, the subresource stayed
// sparse too, and its binary searches were 3% of a users view's CPU.)
type strCol struct {
	dense []strID // nil while sparse
	at    []uint32
	ids   []strID
}

// get returns the ID at place k.
func (c *strCol) get(k uint32) strID {
	if c.dense != nil {
		return c.dense[k]
	}
	if i, ok := slices.BinarySearch(c.at, k); ok {
		return c.ids[i]
	}
	return 0
}

// getRun copies the IDs at places k, k+1, ... into dst.
func (c *strCol) getRun(k uint32, dst []strID) {
	if c.dense != nil {
		copy(dst, c.dense[k:])
		return
	}
	clear(dst)
	end := k + uint32(len(dst))
	i, _ := slices.BinarySearch(c.at, k)
	for ; i < len(c.at) && c.at[i] < end; i++ {
		dst[c.at[i]-k] = c.ids[i]
	}
}

// set stores the ID at place k of a chunk of size events; places are set
// in increasing order, each once.
func (c *strCol) set(k uint32, id strID, size int) {
	switch {
	case c.dense != nil:
		c.dense[k] = id
	case id == 0:
	case len(c.at) < size/8:
		c.at, c.ids = append(c.at, k), append(c.ids, id)
	default:
		c.dense = make([]strID, size)
		for i, at := range c.at {
			c.dense[at] = c.ids[i]
		}
		c.at, c.ids = nil, nil
		c.dense[k] = id
	}
}

// setRun sets places k, k+1, ... to ids (see set).
func (c *strCol) setRun(k uint32, ids []strID, size int) {
	for i, id := range ids {
		if c.dense != nil {
			copy(c.dense[k+uint32(i):], ids[i:])
			return
		}
		c.set(k+uint32(i), id, size)
	}
}

func (c *strCol) bytes() int {
	return 4*cap(c.dense) + 4*cap(c.at) + 4*cap(c.ids)
}
