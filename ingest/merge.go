package ingest

import (
	"context"
	"io"
	"runtime"
	"sync"

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
// and hands its batches over ch; held is its reorder window.
//
// Goroutines: ch is written by the source's goroutine; everything else
// belongs to the merging goroutine (Run's).
type stream struct {
	name     string
	explicit bool // named with --source: the name wins over a decoder's cluster
	ch       chan Batch
	ended    bool
	cur      *Batch // the batch being put in the window, from next on
	next     int
	held     eventHeap
	lastKey  int64 // key of the last event pushed: events without a time keep their place
	seq      uint64
	sum      Summary
	err      error
}

// held is one event waiting in a reorder window.
type held struct {
	key int64  // stageTimestamp, Unix ns
	seq uint64 // arrival order within the stream: ties keep input order
	b   *Batch
	i   int32
}

// eventHeap is a min-heap of held events by (key, seq).
type eventHeap []held

func (h eventHeap) less(a, b int) bool {
	return h[a].key < h[b].key || h[a].key == h[b].key && h[a].seq < h[b].seq
}

func (h *eventHeap) push(x held) {
	*h = append(*h, x)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s.less(i, p) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *eventHeap) pop() held {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < n && s.less(l, m) {
			m = l
		}
		if r := l + 1; r < n && s.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
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
		sub := &Replay{Paths: g.Paths, Stdin: r.Stdin, Workers: workers, MaxLine: r.MaxLine, OnProblem: onProblem, chunk: r.chunk}
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
	m := merger{streams: streams, window: window, emit: emit, multi: len(groups) > 1, onLate: r.OnLate}
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

	cur    evRun  // the output so far, as a run of one input batch
	copied *Batch // or the output so far, copied (nil: not copying)
	raw    *multiRaw
	last   int64 // key of the last event handed on
	events int64
	late   int64
}

func (m *merger) run(ctx context.Context) error {
	if m.multi {
		m.raw = newMultiRaw()
	}
	for {
		if err := m.fill(ctx); err != nil {
			return err
		}
		s := m.oldest()
		if s == nil {
			return m.flush()
		}
		if err := m.take(s); err != nil {
			return err
		}
	}
}

// fill tops up every stream's window (blocking on a stream that has at
// most window events held and has not ended): only then is the oldest
// held event known to be the oldest still to come, within the window.
func (m *merger) fill(ctx context.Context) error {
	for _, s := range m.streams {
		for !s.ended && len(s.held) <= m.window {
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
			if len(b.Events) > 0 {
				s.cur, s.next = &b, 0
			}
		}
	}
	return nil
}

// pushOne puts the next event of the current batch in the stream's
// window, naming its source.
func (s *stream) pushOne() {
	b, i := s.cur, s.next
	e := &b.Events[i]
	switch {
	case s.explicit:
		e.Source = s.name
	case e.Source != "":
	case b.Cluster != "":
		e.Source = b.Cluster // the cloud cluster the export's envelopes name
	default:
		e.Source = s.name
	}
	key := s.lastKey
	if !e.StageTime.IsZero() {
		key = e.StageTime.UnixNano()
	}
	s.lastKey = key
	s.seq++
	s.held.push(held{key: key, seq: s.seq, b: b, i: int32(i)})
	if s.next++; s.next == len(b.Events) {
		s.cur = nil
	}
}

// oldest is the stream whose next event is the oldest (the first stream
// on ties, so equal times keep argument order), or nil when all are empty.
func (m *merger) oldest() *stream {
	var best *stream
	for _, s := range m.streams {
		if len(s.held) > 0 && (best == nil || s.held[0].key < best.held[0].key) {
			best = s
		}
	}
	return best
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
	h := s.held.pop()
	if h.key < m.last {
		m.late++ // older than one handed on: beyond the window
		if m.onLate != nil {
			m.onLate(&h.b.Events[h.i])
		}
	} else {
		m.last = h.key
	}
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
		m.cur = evRun{b: h.b, i: int(h.i), j: int(h.i) + 1}
		return nil
	}
	if !m.multi && m.rawOf() != h.b.Raw {
		// One input: a batch reads its bytes from one file.
		if err := m.flush(); err != nil {
			return err
		}
		m.cur = evRun{b: h.b, i: int(h.i), j: int(h.i) + 1}
		return nil
	}
	if m.copied == nil {
		m.copied = &Batch{Events: make([]audit.Event, 0, MaxBatch), Offsets: make([]int64, 0, MaxBatch), Raw: m.rawOf()}
		for i := m.cur.i; i < m.cur.j; i++ {
			m.copy(m.cur.b, i)
		}
		m.cur = evRun{}
	}
	m.copy(h.b, int(h.i))
	if len(m.copied.Events) >= MaxBatch {
		return m.flush()
	}
	return nil
}

// evRun is events [i, j) of batch b, to be handed on as they are.
type evRun struct {
	b    *Batch
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

func (m *merger) copy(b *Batch, i int) {
	off := b.Offsets[i]
	if m.multi {
		off = m.raw.offset(b.Raw, off)
	}
	m.copied.Events = append(m.copied.Events, b.Events[i])
	m.copied.Offsets = append(m.copied.Offsets, off)
	m.copied.Pos = b.Pos
}

// flush hands on the output batch being built, if any.
func (m *merger) flush() error {
	var out Batch
	switch {
	case m.copied != nil:
		out, m.copied = *m.copied, nil
	case m.cur.b != nil:
		r := m.cur
		m.cur = evRun{}
		out = Batch{Events: r.b.Events[r.i:r.j:r.j], Offsets: r.b.Offsets[r.i:r.j:r.j], Raw: r.b.Raw, Pos: r.b.Pos, Cluster: r.b.Cluster}
		if m.multi {
			out.Offsets = make([]int64, r.j-r.i)
			for k := range out.Offsets {
				out.Offsets[k] = m.raw.offset(r.b.Raw, r.b.Offsets[r.i+k])
			}
			out.Raw = m.raw
		}
	default:
		return nil
	}
	m.events += int64(len(out.Events))
	return m.emit(out)
}
