package forward

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"
)

// DefaultMaxInflight bounds a sink's memory when Config.MaxInflight is 0:
// the bytes of events queued or being sent.
const DefaultMaxInflight = 16 << 20

// DefaultWorkers is how many payloads a sink has in flight when
// Config.Workers is 0: enough to keep a WAN intake at 40 ms busy.
const DefaultWorkers = 4

// Config is what a Forwarder needs besides its URL.
type Config struct {
	Identity
	APIKey        string   // Datadog's DD-API-KEY
	Endpoint      string   // overrides where a datadog:// sink posts (a proxy, a test intake)
	Tags          []string // extra Datadog tags (key:value)
	StripResponse bool     // Datadog: send events over 1 MB without their responseObject
	CAFile        string   // PEM roots for https receivers (default: the system's)
	MaxInflight   int64    // bytes queued or in flight; 0: DefaultMaxInflight
	Workers       int      // payloads in flight at once; 0: DefaultWorkers (1: receivers see file order)
	DeadLetter    string   // file that permanently refused events are appended to ("" : only counted)
	Backoff       Backoff  // zero: DefaultBackoff
	Client        *http.Client

	sleep func(context.Context, time.Duration) error // tests
}

// Stats is one sink's counters, in events.
type Stats struct {
	Sink         string    `json:"sink"`
	Sent         int64     `json:"sent"`          // events posted (first attempts)
	Acked        int64     `json:"acked"`         // events the receiver accepted
	Retried      int64     `json:"retried"`       // events posted again after a retryable failure
	Dropped      int64     `json:"dropped"`       // events the receiver rejected in a partial success (not resent)
	DeadLettered int64     `json:"dead_lettered"` // events refused for good, appended to the dead-letter file
	Oversize     int64     `json:"oversize"`      // events over the receiver's per-event limit
	Lost         int64     `json:"lost"`          // events never read for this sink: their file was deleted first (counted where known)
	Queue        int64     `json:"queue"`         // events queued or in flight
	QueueBytes   int64     `json:"queue_bytes"`
	LastError    string    `json:"last_error,omitempty"`
	LastErrorAt  time.Time `json:"last_error_at,omitzero"`
}

func (s *Stats) setError(msg string) {
	s.LastError, s.LastErrorAt = msg, time.Now().UTC()
}

// Forwarder is one sink.
//
// Goroutines: Enqueue, Committed, Stats and Close may be called from any
// goroutine; Workers sender goroutines (started by New, ended by Close)
// take batches off the queue and deliver them. A mutex guards the queue,
// the acknowledgements and the counters.
type Forwarder struct {
	t      target
	cfg    Config
	client *http.Client
	dl     *deadLetter

	mu       sync.Mutex
	queue    []*item
	inflight int64
	nextSeq  uint64
	closed   bool
	changed  chan struct{} // closed and replaced whenever the queue shrinks, grows or closes
	acks     ackTracker
	stats    Stats

	cancel context.CancelFunc
	done   chan struct{}
}

// item is one queued piece of a batch: at most a payload's worth of
// records. A batch over that is split into several items, and only the
// last carries the batch's pos (the others carry noPos).
type item struct {
	seq  uint64
	recs []Record
	pos  any
	size int64 // queue cost (Record.size)
	wire int64 // estimated payload bytes, before compression
}

// noPos marks an item whose acknowledgement commits nothing by itself:
// a leading part of a batch split at the payload limit.
type noPos struct{}

