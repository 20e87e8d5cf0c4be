package pipeline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/ingest"
	"github.com/kaudit/kaudit/store"
)

// Source is where events come from: a replay of saved logs (Replay), a
// followed log (*ingest.Tail), the webhook receiver (*webhook.Receiver).
// Run hands batches to emit, in order, from one goroutine, until the
// input ends, emit fails or ctx is cancelled.
type Source interface {
	Run(ctx context.Context, emit func(ingest.Batch) error) error
}

// Config says what one pipeline reads and who hears of it.
type Config struct {
	// Source is read by the writer. A *ingest.Tail is a followed log: its
	// positions are kept in StateDir and each sink gets a reader of its
	// own over the same log. Any other source's batches are queued on the
	// sinks by the writer itself.
	Source Source
	// Front, if set, runs beside the source and stops before it: the
	// webhook's HTTP server, so that requests in flight are still taken
	// when the pipeline is stopped. Either ending stops the other.
	Front func(ctx context.Context) error

	// SourceName is the source of the events that come without one (a
	// followed log: its host), in the store and in forwarded records.
	SourceName string

	StateDir string        // positions of a followed log ("": neither read nor written)
	Flush    time.Duration // positions flush period; 0 means 1 s

	// Store is filled by the writer (nil: a new one). Each, if set,
	// replaces the store: the writer hands it every batch instead (a
	// consumer keeping its own tally, as policy simulation does).
	Store *store.Store
	Each  func(ingest.Batch) error
	// Retention: the store keeps at most about this many events / bytes
	// of index, dropping the oldest (0: no bound).
	MaxEvents int
	MaxBytes  int64

	// Keep, if set, is a test of an event's original bytes: events that
	// fail it are not stored (they were still decoded, so malformed input
	// is still reported and counted). It is for headless output of a
	// filter, Keep being the filter's query.Filter.RawPrefilter: the store
	// then holds the few events that could be printed instead of all of
	// them. Start refuses it beside Each, OnStored or sinks, which must see
	// every event.
	//
	// Deduplication stays correct: an event that could be printed passes
	// Keep, so it is still stored and deduplicated against every earlier
	// copy that could be printed; an event failing Keep cannot be printed,
	// so neither it nor a later copy of it needs dedup. (Copies are the
	// same bytes. Were two copies with the same auditID, stage and
	// stageTimestamp different bytes, only the first passing Keep would be
	// stored, where the store alone keeps the very first.)
	Keep func(raw []byte) bool
	// Skim, with Keep, is the filter's query.Filter.RawSkimmer: a replay
	// source then leaves out what Keep rules out as it reads, without
	// decoding it (see ingest.Replay.Skim). nil: Keep, then audit.Skim.
	Skim func(doc []byte) (stageTime time.Time, stub bool)

	Print    *Printer           // the headless printer (nil: none)
	OnStored func(ingest.Batch) // after each batch was stored: the terminal UI's progress
	// SourceDone is called once the source's Run returned (a replay read
	// everything), before the sinks are drained.
	SourceDone func()

	Sinks *Sinks    // forwarding (nil: none); the pipeline closes them
	Warn  io.Writer // what the sinks could not deliver at stop (nil: nowhere)
	// Errs hears of errors while running: positions that cannot be saved
	// (nil: nowhere; the terminal UI reads PositionsHealth instead).
	Errs io.Writer
}

// Pipeline is sources -> one writer -> consumers, running: the hook the
// terminal UI uses (it reads Store whenever Changed fires) and what
// headless commands print from once it is Done.
//
// Goroutines: Start starts the writer (which runs the source: the
// source's emit is the writer), and for a followed log the positions
// flusher and one reader per sink; with Front, the front too. Store is
// safe to read from any goroutine; Changed has capacity 1 and is never
// blocked on; Done is closed after all ended, the sinks were drained and
// the final positions were written (Err and Undelivered are then valid).
type Pipeline struct {
	Store   *store.Store
	Changed <-chan struct{}
	Done    <-chan struct{}

	cfg         Config
	kept        keptBuf // the events of a batch that passed Keep
	stubs       bool    // the replay leaves out what Keep rules out (ingest.Batch.Stubs)
	full        bool    // the store refused events for want of IDs: said once on Errs (see store/rebase.go)
	mem         memRaw  // with stubs: the kept events' bytes, up to memRawLimit
	follow      *follow
	changed     chan struct{}
	done        chan struct{}
	err         error
	undelivered int64
}

