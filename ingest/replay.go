// Package ingest turns audit-log bytes into audit events with positions:
// the replay reader (files, .gz files, directories of rotated logs, stdin).
//
// The replay reader is a pipeline: one reader goroutine reads each input in
// big chunks (cut after the last newline, or the last complete document),
// Workers goroutines decode chunks in parallel, and the goroutine that
// called Run puts the results back in input order and hands them on. Bad
// input never stops it: each problem is reported with file and line, and
// reading goes on with the next good line.
package ingest

import (
	"context"
	"errors"
	"io"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/kaudit/kaudit/audit"
)

// DefaultMaxLine is the longest line (or pretty-printed document) kept when
// Replay.MaxLine is 0: 16 MiB, well above the largest real audit events
// (RequestResponse bodies of big objects reach a few MiB), small enough
// that one bad line cannot exhaust memory. Longer lines are skipped without
// being held in memory, and reported as TooLong.
const DefaultMaxLine = 16 << 20

// ErrNoInput is returned by Run when no input at all could be read: every
// path was missing or unreadable, or a directory without audit files.
// (An empty or binary file was read: it is reported, not ErrNoInput.)
var ErrNoInput = errors.New("ingest: no input could be read")

// Position is where a source stands: the end of the last complete line
// handed on. It is what a positions file stores to resume reading.
type Position struct {
	Path       string
	Dev, Inode uint64 // file identity (0 for stdin)
	Offset     int64  // bytes of the (decompressed) stream through the end of the last complete line handed on
	Line       int64  // complete lines handed on
}

// Batch is a run of decoded events from one source, in input order.
//
// Events' strings and Raw may alias the chunk they were decoded from; the
// chunk is never modified or reused, so they stay valid as long as they
// are referenced.
type Batch struct {
	Events []audit.Event
	// Offsets[i] is where Events[i].Raw starts within Raw: reading
	// len(Events[i].Raw) bytes there gives Events[i].Raw again.
	Offsets []int64
	// Keys[i] is what Replay.Prepare worked out of Events[i] (zero if
	// nothing was); nil without Prepare.
	Keys []audit.Keys
	// Stubs are the events of the batch's lines that Replay.Skim ruled
	// out, in input order, each in its place among Events. A replay's
	// merge orders and counts them and hands on none; in input order
	// (Window < 0) emit gets them, to be ignored.
	Stubs []Stub
	// Raw reads the original bytes again. For a plain file it opens the
	// file again by path (checking it is the same file), through a small
	// cache of descriptors; a followed file stays open until the consumer
	// calls Raw's Release, if it has one. For stdin, pipes and .gz files
	// it is a *Spool holding the decompressed stream.
	Raw io.ReaderAt
	Pos Position // after the last line of this batch
	// Cluster is the managed cluster a cloud export's envelopes name
	// (GKE cluster_name, AKS resourceId, EKS log group) when they all
	// name the same one; "" for plain logs and exports naming several.
	Cluster string

	ref *chunkRef // the chunk buffer to give back once merged (Replay.hold)
}

// Stub is an event Replay.Skim ruled out: not decoded, only its place
// in time is kept (a merge orders, counts and may find it late), in 16
// bytes (12 on 32-bit platforms) where an Event takes hundreds.
type Stub struct {
	Time  int64 // its stageTimestamp (never zero), Unix ns
	After int32 // how many of the batch's Events come before it
}

// lastTime is the stage time of the batch's last line: its last event,
// or a stub after it (a batch may hold stubs only); zero for an empty
// batch.
func (b *Batch) lastTime() time.Time {
	if n := len(b.Stubs); n > 0 && int(b.Stubs[n-1].After) == len(b.Events) {
		return time.Unix(0, b.Stubs[n-1].Time).UTC()
	}
	if n := len(b.Events); n > 0 {
		return b.Events[n-1].StageTime
	}
	return time.Time{}
}

// Summary counts what a Run read.
type Summary struct {
	Files  int   // inputs opened and read (including empty and binary ones)
	Bytes  int64 // bytes of the streams read (decompressed for .gz)
	Lines  int64 // lines read, including blank, bad and skipped ones
	Events int64 // events handed to emit
	// Late counts events handed on after a newer one: older than the
	// reorder window allowed for (see DefaultWindow). None is dropped.
	Late     int64
	Problems [NumProblemKinds]int // problems reported, per kind
}

// TotalProblems is the number of problems of any kind.
func (s Summary) TotalProblems() int {
	n := 0
	for _, c := range s.Problems {
		n += c
	}
	return n
}

