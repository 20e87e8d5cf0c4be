package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"time"
	"unsafe"

	"github.com/kaudit/kaudit/audit"
)

// MaxBatch is the most events a Batch holds.
const MaxBatch = 512

// minEventLine is fewer bytes than any audit event line takes: a chunk of
// n bytes is sized for at most n/minEventLine events at first (an EventList
// line holding more grows the slice).
const minEventLine = 128

// detailPerChunk is how many problems of one kind a chunk reports one by
// one; the rest are counted (the Reporter prints 10 per file and kind).
const detailPerChunk = DefaultReportLimit

// worker decodes chunks: it splits a chunk into lines (or takes the
// documents the reader found), decodes each with audit.Decode, and cuts the
// events into batches. It allocates per chunk, never per line: one event
// slice and one offset slice, which the batches share.
//
// Goroutines: each worker goroutine has its own.
type worker struct {
	maxLine int
	skim    func([]byte) (time.Time, bool) // Replay.Skim
	// free holds the event arrays of emitted chunks to reuse
	// (Replay.Recycle), or is nil: a chunk's events are about 40% of its
	// bytes in fresh memory, cleared, faulted in and scanned by the
	// collector otherwise.
	free    chan evArrays
	prepare func([]audit.Event, []audit.Keys) // Replay.Prepare
	dec     audit.Decoder                     // with Replay.Fields
}

// skimEvents is the room for events a chunk's arrays get at first with
// Replay.Skim: a filter's pre-filter lets few lines through.
const skimEvents = 64

// arenaShare: a chunk's arena is 1/arenaShare of its size. The strings
// with escapes are mostly RBAC reasons ("allowed by ClusterRoleBinding
// \"...\""), about an eighth of a Metadata event's bytes; those that do
// not fit are allocated.
const arenaShare = 4

// evArrays are the arrays a chunk's batches share: its events and their
// offsets.
type evArrays struct {
	events  []audit.Event
	offsets []int64
	arena   []byte       // the unescaped strings (audit.DecodeArena); nil without Recycle
	keys    []audit.Keys // Replay.Prepare's
	stubs   []Stub       // the lines Replay.Skim ruled out
}

// arrays returns empty event and offset slices with room for n: reused
// ones when there are; and with Recycle an arena of size bytes for the
// events' unescaped strings. Reused ones too small still serve: appends
// grow them, and the grown ones come back (a pool dropping them for a
// chunk one line longer allocated afresh half the time). With Skim, few
// lines are decoded: room for skimEvents at first.
func (w *worker) arrays(n, size int) evArrays {
	select {
	case a := <-w.free:
		return evArrays{a.events[:0], a.offsets[:0], a.arena[:0], a.keys[:0], a.stubs[:0]}
	default:
	}
	if w.skim != nil {
		n, size = min(n, skimEvents), min(size, skimEvents*1024/arenaShare)
	} else if w.free != nil {
		// An eighth more to reuse: the next chunk may hold a few more
		// lines, and an array too small for it grows by a copy (a pool
		// that dropped such arrays allocated 78 afresh for the 1,024
		// chunks of the 1 GiB log without the margin, 15 with it).
		n += n / 8
	}
	a := evArrays{events: make([]audit.Event, 0, n), offsets: make([]int64, 0, n)}
	if w.free != nil {
		a.arena = make([]byte, 0, size)
	}
	return a
}

func (w *worker) decode(j *job) {
	b := batcher{j: j, prev: Position{Path: j.src.path, Dev: j.src.dev, Inode: j.src.inode, Offset: j.off, Line: j.line}}
	defer func() {
		if w.prepare != nil {
			w.prepareKeys(j, &b)
		}
		j.arrays = b.evArrays
	}()
	if j.doc {
		b.evArrays = w.arrays(len(j.docs), len(j.buf)/arenaShare)
		for _, s := range j.docs {
			if s.end-s.start > w.maxLine {
				b.problem(s.line, TooLong, fmt.Sprintf("document too long: %d bytes (limit %d); skipped", s.end-s.start, w.maxLine))
				b.prev.Offset, b.prev.Line = j.off+int64(s.end), s.endLine
				continue
			}
			w.one(&b, j.buf[s.start:s.end], s.start, s.line, s.end, s.endLine)
		}
		b.finish(b.prev)
		return
	}
	// Size for the events the chunk can hold, not for its lines: a chunk
	// of blank or junk lines must not allocate an event per line.
	est := j.room()
	b.evArrays = w.arrays(est, len(j.buf)/arenaShare)
	buf, line := j.buf, j.line
	for start := 0; start < len(buf); {
		end, next := len(buf), len(buf)
		if i := bytes.IndexByte(buf[start:], '\n'); i >= 0 {
			end, next = start+i, start+i+1
		}
		line++
		text := buf[start:end]
		switch {
		case len(text) > w.maxLine:
			b.problem(line, TooLong, fmt.Sprintf("line too long: %d bytes (limit %d); skipped", len(text), w.maxLine))
		case blank(text):
		default:
			if text[len(text)-1] == '\r' {
				text = text[:len(text)-1]
			}
			w.one(&b, text, start, line, next, line)
		}
		b.prev.Offset, b.prev.Line = j.off+int64(next), line
		start = next
	}
	j.counted(line)
	b.finish(b.prev)
}

