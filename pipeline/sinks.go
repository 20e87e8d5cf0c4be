package pipeline

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/kaudit/kaudit/forward"
	"github.com/kaudit/kaudit/ingest"
)

// SinkConfig is what the forwarders of one command share.
type SinkConfig struct {
	URLs          []string // one sink per URL (forward.New)
	Identity      forward.Identity
	APIKey        string // Datadog
	Endpoint      string // datadog:// sinks post here instead of the site's intake
	CAFile        string
	Tags          []string
	StripResponse bool
	MaxInflight   int64         // per sink, event bytes queued or in flight
	Workers       int           // per sink, requests in flight at once (0: forward's default)
	Drain         time.Duration // at stop, how long the sinks get to deliver what they hold
	StateDir      string        // counters and dead letters ("": nowhere)
	// Labels, if set (--detect), makes a Labeler for each reader of
	// records: the forwarded records name the rules their event hit.
	Labels func() Labeler
}

// Labeler names, for each event of a batch, the detection rules it hit
// (nil for none): what a forwarded record carries as kaudit.detections.
// A labeler keeps state across the batches it is given (threshold rules,
// a request's earlier stages), so each reader of a stream has its own.
//
// Why the readers evaluate the rules themselves rather than take the
// writer's hits (joined by auditID): a sink's reader is paced by its
// receiver, not by the writer. It may be hours behind (the receiver was
// down; the log is the buffer) or ahead of the writer, so a join would
// have to keep every hit until the slowest sink passed it, or make
// readers wait on the writer. Labelling what it reads, before queueing,
// keeps each reader on its own: a batch's records are complete when they
// are queued with the checkpoint just after them, so ordered
// acknowledgement and at-least-once delivery are unchanged (a resent batch
// is labelled again, the same way for plain rules). The cost is one
// evaluation of the pack per sink, batch by batch: about 4.5 µs of CPU per
// event, some 220k events per CPU-second (detect's BenchmarkLabeler).
type Labeler func(ctx context.Context, b ingest.Batch) ([][]string, error)

// URLError is a sink URL (or its options) that forward.New refused: the
// user's mistake, not a runtime failure.
type URLError struct{ Err error }

func (e *URLError) Error() string { return e.Err.Error() }
func (e *URLError) Unwrap() error { return e.Err }

// Sinks are the open forwarders of one command.
//
// Goroutines: any (the forwarders guard themselves); saveStats is called
// by the positions flusher and at stop.
type Sinks struct {
	list     []*forward.Forwarder
	ident    forward.Identity
	drain    time.Duration
	stateDir string
	labels   func() Labeler // nil: records carry no detections
	writer   Labeler        // the writer's, for forwardBatch (made at first use)
}

// OpenSinks starts one forwarder per URL; nil if there is none.
func OpenSinks(c SinkConfig) (*Sinks, error) {
	if len(c.URLs) == 0 {
		return nil, nil
	}
	if c.StateDir != "" {
		if err := os.MkdirAll(c.StateDir, 0o700); err != nil {
			return nil, err
		}
	}
	s := &Sinks{ident: c.Identity, drain: c.Drain, stateDir: c.StateDir, labels: c.Labels}
	for _, u := range c.URLs {
		cfg := forward.Config{Identity: c.Identity, APIKey: c.APIKey, Endpoint: c.Endpoint, Tags: c.Tags, StripResponse: c.StripResponse,
			CAFile: c.CAFile, MaxInflight: c.MaxInflight, Workers: c.Workers}
		if c.StateDir != "" {
			cfg.DeadLetter = filepath.Join(c.StateDir, "deadletter-"+fileSafe(u)+".jsonl")
		}
		fw, err := forward.New(u, cfg)
		if err != nil {
			s.Close(io.Discard)
			return nil, &URLError{err}
		}
		s.list = append(s.list, fw)
	}
	return s, nil
}

// fileSafe turns a URL into a file name part.
func fileSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '_'
	}, s)
}

// saveStats writes every sink's counters for kaudit status.
func (s *Sinks) saveStats() error {
	if s == nil || s.stateDir == "" {
		return nil
	}
	st := make([]forward.Stats, len(s.list))
	for i, fw := range s.list {
		st[i] = fw.Stats()
	}
	return forward.SaveStats(s.stateDir, st)
}

// Close drains every sink (at most the configured Drain, together),
// reports on w what was left undelivered and saves the counters. It
// returns the events left. A pipeline closes its sinks itself.
func (s *Sinks) Close(w io.Writer) int64 {
	if s == nil {
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.drain)
	defer cancel()
	var mu sync.Mutex
	var left int64
	var wg sync.WaitGroup
	for _, fw := range s.list {
		wg.Go(func() {
			n := fw.Close(ctx)
			mu.Lock()
			left += n
			mu.Unlock()
			if n > 0 {
				fmt.Fprintf(w, "kaudit: --forward %s: %d events not acknowledged within --forward-drain %v (%s); a restart sends them again\n",
					fw.Name(), n, s.drain, fw.Stats().LastError)
			}
		})
	}
	wg.Wait()
	_ = s.saveStats()
	return left
}

// commitForwarded hands each sink's committed checkpoint to pos.
func (s *Sinks) commitForwarded(pos *ingest.Positions) {
	if s == nil || pos == nil {
		return
	}
	for _, fw := range s.list {
		if c, ok := fw.Committed(); ok {
			if cp, ok := c.(ingest.Checkpoint); ok {
				pos.Set(cp)
			}
		}
	}
}

// forwardBatch queues one batch on every sink, waiting while a sink is
// full: the writer does it for sources that are not a followed log (a
// replay, the webhook in memory). There are no positions to commit:
// Enqueue gets nil, and what is queued is delivered unless the process
// dies first.
func (s *Sinks) forwardBatch(ctx context.Context, b ingest.Batch) error {
	if s == nil || len(b.Events) == 0 {
		return nil
	}
	if s.labels != nil && s.writer == nil {
		s.writer = s.labels()
	}
	recs := s.records(ctx, s.writer, b, s.list...)
	for _, fw := range s.list {
		if err := fw.Enqueue(ctx, recs, nil); err != nil {
			return fmt.Errorf("--forward %s: %w", fw.Name(), err)
		}
	}
	return nil
}

// records turns a batch into records, naming on each the rules its event
// hit when label is set. A failed evaluation (a rule's jq over its
// budget) is noted on the sinks and the records go without detections:
// delivery does not depend on the rules.
func (s *Sinks) records(ctx context.Context, label Labeler, b ingest.Batch, note ...*forward.Forwarder) []forward.Record {
	recs := s.ident.Records(b.Events, time.Now())
	if label == nil {
		return recs
	}
	names, err := label(ctx, b)
	if err != nil {
		for _, fw := range note {
			fw.NoteError("--detect: records sent without detections: " + err.Error())
		}
		return recs
	}
	for i := range recs {
		recs[i].Detections = names[i]
	}
	return recs
}