// Start starts the pipeline; it stops when ctx is cancelled (the front
// first, then the source), or when the source ends. On error the sinks
// are closed.
func Start(ctx context.Context, cfg Config) (*Pipeline, error) {
	p := &Pipeline{cfg: cfg, Store: cfg.Store, changed: make(chan struct{}, 1), done: make(chan struct{})}
	p.Changed, p.Done = p.changed, p.done
	if cfg.Keep != nil && (cfg.Each != nil || cfg.OnStored != nil || cfg.Sinks != nil && len(cfg.Sinks.list) > 0) {
		cfg.Sinks.Close(io.Discard)
		return nil, errors.New("pipeline: Keep leaves events out, but Each, OnStored or a sink must see them all")
	}
	if p.Store == nil {
		p.Store = store.New()
	}
	tuneGC(cfg.MaxBytes)
	if rs, ok := cfg.Source.(replaySource); ok && (cfg.Sinks == nil || len(cfg.Sinks.list) == 0) && cfg.Each == nil && cfg.OnStored == nil {
		// The store clones what it keeps and the printer reads the store:
		// nothing holds a batch once it was written.
		rs.r.Recycle = true
		if cfg.Keep == nil {
			// The store's per-event work that needs no earlier event. With
			// Keep, store drops the keys (most events are stubs): none.
			rs.r.Prepare = p.Store.Prepare
		}
		if keep := cfg.Keep; keep != nil {
			// The replay tests Keep itself and hands on what fails it as
			// stubs (their times only), validated, not decoded.
			rs.r.Skim = cfg.Skim
			if rs.r.Skim == nil {
				rs.r.Skim = func(doc []byte) (time.Time, bool) {
					if keep(doc) {
						return time.Time{}, false
					}
					return audit.Skim(doc)
				}
			}
			p.stubs = true
		}
	}
	if tail, ok := cfg.Source.(*ingest.Tail); ok {
		var err error
		if p.follow, err = newFollow(tail, cfg.StateDir); err != nil {
			cfg.Sinks.Close(io.Discard)
			return nil, err
		}
		p.follow.name = cfg.SourceName
	}
	go p.run(ctx)
	return p, nil
}

// Run runs the pipeline to its end (see Start); the error is Err's.
func Run(ctx context.Context, cfg Config) (*Pipeline, error) {
	p, err := Start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return p, p.Wait()
}

// Wait waits for Done and returns Err.
func (p *Pipeline) Wait() error {
	<-p.done
	return p.err
}

// Err is why the pipeline stopped (nil for the end of the input or a
// cancellation); valid after Done.
func (p *Pipeline) Err() error { return p.err }

// PositionsHealth is how saving the followed log's positions goes (ok is
// false when there are none: no state dir, or not a followed log). Any
// goroutine may call it.
func (p *Pipeline) PositionsHealth() (h ingest.Health, ok bool) {
	if p.follow == nil || p.follow.pos == nil {
		return h, false
	}
	return p.follow.pos.Health(), true
}

// Undelivered is the number of events the sinks were left holding at stop;
// valid after Done.
func (p *Pipeline) Undelivered() int64 { return p.undelivered }

// run is the pipeline's own goroutine: it runs the source (and front),
// then stops everything else in order.
func (p *Pipeline) run(ctx context.Context) {
	defer close(p.done)
	srcParent := ctx
	if p.cfg.Front != nil {
		// The source outlives the cancellation: it stops once the front did.
		srcParent = context.WithoutCancel(ctx)
	}
	srcCtx, stopSource := context.WithCancel(srcParent)
	defer stopSource()
	var frontErr error
	var front sync.WaitGroup
	frontCtx, stopFront := context.WithCancel(ctx)
	defer stopFront()
	if p.cfg.Front != nil {
		front.Go(func() {
			frontErr = p.cfg.Front(frontCtx)
			stopSource()
		})
	}
	stopFlush, flushed := p.startFlusher()
	readersCtx, stopReaders := context.WithCancel(srcCtx)
	readers := p.startReaders(readersCtx)

	err := p.cfg.Source.Run(srcCtx, p.write(srcCtx))
	stopFront()
	front.Wait()
	if p.cfg.SourceDone != nil {
		p.cfg.SourceDone()
	}
	stopReaders() // the sinks' readers stop with the source; then what they queued is drained
	forwardErr := readers()
	p.undelivered = p.cfg.Sinks.Close(cmp.Or[io.Writer](p.cfg.Warn, io.Discard))
	close(stopFlush)
	flushErr := <-flushed
	if p.follow != nil {
		flushErr = cmp.Or(flushErr, p.follow.save(p.cfg.Sinks))
		if p.follow.pos != nil {
			p.follow.pos.Close()
		}
	}
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	p.err = cmp.Or(err, frontErr, forwardErr, flushErr)
}

