package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/kaudit/kaudit/ingest"
	"github.com/kaudit/kaudit/store"
)

// liveConfig says what to follow and where positions live.
type liveConfig struct {
	path     string
	history  ingest.History
	stateDir string        // "" : no positions (neither read nor written)
	flush    time.Duration // positions flush period; 0 means 1 s
	maxLine  int
	poll     time.Duration
	report   func(ingest.Problem)
	// onAppend, if set, is called on the writer goroutine after each batch
	// was stored, with the IDs of the new events [from, to). It returning
	// acknowledges the batch: its position may be written.
	onAppend func(st *store.Store, from, to store.ID) error
	// run, if set, is the source instead of a tail of path (no positions,
	// no sinks): kaudit serve's webhook receiver in memory mode.
	run func(ctx context.Context, emit func(ingest.Batch) error) error
	// feed, if set, is the terminal UI's: its store is the one filled, and
	// it hears of every batch.
	feed *feed
	// Retention: the store keeps at most about this many events / this
	// many bytes of index, dropping the oldest (0: no bound).
	maxEvents int
	maxBytes  int64
	warn      io.Writer // where sinks report what they could not deliver at stop (nil: nowhere)
	// sinks, if set, each get a reader of their own (forwardSource), and
	// their committed checkpoints are saved with the positions.
	sinks *sinks
}

// Live is a live source feeding a store: the hook the TUI uses (it reads
// the store whenever Changed fires) and what headless watch prints from.
//
// Goroutines: startLive starts two: the tail's, which is also the single
// writer of Store (ingest.Tail.Run's emit appends), and the positions
// flusher; and with --forward one reader per sink (forwardSource). Store is
// safe to read from any goroutine; Changed has capacity 1 and is never
// blocked on; Done is closed after all ended, the sinks were drained and
// the final positions were written (Err is then valid).
type Live struct {
	Store   *store.Store
	Changed <-chan struct{}
	Done    <-chan struct{}
	Tail    *ingest.Tail

	err error
}

// Err is why the live source stopped (nil for a cancellation); valid after Done.
func (l *Live) Err() error { return l.err }

