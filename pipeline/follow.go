package pipeline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"time"

	"github.com/kaudit/kaudit/forward"
	"github.com/kaudit/kaudit/ingest"
)

// follow is what a pipeline keeps for a followed log (a Source that is an
// *ingest.Tail): its positions, the files its reader finished, and one
// reader per sink.
//
// Goroutines: built before the writer starts; save is called by the
// flusher and, after it stopped, once more by the pipeline's goroutine
// (Positions and FileLog guard themselves).
type follow struct {
	tail     *ingest.Tail
	template ingest.Tail       // the main reader's settings, copied before it runs (Run writes some of them)
	src      string            // the log's absolute path: its positions key
	pos      *ingest.Positions // nil: no state dir
	finished *ingest.FileLog   // the files the main reader finished, for the sinks' readers
	name     string            // Config.SourceName: the source of the forwarded events
}

// newFollow prepares tail to resume from the positions in stateDir ("":
// none).
func newFollow(tail *ingest.Tail, stateDir string) (*follow, error) {
	src, err := filepath.Abs(tail.Path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tail.Path, err)
	}
	f := &follow{tail: tail, src: src,
		template: ingest.Tail{Path: tail.Path, History: tail.History, MaxLine: tail.MaxLine, Poll: tail.Poll, OnProblem: tail.OnProblem}}
	if stateDir != "" {
		if f.pos, err = ingest.OpenPositions(stateDir); err != nil {
			return nil, err
		}
		if cp, ok := f.pos.Get(src); ok {
			tail.Resume = &cp
		}
	}
	// Kept across restarts in the positions file: with it the sinks'
	// readers count what was deleted before they read it.
	if f.pos != nil {
		f.finished = ingest.NewFileLog(f.pos.Finished(src))
	} else {
		f.finished = ingest.NewFileLog(nil)
	}
	tail.Finished = f.finished
	return f, nil
}

// save writes the main reader's position, the finished files and the
// sinks' committed checkpoints.
func (f *follow) save(sinks *Sinks) error {
	if f.pos == nil {
		return nil
	}
	f.pos.Set(f.tail.Acked())
	f.pos.SetFinished(f.src, f.finished.Entries())
	sinks.commitForwarded(f.pos)
	if err := f.pos.Flush(); err != nil {
		return fmt.Errorf("saving positions: %w", err)
	}
	return nil
}

// tellHealth says on warn that saving positions fails, or works again.
func (f *follow) tellHealth(err error, every time.Duration, warn io.Writer) {
	if f.pos == nil || warn == nil {
		return
	}
	h := f.pos.Health()
	switch {
	case err != nil && (h.Failures == 1 || h.Failures%60 == 0):
		fmt.Fprintf(warn, "kaudit: error: cannot save positions (%d attempts so far, retrying every %s): %s\n", h.Failures, every, h.LastError)
	case err == nil && h.Failures > 0 && !h.LastSaved.IsZero() && h.LastSaved.Sub(h.LastFail) <= 2*every:
		fmt.Fprintf(warn, "kaudit: positions saved again after %d failed attempts\n", h.Failures)
	}
}

// flushLoop saves every period until stop is closed, and the sinks'
// counters with it; it returns the first error.
// A failing save is said on warn at once (and every minute while it
// lasts), retried every period, and said again when it works again.
func (f *follow) flushLoop(every time.Duration, sinks *Sinks, warn io.Writer, stop <-chan struct{}) error {
	tick := time.NewTicker(every)
	defer tick.Stop()
	var first error
	for {
		select {
		case <-tick.C:
			err := f.save(sinks)
			if err != nil && first == nil {
				first = err
			}
			f.tellHealth(err, every, warn)
			_ = sinks.saveStats()
		case <-stop:
			return first
		}
	}
}

// startReaders starts one reader per sink, each from the sink's own
// checkpoint; wait returns the first reason one stopped (nil when they
// were only cancelled).
func (f *follow) startReaders(ctx context.Context, sinks *Sinks) (wait func() error) {
	if sinks == nil {
		return func() error { return nil }
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for _, fw := range sinks.list {
		var resume *ingest.Checkpoint
		if f.pos != nil {
			if cp, ok := f.pos.Get(ingest.Checkpoint{Source: f.src, Sink: fw.Name()}.Key()); ok {
				resume = &cp
			}
		}
		wg.Go(func() {
			err := f.forward(ctx, sinks, fw, resume)
			if err != nil && !errors.Is(err, context.Canceled) {
				// This sink stops; the store and the other sinks go on.
				fw.NoteError("stopped forwarding: " + err.Error())
				mu.Lock()
				first = cmp.Or(first, fmt.Errorf("--forward %s: %w", fw.Name(), err))
				mu.Unlock()
			}
		})
	}
	return func() error { wg.Wait(); return first }
}

// forward is one sink's own reader of the followed log: a Tail of its
// own, resuming from the sink's checkpoint, whose emit blocks while the
// sink is full. So a slow or unreachable receiver pauses reading for that
// sink only — the audit log itself is the buffer — while the store, the
// terminal UI and the other sinks go on. Each batch is queued with the
// checkpoint just after it; the flusher saves the sink's Committed
// checkpoint, never the reader's.
func (f *follow) forward(ctx context.Context, sinks *Sinks, fw *forward.Forwarder, resume *ingest.Checkpoint) error {
	main := &f.template
	tail := &ingest.Tail{Path: main.Path, History: main.History, MaxLine: main.MaxLine, Poll: main.Poll, Resume: resume, Known: f.finished,
		OnProblem: func(p ingest.Problem) {
			// Bad lines are the main reader's to report; what only this
			// sink missed (a backup deleted before it was sent) is reported here.
			if p.Kind != ingest.Unreadable && p.Kind != ingest.Truncated {
				return
			}
			p.Msg = "--forward " + fw.Name() + ": " + p.Msg
			fw.NoteError(p.String())
			fw.NoteLost(p.Lost)
			if main.OnProblem != nil {
				main.OnProblem(p)
			}
		}}
	var held io.ReaderAt
	release := func() {
		if r, ok := held.(interface{ Release() }); ok {
			r.Release()
		}
	}
	defer release()
	var label Labeler
	if sinks.labels != nil {
		label = sinks.labels() // this reader's own (see Labeler)
	}
	return tail.Run(ctx, func(b ingest.Batch) error {
		if b.Raw != held { // the tail moved to another file: it is done with the one before
			release()
			held = b.Raw
		}
		cp := tail.Emitting()
		cp.Sink = fw.Name()
		nameSource(b.Events, f.name)
		return fw.Enqueue(ctx, sinks.records(ctx, label, b, fw), cp)
	})
}