// startFlusher starts the positions flusher of a followed log; closing
// stop stops it, and flushed then gets its first error.
func (p *Pipeline) startFlusher() (stop chan struct{}, flushed chan error) {
	stop, flushed = make(chan struct{}), make(chan error, 1)
	if p.follow == nil {
		flushed <- nil
		return stop, flushed
	}
	every := p.cfg.Flush
	if every <= 0 {
		every = time.Second
	}
	go func() { flushed <- p.follow.flushLoop(every, p.cfg.Sinks, p.cfg.Errs, stop) }()
	return stop, flushed
}

func (p *Pipeline) startReaders(ctx context.Context) (wait func() error) {
	if p.follow == nil {
		return func() error { return nil }
	}
	return p.follow.startReaders(ctx, p.cfg.Sinks)
}

// write is the source's emit: the single writer of the store.
func (p *Pipeline) write(ctx context.Context) func(ingest.Batch) error {
	return func(b ingest.Batch) error {
		nameSource(b.Events, p.cfg.SourceName)
		if err := p.store(b); err != nil {
			return err
		}
		if p.follow == nil {
			if err := p.cfg.Sinks.forwardBatch(ctx, b); err != nil {
				return err
			}
		}
		if p.cfg.OnStored != nil {
			p.cfg.OnStored(b)
		}
		select {
		case p.changed <- struct{}{}:
		default:
		}
		return nil
	}
}

// store appends b (or hands it to Each), prints what was new and applies
// retention.
func (p *Pipeline) store(b ingest.Batch) error {
	if p.cfg.Each != nil {
		return p.cfg.Each(b)
	}
	st := p.Store
	from := store.ID(st.Len())
	evs, offs, keys := b.Events, b.Offsets, b.Keys
	if keep := p.cfg.Keep; keep != nil {
		// With stubs, the replay left out what Keep rules out (b.Stubs,
		// not events); the events of lines it decoded (those Keep may
		// keep, bad lines, cloud exports) are tested here.
		evs, offs = p.kept.filter(b, func(e *audit.Event) bool { return keep(e.Raw) })
		keys = nil
	}
	if len(evs) > 0 {
		raw := b.Raw
		if p.stubs {
			raw, offs = p.mem.hold(evs, raw, offs)
		}
		if res := st.AppendKeys(evs, keys, raw, offs); res.Refused > 0 && !p.full {
			p.full = true
			fmt.Fprintf(cmp.Or[io.Writer](p.cfg.Errs, io.Discard), "kaudit: the in-memory store is full (%d events, no retention bound to drop the oldest): new events are refused from now on; set --max-memory or --max-events\n", st.Len())
		}
	}
	p.kept.clear()
	to := store.ID(st.Len())
	if p.cfg.Print != nil && to > from {
		if err := p.cfg.Print.print(st, from, to); err != nil {
			return err
		}
	}
	if p.cfg.MaxEvents > 0 || p.cfg.MaxBytes > 0 {
		st.Retain(p.cfg.MaxEvents, p.cfg.MaxBytes)
	}
	return nil
}

// nameSource sets the source of events that have none.
func nameSource(evs []audit.Event, name string) {
	if name == "" {
		return
	}
	for i := range evs {
		if evs[i].Source == "" {
			evs[i].Source = name
		}
	}
}

// Replay makes an ingest.Replay a Source (its Summary is dropped).
func Replay(r *ingest.Replay) Source { return replaySource{r} }

type replaySource struct{ r *ingest.Replay }

func (s replaySource) Run(ctx context.Context, emit func(ingest.Batch) error) error {
	_, err := s.r.Run(ctx, emit)
	return err
}

// keptBuf holds the events of a batch that pass Config.Keep, and their
// offsets, reused from batch to batch.
type keptBuf struct {
	events  []audit.Event
	offsets []int64
}

// filter returns b's events passing keep and their offsets: b's own
// slices when all pass (b is left as it is: a recycled batch's arrays
// must not alias each other), else copies in kb.
func (kb *keptBuf) filter(b ingest.Batch, keep func(*audit.Event) bool) ([]audit.Event, []int64) {
	i := 0
	for i < len(b.Events) && keep(&b.Events[i]) {
		i++
	}
	if i == len(b.Events) {
		return b.Events, b.Offsets
	}
	kb.events = append(kb.events[:0], b.Events[:i]...)
	kb.offsets = append(kb.offsets[:0], b.Offsets[:i]...)
	for j := i + 1; j < len(b.Events); j++ {
		if keep(&b.Events[j]) {
			kb.events = append(kb.events, b.Events[j])
			kb.offsets = append(kb.offsets, b.Offsets[j])
		}
	}
	return kb.events, kb.offsets
}

// clear drops the copies once stored (the store cloned what it keeps),
// so that they hold no batch's buffers alive.
func (kb *keptBuf) clear() {
	clear(kb.events)
	kb.events = kb.events[:0]
}
