package ingest

import (
	"context"
	"io"
	"math"
	"runtime"
	"sync"
	"time"

	"github.com/kaudit/kaudit/audit"
)

// DefaultWindow is the reorder window of one input when Replay.Window is
// 0: how many events are held back and sorted by stageTimestamp before the
// oldest is handed on. The API server writes an event when its stage ends,
// so requests that overlap come out of order by their durations: a few
// hundred events at thousands of requests per second with sub-second
// requests. 4096 events cover several seconds of a busy server; an event
// later than that (a request running for minutes that is not a watch) is
// still handed on, out of order, and counted in Summary.Late.
const DefaultWindow = 4096

// stream is one source being merged: its own Replay runs in a goroutine
// and hands its batches over ch; win is its reorder window.
//
// Goroutines: ch is written by the source's goroutine; everything else
// belongs to the merging goroutine (Run's).
type stream struct {
	name     string
	explicit bool // named with --source: the name wins over a decoder's cluster
	ch       chan Batch
	ended    bool
	cur      *inBatch // the batch being put in the window, from next on
	next     int
	nextStub int // and from its Stubs[nextStub] on
	win      window
	lastKey  int64 // key of the last event pushed: events without a time keep their place
	sum      Summary
	err      error

	raw  any   // the Raw whose part in the merger's multiRaw is base
	base int64 // offset of that part in the multiRaw
}