// Replay reads saved audit logs: files (plain or gzip, recognised by their
// magic bytes, not their name), directories (see ExpandPaths) and "-" for
// standard input. Each file is JSON lines (Events or EventLists, one per
// line), or, when its first non-blank line is exactly "{" or "[",
// pretty-printed JSON documents (a top-level array's elements are decoded
// one by one). A leading UTF-8 BOM is skipped; blank lines are skipped
// silently; CRLF line ends are fine; a last line without a newline counts.
//
// Goroutines: configure it, then call Run once; Run starts and ends its own
// goroutines.
type Replay struct {
	Paths     []string
	Stdin     io.Reader // read for "-"; nil means os.Stdin
	Workers   int       // decoding goroutines; 0 means runtime.GOMAXPROCS(0)
	MaxLine   int       // longest line kept; 0 means DefaultMaxLine
	OnProblem func(Problem)
	// Live: Stdin is a live stream (a remote follow): its first lines are
	// handed on as they come, not once 8 KiB were read.
	Live bool
	// Sources names the inputs (--source NAME=PATH): each is read by its
	// own reader and the events of all are merged by stageTimestamp. When
	// empty, each of Paths is a source named by InferSources.
	Sources []Named
	// Window is the reorder window of each source, in events; 0 means
	// DefaultWindow, a negative value reads in input order, unmerged.
	Window int
	// OnLate, if set, hears of each event handed on after a newer one
	// (beyond the window; see Summary.Late), from Run's goroutine.
	OnLate func(e *audit.Event)
	// Recycle says that emit keeps nothing of a Batch once it returned (no
	// Event, string or slice of it; Raw may be kept): Run then reuses the
	// chunk buffers and event slices of emitted chunks instead of
	// allocating fresh ones, which saves the page faults and clearing of
	// about the input's size in fresh memory. In-order reading (Window <
	// 0) recycles chunks; merging holds events in reorder windows, and
	// recycles only the batches it copies interleaved events into.
	Recycle bool
	// Skim, if set, sees each line (or document) before it is decoded:
	// stub true says it is one valid audit event with nothing to report
	// (audit.Skim) that nobody wants (a filter's raw pre-filter rules it
	// out). It is then not decoded, which costs a fraction of decoding
	// it, and handed on as a Stub of its batch with its StageTime
	// (a stub), so that merging, Late, OnLate and Summary count it as
	// before; emit never gets it as an Event. Other lines, and stubs
	// without a time, are decoded as ever.
	Skim func(doc []byte) (stageTime time.Time, stub bool)
	// Prepare, if set, is called by the decode worker with each chunk's
	// events once decoded, while they are still in that core's cache, to
	// work out their keys (store.Prepare); the batches carry them (Keys).
	// It must not change or keep the events.
	Prepare func(events []audit.Event, keys []audit.Keys)
	// Fields are the event fields the workers decode (audit.Fields); the
	// others are validated but left zero. 0 decodes them all.
	Fields audit.Fields

	chunk int // bytes per chunk; 0 means defaultChunk (tests make it tiny)
	// hold: emit (the merge) keeps batches after it returned and calls
	// release on each once it is done with it (see chunkRef).
	hold bool
	// released, if set (tests only), sees each chunk the merge gives back,
	// before a worker may reuse it.
	released func(*chunkRef)
}

// chunkRef is a chunk buffer shared by the batches decoded from it, while
// a merge holds them: the buffer is reused once every batch was released.
//
// Goroutines: created by the emitting goroutine before the batches are
// emitted; released by the merging goroutine only.
type chunkRef struct {
	whole  []byte
	arrays evArrays
	left   int // batches not released yet
	free   chan []byte
	freeEv chan evArrays
	seen   func(*chunkRef) // Replay.released
}

// release says one batch of the chunk is done with.
func (c *chunkRef) release() {
	if c.left--; c.left == 0 {
		if c.seen != nil {
			c.seen(c)
		}
		select {
		case c.free <- c.whole:
		default:
		}
		if c.arrays.events != nil {
			select {
			case c.freeEv <- c.arrays:
			default:
			}
		}
	}
}

// Run reads every source, each with its own reader, and calls emit with
// batches of at most MaxBatch events in stageTimestamp order, from the
// goroutine that called Run: a k-way merge of the sources, each sorted
// through a reorder window of Window events (events without a time keep
// their place). Every event's Source is set to its source's name (a name
// a decoder found, such as a cloud cluster, is kept unless the source was
// named explicitly). OnProblem is called from one goroutine at a time,
// for each source in its input order. With a negative Window, Run reads
// the inputs one after the other in input order (see runOne).
//
// Batches of one source hold that source's Raw; when several sources are
// merged, Raw is one reader over all of them (offsets name the part).
//
// Run returns when all input is read, with ErrNoInput when none could be;
// ctx.Err() when ctx is cancelled; or emit's error, which stops the run.
// A read blocked on Stdin cannot be interrupted: on cancellation Run
// returns at once and the reader goroutine ends when that read returns.
func (r *Replay) Run(ctx context.Context, emit func(Batch) error) (Summary, error) {
	if r.Window < 0 {
		return r.runOne(ctx, emit)
	}
	return r.runMerged(ctx, r.groups(), emit)
}