// New parses rawURL (otlp+http://HOST:PORT, otlp+https://HOST:PORT or
// datadog://SITE) and starts the sink's senders.
func New(rawURL string, cfg Config) (*Forwarder, error) {
	t, err := parseTarget(rawURL, &cfg)
	if err != nil {
		return nil, err
	}
	client, err := httpClient(&cfg)
	if err != nil {
		return nil, fmt.Errorf("--forward %s: %v", t.name, err)
	}
	if cfg.MaxInflight <= 0 {
		cfg.MaxInflight = DefaultMaxInflight
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.Backoff == (Backoff{}) {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.sleep == nil {
		cfg.sleep = sleepCtx
	}
	f := &Forwarder{t: t, cfg: cfg, client: client, changed: make(chan struct{}),
		acks: ackTracker{done: map[uint64]any{}}, stats: Stats{Sink: t.name}, done: make(chan struct{})}
	if cfg.DeadLetter != "" {
		f.dl = &deadLetter{path: cfg.DeadLetter, sink: t.name}
	}
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	var wg sync.WaitGroup
	for range cfg.Workers {
		wg.Go(func() { f.send(ctx) })
	}
	go func() { wg.Wait(); close(f.done) }()
	return f, nil
}

// Name is the sink's URL as shown (no credentials).
func (f *Forwarder) Name() string { return f.t.name }

// Enqueue queues one batch of one source, in that source's order. pos is
// opaque: Committed returns it once this batch and every batch enqueued
// before it were acknowledged. Enqueue blocks while the sink already holds
// MaxInflight bytes (a batch larger than that is taken when the sink is
// empty): that is the backpressure that pauses reading for this sink. It
// fails when ctx is done or the Forwarder was closed.
func (f *Forwarder) Enqueue(ctx context.Context, recs []Record, pos any) error {
	items := f.split(recs, pos)
	var size int64
	for _, it := range items {
		size += it.size
	}
	for {
		f.mu.Lock()
		if f.closed {
			f.mu.Unlock()
			return errClosed
		}
		if f.inflight == 0 || f.inflight+size <= f.cfg.MaxInflight {
			for _, it := range items {
				it.seq = f.nextSeq
				f.nextSeq++
				f.queue = append(f.queue, it)
			}
			f.inflight += size
			f.stats.Queue += int64(len(recs))
			f.stats.QueueBytes = f.inflight
			f.signal()
			f.mu.Unlock()
			return nil
		}
		ch := f.changed
		f.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// signal wakes every goroutine waiting for a change; f.mu is held.
func (f *Forwarder) signal() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// split cuts one batch into items of at most one payload each, so that
// the senders can share a large batch.
func (f *Forwarder) split(recs []Record, pos any) []*item {
	maxN, maxB := f.t.proto.limits()
	var items []*item
	it := &item{pos: noPos{}}
	for i := range recs {
		w := recs[i].wire()
		if len(it.recs) > 0 && (len(it.recs) >= maxN || it.wire+w > int64(maxB)) {
			items = append(items, it)
			it = &item{pos: noPos{}}
		}
		if it.recs == nil {
			it.recs = recs[i:i]
		}
		it.recs = it.recs[:len(it.recs)+1]
		it.size += recs[i].size()
		it.wire += w
	}
	it.pos = pos
	return append(items, it)
}

// send is one sender: it takes the oldest items (merged up to one payload),
// delivers them, acknowledges them.
func (f *Forwarder) send(ctx context.Context) {
	for {
		f.mu.Lock()
		for len(f.queue) == 0 {
			if f.closed {
				f.mu.Unlock()
				return
			}
			ch := f.changed
			f.mu.Unlock()
			select {
			case <-ch:
			case <-ctx.Done():
				return
			}
			f.mu.Lock()
		}
		job, recs := f.take()
		f.mu.Unlock()
		if err := f.deliver(ctx, recs); err != nil {
			return // cancelled: not acknowledged, so its positions are never committed
		}
		f.mu.Lock()
		for _, it := range job {
			f.inflight -= it.size
			f.stats.Queue -= int64(len(it.recs))
			f.acks.ack(it.seq, it.pos)
		}
		f.stats.QueueBytes = f.inflight
		f.signal()
		f.mu.Unlock()
	}
}

// take removes the oldest items from the queue, as many as fit in one
// payload (at least one), and returns them with their records in order.
// Merging is what keeps a live log read in batches of 1-3 events from
// costing one request each. f.mu is held and the queue is not empty.
func (f *Forwarder) take() ([]*item, []Record) {
	maxN, maxB := f.t.proto.limits()
	k, n, b := 1, len(f.queue[0].recs), f.queue[0].wire
	for ; k < len(f.queue); k++ {
		it := f.queue[k]
		if n+len(it.recs) > maxN || b+it.wire > int64(maxB) {
			break
		}
		n += len(it.recs)
		b += it.wire
	}
	job := make([]*item, k)
	copy(job, f.queue[:k])
	clear(f.queue[:k])
	f.queue = f.queue[k:]
	if k == 1 {
		return job, job[0].recs
	}
	recs := make([]Record, 0, n)
	for _, it := range job {
		recs = append(recs, it.recs...)
	}
	return job, recs
}

// Committed is the pos of the newest batch that was acknowledged together
// with every batch enqueued before it; ok is false until there is one.
func (f *Forwarder) Committed() (pos any, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.acks.committed, f.acks.has
}

// Stats is a snapshot of the counters.
func (f *Forwarder) Stats() Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stats
}

func (f *Forwarder) count(fn func(*Stats)) {
	f.mu.Lock()
	fn(&f.stats)
	f.mu.Unlock()
}

// NoteError records msg as the sink's last error (a problem its caller met,
// such as input it could not read for this sink).
func (f *Forwarder) NoteError(msg string) { f.count(func(s *Stats) { s.setError(msg) }) }

// NoteLost counts n events its caller could not read for this sink (their
// file was deleted before it got to them).
func (f *Forwarder) NoteLost(n int64) {
	if n > 0 {
		f.count(func(s *Stats) { s.Lost += n })
	}
}

// Idle reports whether nothing is queued or in flight.
func (f *Forwarder) Idle() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.inflight == 0
}

// Close stops taking batches and drains: it waits until every queued batch
// was acknowledged, or ctx is done (then the senders are stopped and what
// was not acknowledged stays uncommitted, to be resent by a later run).
// It returns how many events were left undelivered.
func (f *Forwarder) Close(ctx context.Context) int64 {
	f.mu.Lock()
	if !f.closed {
		f.closed = true
		f.signal()
	}
	f.mu.Unlock()
	select {
	case <-f.done:
	case <-ctx.Done():
		f.cancel()
		<-f.done
	}
	f.cancel()
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stats.Queue
}

// deadLetter appends recs to the dead-letter file and counts them.
func (f *Forwarder) deadLetter(recs []Record, why string) {
	f.count(func(s *Stats) { s.DeadLettered += int64(len(recs)); s.setError(why) })
	if f.dl == nil {
		return
	}
	if err := f.dl.write(recs, why); err != nil {
		f.count(func(s *Stats) { s.setError("dead-letter file: " + err.Error()) })
	}
}

// ackTracker turns acknowledgements in any order into an in-order
// committed position. Guarded by Forwarder.mu.
type ackTracker struct {
	next      uint64         // the oldest batch not yet acknowledged
	done      map[uint64]any // acknowledged batches at or after next
	committed any
	has       bool
}

func (a *ackTracker) ack(seq uint64, pos any) {
	a.done[seq] = pos
	for {
		p, ok := a.done[a.next]
		if !ok {
			return
		}
		delete(a.done, a.next)
		if _, part := p.(noPos); !part {
			a.committed, a.has = p, true
		}
		a.next++
	}
}

// deadLetter is a sink's dead-letter file: one JSON line per refused event
// (when, which sink, why, and the original event), fsynced per write.
type deadLetter struct {
	path string
	sink string
	mu   sync.Mutex
}

type deadLine struct {
	Time    time.Time       `json:"time"`
	Sink    string          `json:"sink"`
	Error   string          `json:"error"`
	EventID string          `json:"kaudit.event_id"`
	Event   json.RawMessage `json:"event"`
}

func (d *deadLetter) write(recs []Record, why string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	f, err := os.OpenFile(d.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	var buf []byte
	for i := range recs {
		line := deadLine{Time: now, Sink: d.sink, Error: why, EventID: recs[i].ID, Event: recs[i].Event.Raw}
		if !json.Valid(line.Event) {
			b, _ := json.Marshal(string(line.Event))
			line.Event = b
		}
		b, err := json.Marshal(line)
		if err != nil {
			continue
		}
		buf = append(append(buf, b...), '\n')
	}
	_, err = f.Write(buf)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