// runMerged reads each group with its own Replay (its own reader and
// workers) and merges their events by stageTimestamp, each group through
// its reorder window, into batches for emit (see Run).
func (r *Replay) runMerged(ctx context.Context, groups []Named, emit func(Batch) error) (Summary, error) {
	window := r.Window
	if window <= 0 {
		window = DefaultWindow
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex // OnProblem is called from one goroutine at a time
	onProblem := func(p Problem) {
		if r.OnProblem != nil {
			mu.Lock()
			r.OnProblem(p)
			mu.Unlock()
		}
	}
	// The cores are shared out among the sources: each still decodes in
	// parallel with the others, and fewer chunks are in flight.
	workers := r.Workers
	if workers <= 0 {
		workers = max(1, runtime.GOMAXPROCS(0)/len(groups))
	}
	streams := make([]*stream, len(groups))
	var wg sync.WaitGroup
	for i, g := range groups {
		s := &stream{name: g.Name, explicit: g.Explicit, ch: make(chan Batch, 4)}
		streams[i] = s
		sub := &Replay{Paths: g.Paths, Stdin: r.Stdin, Workers: workers, MaxLine: r.MaxLine, OnProblem: onProblem, chunk: r.chunk,
			Recycle: r.Recycle, hold: r.Recycle, Skim: r.Skim, Prepare: r.Prepare, Fields: r.Fields, released: r.released}
		wg.Go(func() {
			defer close(s.ch)
			s.sum, s.err = sub.runOne(runCtx, func(b Batch) error {
				select {
				case s.ch <- b:
					return nil
				case <-runCtx.Done():
					return runCtx.Err()
				}
			})
		})
	}
	m := merger{streams: streams, window: window, emit: emit, multi: len(groups) > 1, onLate: r.OnLate, recycle: r.Recycle}
	err := m.run(runCtx)
	cancel()
	wg.Wait()
	var sum Summary
	for _, s := range streams {
		sum.add(s.sum)
		if err == nil && s.err != nil && s.err != ErrNoInput {
			err = s.err
		}
	}
	sum.Events, sum.Late = m.events, m.late
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	if err == nil && sum.Files == 0 {
		err = ErrNoInput
	}
	return sum, err
}

// add sums another run's counts into s.
func (s *Summary) add(o Summary) {
	s.Files += o.Files
	s.Bytes += o.Bytes
	s.Lines += o.Lines
	s.Events += o.Events
	s.Late += o.Late
	for k, c := range o.Problems {
		s.Problems[k] += c
	}
}

// merger is the k-way merge of the streams' reorder windows.
//
// Goroutines: Run's only.
type merger struct {
	streams []*stream
	window  int
	emit    func(Batch) error
	onLate  func(*audit.Event)
	multi   bool // several streams: batches read their bytes through a multiRaw
	recycle bool // Replay.Recycle: a copied batch's arrays are reused once emitted

	cur    evRun       // the output so far, as a run of one input batch
	done   []*chunkRef // chunks of input batches all taken: released after the next emit
	copied *Batch      // or the output so far, copied (nil: not copying)
	raw    *multiRaw
	spare  Batch // with recycle: the arrays of the last copied batch emitted
	last   int64 // key of the last event handed on
	events int64
	late   int64
}

func (m *merger) run(ctx context.Context) error {
	if m.multi {
		m.raw = newMultiRaw()
	}
	for {
		for _, s := range m.streams {
			if err := m.top(ctx, s); err != nil {
				return err
			}
		}
		s, limit := m.oldest()
		if s == nil {
			return m.flush()
		}
		// Only s's window changes while its events are taken, so s stays
		// the oldest while its next key is below limit: one comparison
		// per event instead of a look at every stream.
		for {
			if err := m.take(s); err != nil {
				return err
			}
			if err := m.top(ctx, s); err != nil {
				return err
			}
			if s.win.n == 0 || s.win.first().key >= limit {
				break
			}
		}
	}
}

// top fills s's window to window+1 events, or to its end (blocking on
// its reader): only then is its oldest held event known to be the
// oldest still to come from it, within the window.
func (m *merger) top(ctx context.Context, s *stream) error {
	for !s.ended && s.win.n <= m.window {
		if s.cur != nil {
			s.pushOne()
			continue
		}
		var b Batch
		var ok bool
		select {
		case b, ok = <-s.ch:
		default:
			// Nothing ready: hand on what is merged so far before
			// waiting, so a slow input does not hold back output.
			if err := m.flush(); err != nil {
				return err
			}
			select {
			case b, ok = <-s.ch:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if !ok {
			s.ended = true
			break
		}
		if n := len(b.Events) + len(b.Stubs); n > 0 {
			s.cur, s.next, s.nextStub = &inBatch{Batch: b, left: n}, 0, 0
		}
	}
	return nil
}

// pushOne puts the next event of the current batch in the stream's
// window, naming its source; or the next stub (Batch.Stubs),
// as i < 0.
func (s *stream) pushOne() {
	b, i := s.cur, s.next
	if k := s.nextStub; k < len(b.Stubs) && int(b.Stubs[k].After) <= i {
		key := b.Stubs[k].Time
		s.lastKey = key
		s.win.push(held{key: key, b: b, i: ^int32(k)})
		s.nextStub++
	} else {
		e := &b.Events[i]
		e.Source = s.source(e.Source, b.Cluster)
		key := s.lastKey
		if !e.StageTime.IsZero() {
			key = e.StageTime.UnixNano()
		}
		s.lastKey = key
		s.win.push(held{key: key, b: b, i: int32(i)})
		s.next++
	}
	if s.next == len(b.Events) && s.nextStub == len(b.Stubs) {
		s.cur = nil
	}
}

// source is the Source of an event of s that names src, from a batch
// naming cluster.
func (s *stream) source(src, cluster string) string {
	switch {
	case s.explicit:
		return s.name
	case src != "":
		return src
	case cluster != "":
		return cluster // the cloud cluster the export's envelopes name
	}
	return s.name
}

// oldest is the stream whose next event is the oldest (the first stream
// on ties, so equal times keep argument order), or nil when all are
// empty; and the key below which that stream's events stay the oldest.
func (m *merger) oldest() (*stream, int64) {
	var best *stream
	for _, s := range m.streams {
		if s.win.n > 0 && (best == nil || s.win.first().key < best.win.first().key) {
			best = s
		}
	}
	limit := int64(math.MaxInt64)
	after := false // past best in argument order: best wins ties
	for _, s := range m.streams {
		if s == best {
			after = true
			continue
		}
		if s.win.n == 0 {
			continue
		}
		k := s.win.first().key
		if after && k < math.MaxInt64 {
			k++
		}
		limit = min(limit, k)
	}
	return best, limit
}

// minRun is the shortest run of one input batch's events, in order,
// handed on as a batch of its own (a subslice, not copied) when the next
// event comes from elsewhere: copying a 400-byte Event costs more than
// a short batch does downstream.
const minRun = 32

// take moves s's oldest event to the output: while events come in order
// from one input batch they are a run (a subslice of it, handed on
// without copying, the common case for one input); otherwise they are
// copied into a batch of their own.
func (m *merger) take(s *stream) error {
	h := s.win.pop()
	var done *chunkRef // h's chunk, all taken: given back at the next output after h's
	if h.b.left--; h.b.left == 0 && h.b.ref != nil {
		done = h.b.ref
	}
	if h.key < m.last {
		m.late++ // older than one handed on: beyond the window
		if m.onLate != nil {
			m.onLate(s.event(h))
		}
	} else {
		m.last = h.key
	}
	if h.i < 0 {
		// A skipped event is only counted. Chunks all taken are given
		// back now, not at the next output (which may be far off when
		// most events are skipped).
		m.events++
		if done != nil {
			m.done = append(m.done, done)
		}
		if len(m.done) > 0 {
			return m.flush()
		}
		return nil
	}
	err := m.place(s, h)
	if done != nil {
		// Only now: a flush while placing h (the output switching files,
		// or a run ending) would have given its chunk back with h not yet
		// handed on, and a worker would have decoded into h's Event.
		m.done = append(m.done, done)
	}
	return err
}

// place puts h's event into the output: the current run or the batch of
// copies.
func (m *merger) place(s *stream, h held) error {
	if m.copied == nil && m.cur.b == h.b && int(h.i) == m.cur.j {
		m.cur.j++
		if m.cur.j-m.cur.i >= MaxBatch {
			return m.flush()
		}
		return nil
	}
	if m.copied == nil && m.cur.b != nil && m.cur.j-m.cur.i >= minRun {
		if err := m.flush(); err != nil {
			return err
		}
	}
	if m.copied == nil && m.cur.b == nil {
		m.cur = evRun{s: s, b: h.b, i: int(h.i), j: int(h.i) + 1}
		return nil
	}
	if !m.multi && m.rawOf() != h.b.Raw {
		// One input: a batch reads its bytes from one file.
		if err := m.flush(); err != nil {
			return err
		}
		m.cur = evRun{s: s, b: h.b, i: int(h.i), j: int(h.i) + 1}
		return nil
	}
	if m.copied == nil {
		m.copied = &Batch{Events: m.spare.Events[:0], Offsets: m.spare.Offsets[:0], Keys: m.spare.Keys[:0], Raw: m.rawOf()}
		if m.copied.Events == nil {
			m.copied.Events, m.copied.Offsets = make([]audit.Event, 0, MaxBatch), make([]int64, 0, MaxBatch)
		}
		m.spare = Batch{}
		for i := m.cur.i; i < m.cur.j; i++ {
			m.copy(m.cur.s, m.cur.b, i)
		}
		m.cur = evRun{}
	}
	m.copy(s, h.b, int(h.i))
	if len(m.copied.Events) >= MaxBatch {
		return m.flush()
	}
	return nil
}

// event is the event h holds: a skipped one is made up of its time and
// source.
func (s *stream) event(h held) *audit.Event {
	if h.i >= 0 {
		return &h.b.Events[h.i]
	}
	return &audit.Event{StageTime: time.Unix(0, h.key).UTC(), Source: s.source("", h.b.Cluster)}
}

// inBatch is a batch from a stream, and how many of its events are not
// taken yet.
type inBatch struct {
	Batch
	left int
}

// evRun is events [i, j) of batch b, from s, to be handed on as they are.
type evRun struct {
	s    *stream
	b    *inBatch
	i, j int
}

// rawOf is where the output batch being built reads its bytes.
func (m *merger) rawOf() io.ReaderAt {
	switch {
	case m.multi:
		return m.raw
	case m.copied != nil:
		return m.copied.Raw
	case m.cur.b != nil:
		return m.cur.b.Raw
	}
	return nil
}

// copy appends event i of b, from s, to the output batch being built.
func (m *merger) copy(s *stream, b *inBatch, i int) {
	off := b.Offsets[i]
	if m.multi {
		if s.raw != any(b.Raw) {
			s.raw, s.base = b.Raw, m.raw.offset(b.Raw, 0)
		}
		off |= s.base
	}
	m.copied.Events = append(m.copied.Events, b.Events[i])
	m.copied.Offsets = append(m.copied.Offsets, off)
	if b.Keys != nil && m.copied.Keys == nil {
		m.copied.Keys = make([]audit.Keys, len(m.copied.Events)-1, MaxBatch) // zero: none worked out
	}
	if m.copied.Keys != nil {
		var k audit.Keys
		if b.Keys != nil {
			k = b.Keys[i]
		}
		m.copied.Keys = append(m.copied.Keys, k)
	}
	m.copied.Pos = b.Pos
}

// flush hands on the output batch being built, if any.
func (m *merger) flush() error {
	var out Batch
	copied := m.copied != nil
	switch {
	case copied:
		out, m.copied = *m.copied, nil
	case m.cur.b != nil:
		r := m.cur
		m.cur = evRun{}
		out = Batch{Events: r.b.Events[r.i:r.j:r.j], Offsets: r.b.Offsets[r.i:r.j:r.j], Raw: r.b.Raw, Pos: r.b.Pos, Cluster: r.b.Cluster}
		if r.b.Keys != nil {
			out.Keys = r.b.Keys[r.i:r.j:r.j]
		}
		if m.multi {
			out.Offsets = make([]int64, r.j-r.i)
			for k := range out.Offsets {
				out.Offsets[k] = m.raw.offset(r.b.Raw, r.b.Offsets[r.i+k])
			}
			out.Raw = m.raw
		}
	default:
		m.release()
		return nil
	}
	m.events += int64(len(out.Events))
	err := m.emit(out)
	if copied && m.recycle {
		m.spare = out // emit kept nothing of it (Replay.Recycle)
	}
	m.release()
	return err
}

// release gives back the chunks whose batches' events were all handed on.
func (m *merger) release() {
	for _, c := range m.done {
		c.release()
	}
	m.done = m.done[:0]
}