// startLive starts following cfg.path into a new store, resuming from the
// positions in cfg.stateDir. It stops when ctx is cancelled, then drains
// the sinks (at most their --forward-drain) and flushes the positions.
func startLive(ctx context.Context, cfg liveConfig) (*Live, error) {
	var pos *ingest.Positions
	tail := &ingest.Tail{Path: cfg.path, History: cfg.history, MaxLine: cfg.maxLine, Poll: cfg.poll, OnProblem: cfg.report}
	run := tail.Run
	var src string
	if cfg.run != nil {
		if cfg.sinks != nil {
			return nil, errors.New("--forward needs a file to follow (for serve: --spool)")
		}
		run, cfg.stateDir = cfg.run, ""
	} else {
		var err error
		if src, err = absPath(cfg.path); err != nil {
			return nil, err
		}
	}
	if cfg.stateDir != "" {
		var err error
		if pos, err = ingest.OpenPositions(cfg.stateDir); err != nil {
			return nil, err
		}
		if cp, ok := pos.Get(src); ok {
			tail.Resume = &cp
		}
	}
	// The files the main reader finished (kept across restarts in the
	// positions file): the sinks' readers count with it what was deleted
	// before they read it.
	var finished *ingest.FileLog
	if cfg.run == nil {
		if pos != nil {
			finished = ingest.NewFileLog(pos.Finished(src))
		} else {
			finished = ingest.NewFileLog(nil)
		}
		tail.Finished = finished
	}
	// One reader per sink, from the sink's own checkpoint (see forwardSource).
	fctx, stopForward := context.WithCancel(ctx)
	var fwg sync.WaitGroup
	var ferrMu sync.Mutex
	var forwardErr error
	if cfg.sinks != nil {
		for _, fw := range cfg.sinks.list {
			var resume *ingest.Checkpoint
			if pos != nil {
				if cp, ok := pos.Get(ingest.Checkpoint{Source: src, Sink: fw.Name()}.Key()); ok {
					resume = &cp
				}
			}
			fwg.Go(func() {
				err := forwardSource(fctx, cfg, cfg.sinks, fw, resume, finished)
				if err != nil && !errors.Is(err, context.Canceled) {
					// This sink stops; the store and the other sinks go on.
					fw.NoteError("stopped forwarding: " + err.Error())
					ferrMu.Lock()
					forwardErr = fmt.Errorf("--forward %s: %w", fw.Name(), err)
					ferrMu.Unlock()
				}
			})
		}
	}
	st := store.New()
	if cfg.feed != nil {
		st = cfg.feed.st
	}
	changed := make(chan struct{}, 1)
	done := make(chan struct{})
	l := &Live{Store: st, Changed: changed, Done: done, Tail: tail}
	flushEvery := cfg.flush
	if flushEvery <= 0 {
		flushEvery = time.Second
	}
	stopFlush := make(chan struct{})
	flushed := make(chan error, 1)
	go func() { // the positions flusher
		tick := time.NewTicker(flushEvery)
		defer tick.Stop()
		var first error
		for {
			select {
			case <-tick.C:
				if pos != nil {
					pos.Set(tail.Acked())
					if finished != nil {
						pos.SetFinished(src, finished.Entries())
					}
					cfg.sinks.commitForwarded(pos)
					if err := pos.Flush(); err != nil {
						if first == nil {
							first = fmt.Errorf("saving positions in %s: %w", cfg.stateDir, err)
						}
						if h := pos.Health(); cfg.feed == nil && (h.Failures == 1 || h.Failures%60 == 0) {
							fmt.Fprintf(cfg.stderr(), "kaudit: error: cannot save positions in %s (%d attempts so far, retrying every %s): %v\n", cfg.stateDir, h.Failures, flushEvery, err)
						}
					} else if h := pos.Health(); cfg.feed == nil && h.Failures > 0 && h.LastSaved.After(h.LastFail) && h.LastSaved.Sub(h.LastFail) <= 2*flushEvery {
						fmt.Fprintf(cfg.stderr(), "kaudit: positions saved again in %s after %d failed attempts\n", cfg.stateDir, h.Failures)
					}
				}
				_ = cfg.sinks.saveStats()
			case <-stopFlush:
				flushed <- first
				return
			}
		}
	}()
	go func() { // the tail, and the store's single writer
		defer close(done)
		err := run(ctx, func(b ingest.Batch) error {
			from := store.ID(st.Len())
			st.Append(b.Events, b.Raw, b.Offsets)
			to := store.ID(st.Len())
			if cfg.onAppend != nil && to > from {
				if err := cfg.onAppend(st, from, to); err != nil {
					return err
				}
			}
			if cfg.maxEvents > 0 || cfg.maxBytes > 0 {
				st.Retain(cfg.maxEvents, cfg.maxBytes)
			}
			if cfg.feed != nil {
				cfg.feed.noted(b)
			}
			select {
			case changed <- struct{}{}:
			default:
			}
			return nil
		})
		stopForward() // the sinks' readers stop with the tail; then what they queued is drained
		fwg.Wait()
		cfg.sinks.close(cfg.stderr())
		close(stopFlush)
		ferr := <-flushed
		if pos != nil {
			pos.Set(tail.Acked())
			if finished != nil {
				pos.SetFinished(src, finished.Entries())
			}
			cfg.sinks.commitForwarded(pos)
			if err := pos.Flush(); err != nil && ferr == nil {
				ferr = fmt.Errorf("saving positions in %s: %w", cfg.stateDir, err)
			}
			pos.Close()
		}
		if errors.Is(err, context.Canceled) {
			err = nil
		}
		if err == nil {
			err = forwardErr
		}
		if err == nil {
			err = ferr
		}
		l.err = err
	}()
	return l, nil
}

func (c *liveConfig) stderr() io.Writer {
	if c.warn == nil {
		return io.Discard
	}
	return c.warn
}
