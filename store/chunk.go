package store

// Events live in fixed-size chunks of columns. A chunk never moves or grows,
// so appending never copies what is stored, and retention can later drop
// whole chunks.
const (
	chunkBits = 16
	chunkSize = 1 << chunkBits
	chunkMask = chunkSize - 1
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

// chunk is the column storage of chunkSize consecutive events.
// 121 bytes per event; see BenchmarkAppend for the measured total.
type chunk struct {
	stageTime [chunkSize]int64  // stageTimestamp, Unix nanoseconds; 0 when absent
	latency   [chunkSize]uint32 // microseconds, saturating at about 71 minutes
	str       [numStrCols][chunkSize]strID
	code      [chunkSize]uint16
	stage     [chunkSize]uint8
	level     [chunkSize]uint8
	flags     [chunkSize]uint8
	auditID   [chunkSize][16]byte // the UUID's bytes; see flagOddAuditID
	next      [chunkSize]uint32   // next stage of the same request, or noID
	raw       [chunkSize]rawRef
}