// runOne reads every input in order and calls emit with batches of at most
// MaxBatch events, in input order (files in the given or expanded order,
// lines in order), from the goroutine that called it. OnProblem is called
// from that goroutine too, in input order, before emit is called for the
// batch holding the events that follow the problem.
func (r *Replay) runOne(ctx context.Context, emit func(Batch) error) (Summary, error) {
	var sum Summary
	workers := r.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	maxLine := r.MaxLine
	if maxLine <= 0 {
		maxLine = DefaultMaxLine
	}
	chunk := r.chunk
	if chunk <= 0 {
		chunk = defaultChunk
	}
	stdin := r.Stdin
	if stdin == nil {
		stdin = os.Stdin
	}
	inputs := expand(r.Paths)
	usesStdin := false
	for _, in := range inputs {
		usesStdin = usesStdin || in.stdin
	}

	runCtx, cancel := context.WithCancel(ctx)
	// A few chunks in flight per worker keep the workers busy while the
	// emitter waits for the oldest one; more would only use memory.
	ordered := make(chan *job, 2*workers+2)
	work := make(chan *job, workers)
	rd := &reader{ctx: runCtx, ordered: ordered, work: work, chunk: chunk, maxLine: maxLine, stdin: stdin, live: r.Live}
	var freeEv chan evArrays
	if r.Recycle {
		// Every chunk in flight, plus one being filled and one emitted,
		// and those a merge's reorder window holds (hold: 4096 events of
		// ~1.2 KB are ten 512 KiB chunks; a buffer that finds the pool full
		// is dropped, and a fresh one faulted in).
		n := cap(ordered) + workers + 2
		if r.hold {
			n += 16
		}
		rd.free = make(chan []byte, n)
		freeEv = make(chan evArrays, n)
	}
	var wg sync.WaitGroup
	wg.Add(1 + workers)
	go func() {
		defer wg.Done()
		rd.run(inputs)
	}()
	for range workers {
		go func() {
			defer wg.Done()
			w := worker{maxLine: maxLine, skim: r.Skim, free: freeEv, prepare: r.Prepare, dec: audit.Decoder{Fields: r.Fields}}
			for j := range work {
				if runCtx.Err() == nil {
					w.decode(j)
				}
				close(j.done)
			}
		}()
	}

	err := r.emitAll(ctx, ordered, &sum, emit, rd.free, freeEv)
	cancel()
	if err != nil {
		if !usesStdin {
			wg.Wait() // no goroutine outlives Run
		}
		return sum, err
	}
	wg.Wait()
	if rd.fatal != nil {
		return sum, rd.fatal
	}
	if sum.Files == 0 {
		return sum, ErrNoInput
	}
	return sum, nil
}

// emitAll is the emitting loop: it takes jobs in input order, waits for
// each to be decoded, and hands on its problems and batches.
// With free set (Recycle), an emitted chunk's buffer is handed back, and
// its event arrays to freeEv.
func (r *Replay) emitAll(ctx context.Context, ordered <-chan *job, sum *Summary, emit func(Batch) error, free chan []byte, freeEv chan evArrays) error {
	var base int64 // newlines of the input's chunks so far that the reader did not count (job.rel)
	for {
		var j *job
		select {
		case j = <-ordered:
		case <-ctx.Done():
			return ctx.Err() // also when the reader is stuck in a read
		}
		if j == nil {
			return nil // the reader is done and everything was handed on
		}
		if j.done != nil {
			select {
			case <-j.done:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if j.rel {
			j.addLines(base)
			if j.done != nil {
				base += int64(j.nl)
			}
		}
		for _, p := range j.problems {
			sum.Problems[p.Kind] += p.Count()
			if r.OnProblem != nil {
				r.OnProblem(p)
			}
		}
		var ref *chunkRef
		if r.hold && free != nil && j.whole != nil && len(j.batches) > 0 {
			// The merge holds the batches in its windows: it gives the
			// buffer back once it handed on their last events.
			ref = &chunkRef{whole: j.whole, arrays: j.arrays, left: len(j.batches), free: free, freeEv: freeEv, seen: r.released}
			j.whole, j.arrays = nil, evArrays{}
		}
		for _, b := range j.batches {
			j.src.emitted = true
			sum.Events += int64(len(b.Events) + len(b.Stubs))
			b.ref = ref
			if err := emit(b); err != nil {
				return err
			}
		}
		if free != nil && j.whole != nil {
			select {
			case free <- j.whole:
			default:
			}
		}
		if freeEv != nil && j.arrays.events != nil && !r.hold {
			select {
			case freeEv <- j.arrays:
			default:
			}
		}
		if e := j.end; e != nil {
			if e.read {
				sum.Files++
			}
			sum.Bytes += e.bytes
			sum.Lines += e.lines
			base = 0
		}
	}
}