// prepareKeys works out the keys of the chunk's events (Replay.Prepare)
// and hands each batch its share: the batches cut the events in order.
func (w *worker) prepareKeys(j *job, b *batcher) {
	b.keys = slices.Grow(b.keys[:0], len(b.events))[:len(b.events)]
	w.prepare(b.events, b.keys)
	at := 0
	for i := range j.batches {
		n := len(j.batches[i].Events)
		j.batches[i].Keys = b.keys[at : at+n : at+n]
		at += n
	}
}

// one decodes one line or document: doc is buf[at:...], on line, and ends
// (with its newline) at buf[end:], on endLine.
func (w *worker) one(b *batcher, doc []byte, at int, line int64, end int, endLine int64) {
	n0 := len(b.events)
	if w.skim != nil {
		// A stub without a time is decoded: its key in a merge is the
		// previous event's, which only the merge knows (it is rare).
		if t, stub := w.skim(doc); stub && !t.IsZero() {
			w.stub(b, t, end, endLine)
			return
		}
	}
	var evs []audit.Event
	var err error
	if b.arena != nil {
		evs, err = w.dec.Decode(doc, b.events, &b.arena)
	} else {
		evs, err = w.dec.Decode(doc, b.events, nil)
	}
	b.events = evs
	bad := false
	var invalid string
	for k := n0; k < len(evs); k++ {
		b.offsets = append(b.offsets, b.j.off+int64(at+rawOffset(doc, evs[k].Raw)))
		bad = bad || evs[k].BadUTF8
		if invalid == "" {
			invalid = evs[k].Check()
		}
	}
	if err != nil {
		kind := decodeKind(err)
		legacy := kind == Malformed && legacyLine(doc)
		switch {
		case legacy:
			b.problem(line, Unrecognised, "legacy text audit format (--audit-log-format=legacy); kaudit reads the json format")
		case b.detailed[kind] >= detailPerChunk:
			b.problem(line, kind, "") // only counted: spare formatting the message
		default:
			_, msg := decodeProblem(err)
			b.problem(line, kind, msg)
		}
	}
	if bad {
		b.problem(line, BadUTF8, "invalid UTF-8 (replaced with U+FFFD); event kept")
	}
	if invalid != "" {
		b.problem(line, Invalid, invalid)
	}
	b.added(n0)
	if b.j.doc {
		b.prev.Offset, b.prev.Line = b.j.off+int64(end), endLine
	}
}

// stub hands on a line of one unwanted event that Skim found fine (see
// Replay.Skim), at time t: 16 bytes in Batch.Stubs, in its place among
// the events, instead of an Event.
func (w *worker) stub(b *batcher, t time.Time, end int, endLine int64) {
	b.stubs = append(b.stubs, Stub{Time: t.UnixNano(), After: int32(len(b.events) - b.start)})
	if b.j.doc {
		b.prev.Offset, b.prev.Line = b.j.off+int64(end), endLine
	}
}

// rawOffset is where raw starts within doc. Decode promises that Raw is a
// subslice of doc; compare addresses rather than capacities because a
// decoder may well hand out full slice expressions (doc[i:j:j]). If Raw
// is somewhere else, the offset of the whole document is the best we have.
func rawOffset(doc, raw []byte) int {
	if len(raw) == 0 || len(doc) == 0 {
		return 0
	}
	d := uintptr(unsafe.Pointer(unsafe.SliceData(raw))) - uintptr(unsafe.Pointer(unsafe.SliceData(doc)))
	if d > uintptr(len(doc)-len(raw)) { // also catches raw before doc (wraps around)
		if i := bytes.Index(doc, raw); i >= 0 {
			return i
		}
		return 0
	}
	return int(d)
}

