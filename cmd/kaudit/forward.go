package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/kaudit/kaudit/forward"
	"github.com/kaudit/kaudit/ingest"
	"github.com/kaudit/kaudit/units"
)

// forwardFlags are --forward and its companions (watch, replay).
type forwardFlags struct {
	urls        []string
	cluster     string
	apiKeyFile  string
	endpoint    string
	caFile      string
	maxInflight string
	drain       time.Duration
	strip       bool
	tags        []string
}

func (ff *forwardFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringArrayVar(&ff.urls, "forward", nil, "send every event upstream, at least once and in order: otlp+http://HOST:PORT, otlp+https://HOST:PORT or datadog://SITE (repeatable; each sink independent)")
	fl.StringVar(&ff.cluster, "cluster-name", "", "the cluster's name on forwarded events (k8s.cluster.name, kube_cluster_name)")
	fl.StringVar(&ff.apiKeyFile, "api-key-file", "", "file holding the Datadog API key (default: $DD_API_KEY)")
	fl.StringVar(&ff.endpoint, "forward-endpoint", "", "URL datadog:// sinks post to instead of the site's intake (a proxy, a test intake)")
	fl.StringVar(&ff.caFile, "forward-ca-file", "", "PEM file of the CAs that https receivers' certificates must chain to (default: the system's)")
	fl.StringVar(&ff.maxInflight, "forward-max-inflight", "16MiB", "per sink, the most event bytes queued or in flight; reading for that sink pauses beyond it")
	fl.DurationVar(&ff.drain, "forward-drain", 10*time.Second, "on stop, how long to wait for in-flight events to be acknowledged")
	fl.BoolVar(&ff.strip, "forward-strip-response", false, "datadog: send events over 1 MB without their responseObject")
	fl.StringArrayVar(&ff.tags, "forward-tag", nil, "datadog: an extra tag (key:value; repeatable)")
}

// sinks are the open forwarders of one command.
//
// Goroutines: any (the forwarders guard themselves); saveStats is called
// by the positions flusher and at stop.
type sinks struct {
	list     []*forward.Forwarder
	ident    forward.Identity
	drain    time.Duration
	stateDir string // where the counters are saved and dead letters go ("" : nowhere)
}

// open starts one forwarder per --forward URL; nil if there is none.
func (ff *forwardFlags) open(stateDir string) (*sinks, error) {
	if len(ff.urls) == 0 {
		return nil, nil
	}
	max, err := units.ParseBytes(ff.maxInflight)
	if err != nil || max <= 0 {
		return nil, usageError("--forward-max-inflight %q: want a size such as 16MiB", ff.maxInflight)
	}
	host, _ := os.Hostname()
	key := os.Getenv("DD_API_KEY")
	if ff.apiKeyFile != "" {
		b, err := os.ReadFile(ff.apiKeyFile)
		if err != nil {
			return nil, fmt.Errorf("--api-key-file: %v", err)
		}
		key = strings.TrimSpace(string(b))
	}
	s := &sinks{ident: forward.Identity{Cluster: ff.cluster, Host: host}, drain: ff.drain, stateDir: stateDir}
	for _, u := range ff.urls {
		cfg := forward.Config{Identity: s.ident, APIKey: key, Endpoint: ff.endpoint, Tags: ff.tags, StripResponse: ff.strip,
			CAFile: ff.caFile, MaxInflight: max}
		if stateDir != "" {
			cfg.DeadLetter = filepath.Join(stateDir, "deadletter-"+fileSafe(u)+".jsonl")
			if err := os.MkdirAll(stateDir, 0o700); err != nil {
				return nil, err
			}
		}
		fw, err := forward.New(u, cfg)
		if err != nil {
			s.close(io.Discard)
			return nil, usageError("%v", err)
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
func (s *sinks) saveStats() error {
	if s == nil || s.stateDir == "" {
		return nil
	}
	st := make([]forward.Stats, len(s.list))
	for i, fw := range s.list {
		st[i] = fw.Stats()
	}
	return forward.SaveStats(s.stateDir, st)
}

// close drains every sink (at most s.drain, together), reports on w what
// was left undelivered and saves the counters. It returns the events left.
func (s *sinks) close(w io.Writer) int64 {
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

// forwardSource is one sink's own reader of the followed log: a Tail of
// its own, resuming from the sink's checkpoint, whose emit blocks while the
// sink is full. So a slow or unreachable receiver pauses reading for that
// sink only — the audit log itself is the buffer — while the store, the
// terminal UI and the other sinks go on. Each batch is queued with the
// checkpoint just after it; the positions flusher saves the sink's
// Committed checkpoint, never the reader's.
//
// known is the main reader's record of the files it finished: with it the
// sink's reader counts the events of a file deleted before it was read.
func forwardSource(ctx context.Context, cfg liveConfig, s *sinks, fw *forward.Forwarder, resume *ingest.Checkpoint, known *ingest.FileLog) error {
	tail := &ingest.Tail{Path: cfg.path, History: cfg.history, MaxLine: cfg.maxLine, Poll: cfg.poll, Resume: resume, Known: known,
		OnProblem: func(p ingest.Problem) {
			// Bad lines are the store's reader's to report; what only this
			// sink missed (a backup deleted before it was sent) is reported here.
			if p.Kind != ingest.Unreadable && p.Kind != ingest.Truncated {
				return
			}
			p.Msg = "--forward " + fw.Name() + ": " + p.Msg
			fw.NoteError(p.String())
			fw.NoteLost(p.Lost)
			if cfg.report != nil {
				cfg.report(p)
			}
		}}
	var held io.ReaderAt
	release := func() {
		if r, ok := held.(interface{ Release() }); ok {
			r.Release()
		}
	}
	defer release()
	return tail.Run(ctx, func(b ingest.Batch) error {
		if b.Raw != held { // the tail moved to another file: it is done with the one before
			release()
			held = b.Raw
		}
		cp := tail.Emitting()
		cp.Sink = fw.Name()
		return fw.Enqueue(ctx, s.ident.Records(b.Events, time.Now()), cp)
	})
}

// commitForwarded hands each sink's committed checkpoint to pos.
func (s *sinks) commitForwarded(pos *ingest.Positions) {
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

// forwardBatch queues one batch on every sink, waiting while a sink is full.
// replay calls it per batch read; kaudit serve can call it per webhook
// batch (and sinks.close at stop). There are no positions to commit:
// Enqueue gets nil, and what is queued is delivered unless the process dies
// first (a caller that must not answer before delivery waits for each
// sink's Committed to reach a pos of its own).
func forwardBatch(ctx context.Context, s *sinks, b ingest.Batch) error {
	if s == nil || len(b.Events) == 0 {
		return nil
	}
	recs := s.ident.Records(b.Events, time.Now())
	for _, fw := range s.list {
		if err := fw.Enqueue(ctx, recs, nil); err != nil {
			return fmt.Errorf("--forward %s: %w", fw.Name(), err)
		}
	}
	return nil
}