// decodeKind is the problem kind of a Decode error.
func decodeKind(err error) ProblemKind {
	var ue *audit.UnrecognisedError
	if errors.As(err, &ue) {
		return Unrecognised
	}
	return Malformed
}

// decodeProblem turns a Decode error into a problem kind and message.
func decodeProblem(err error) (ProblemKind, string) {
	kind := decodeKind(err)
	var ie *audit.ItemError
	if errors.As(err, &ie) {
		return kind, "EventList " + err.Error() + "; the other items were kept"
	}
	return kind, err.Error()
}

// legacyLine recognises the pre-1.8 text format, `<RFC 3339 time> AUDIT:
// id="…" …`, so that the operator is told what the file is instead of
// being shown a JSON syntax error per line.
func legacyLine(p []byte) bool {
	sp := bytes.IndexByte(p, ' ')
	if sp < 20 || sp > 40 {
		return false
	}
	_, ok := audit.ParseTime(string(p[:sp]))
	return ok && bytes.HasPrefix(p[sp:], []byte(" AUDIT: "))
}

// blank reports whether a line holds only whitespace.
func blank(p []byte) bool {
	for _, c := range p {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

// batcher cuts a chunk's events into batches of at most MaxBatch, at line
// boundaries where it can, so that each batch's Pos is the end of a line
// whose events are all handed on.
//
// Goroutines: the worker decoding the chunk, for that chunk only.
type batcher struct {
	j *job
	evArrays
	start     int      // first event not yet in a batch
	stubStart int      // first stub not yet in a batch
	prev      Position // after the last line (or document) fully decoded

	detailed [NumProblemKinds]int   // problems of each kind recorded one by one
	summed   [NumProblemKinds]int   // 1 + index in j.problems of the kind's summing record, or 0
	lastLine [NumProblemKinds]int64 // the last line the summing record counts
}

// added is called after a line's events, events[n0:], were appended; prev
// is still the position before that line.
func (b *batcher) added(n0 int) {
	if len(b.events)-b.start <= MaxBatch {
		return
	}
	if n0 > b.start {
		b.flush(n0, b.prev)
	}
	// A line with more than MaxBatch events (a big EventList): all but the
	// last batch end before the line, as its remaining events are not yet
	// handed on.
	for len(b.events)-b.start > MaxBatch {
		b.flush(b.start+MaxBatch, b.prev)
	}
}

func (b *batcher) finish(pos Position) {
	if len(b.events) > b.start || len(b.stubs) > b.stubStart {
		b.flush(len(b.events), pos)
	}
	for k, i := range b.summed {
		if i > 0 {
			p := &b.j.problems[i-1]
			p.Msg = summingMsg(p, b.lastLine[k])
			if b.j.rel {
				p.through = b.lastLine[k] // the emitter adds the lines before (job.rel)
			}
		}
	}
}

func (b *batcher) flush(upto int, pos Position) {
	b.j.batches = append(b.j.batches, Batch{
		// Full slice expressions: a consumer appending to a batch must not
		// overwrite the next one.
		Events:  b.events[b.start:upto:upto],
		Offsets: b.offsets[b.start:upto:upto],
		// Every line skipped so far came before the lines of events
		// past upto: a batch is cut before a line's events.
		Stubs:   b.stubs[b.stubStart:len(b.stubs):len(b.stubs)],
		Raw:     b.j.src.raw,
		Cluster: b.j.src.cluster,
		Pos:     pos,
	})
	b.start, b.stubStart = upto, len(b.stubs)
}

// problem records a problem on line. Past detailPerChunk of one kind in
// the chunk, problems of that kind are only counted, in one summing record
// (Problem.More), so memory does not grow with the number of bad lines.
func (b *batcher) problem(line int64, kind ProblemKind, msg string) {
	if b.detailed[kind] < detailPerChunk {
		b.detailed[kind]++
		b.j.problems = append(b.j.problems, Problem{Path: b.j.src.path, Line: line, Kind: kind, Msg: msg})
		return
	}
	b.lastLine[kind] = line
	if i := b.summed[kind]; i > 0 {
		b.j.problems[i-1].More++
		return
	}
	b.j.problems = append(b.j.problems, Problem{Path: b.j.src.path, Line: line, Kind: kind})
	b.summed[kind] = len(b.j.problems)
}

// DecodeProblem turns an audit.Decode error into a problem kind and
// message, as the readers report it (the webhook receiver uses it too).
func DecodeProblem(err error) (ProblemKind, string) { return decodeProblem(err) }
