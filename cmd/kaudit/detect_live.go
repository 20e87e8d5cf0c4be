package main

import (
	"bufio"
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kaudit/kaudit/detect"
	"github.com/kaudit/kaudit/ingest"
	"github.com/kaudit/kaudit/pipeline"
	"github.com/kaudit/kaudit/query"
	"github.com/kaudit/kaudit/store"
	"github.com/kaudit/kaudit/views"
)

// liveDetectFlags are watch's and serve's detection flags: --detect-only
// streams hits (one JSON line each, as kaudit detect -o jsonl) instead of
// events.
type liveDetectFlags struct {
	only bool
	ui   bool // --detect: the terminal UI marks hits and lists them (D)
	df   detectFlags
}

func (f *liveDetectFlags) register(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.only, "detect-only", false, "print detection hits (one JSON line each: rule, severity, technique, auditID, event) instead of events; with -o jsonl")
	f.registerUI(cmd)
}

// registerUI registers --detect and the rule flags (replay has no
// --detect-only: kaudit detect is its headless form).
func (f *liveDetectFlags) registerUI(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVar(&f.ui, "detect", false, "run the detection rules as events arrive: the terminal UI marks hits ◆ and lists them by rule in the Detections tab (D); with --forward, forwarded records name the rules their event hit (kaudit.detections)")
	fl.StringArrayVar(&f.df.rulesDirs, "rules", nil, "with --detect or --detect-only: a directory of YAML rule files added to the built-in pack; repeatable")
	fl.StringArrayVar(&f.df.suppress, "suppress", nil, "with --detect or --detect-only: a filter whose events are never hits; repeatable")
	fl.StringVar(&f.df.minSev, "severity", "info", "with --detect or --detect-only: report only rules of at least this severity")
}

// check refuses --detect-only with the terminal UI, another format or
// --jq, and --detect with neither the UI nor --forward.
func (f *liveDetectFlags) check(ui bool, format string, sel *selection, forwarding bool) error {
	if f.only && (ui || format != "jsonl" || sel.jq != nil) {
		return usageError("--detect-only prints hits as JSON lines: it goes with -o jsonl, without --jq")
	}
	if f.ui && !ui && !forwarding {
		return usageError("--detect marks hits in the terminal UI (-o tui) and names them on forwarded records (--forward); without either use --detect-only")
	}
	return nil
}

// labels is what makes the forwarding readers' labelers (--detect or
// --detect-only with --forward): each gets an engine of its own, as
// threshold state belongs to one stream. nil without detection.
func (f *liveDetectFlags) labels() (func() pipeline.Labeler, error) {
	if !f.ui && !f.only {
		return nil, nil
	}
	set, err := f.df.rules()
	if err != nil {
		return nil, err
	}
	opts := detect.Options{Extra: f.df.suppress}
	if _, err := detect.NewEngine(set, opts); err != nil {
		return nil, usageError("%v", err)
	}
	return func() pipeline.Labeler {
		eng, _ := detect.NewEngine(set, opts) // checked above
		l := eng.Labeler()
		return func(ctx context.Context, b ingest.Batch) ([][]string, error) {
			return l.Label(ctx, b.Events, b.Raw, b.Offsets)
		}
	}, nil
}

// attachUI makes fd's writer evaluate the rules over each stored batch
// (with --detect) and hand the hits to the UI.
func (f *liveDetectFlags) attachUI(ctx context.Context, fd *feed) error {
	if !f.ui {
		return nil
	}
	set, err := f.df.rules()
	if err != nil {
		return err
	}
	eng, err := detect.NewEngine(set, detect.Options{Extra: f.df.suppress})
	if err != nil {
		return usageError("%v", err)
	}
	fd.detectWith(ctx, eng.Live(fd.st))
	return nil
}

// streamTo sets the pipeline's headless consumer: --detect-only's hits, or
// the kept events (jsonl, --jq) as they arrive. It reports whether the
// output streams (then nothing is printed at the end).
func (f *liveDetectFlags) streamTo(ctx context.Context, e *env, cfg *pipeline.Config, sel *selection, format string, view views.View) (bool, error) {
	switch {
	case f.only:
		if cfg.Store == nil {
			cfg.Store = store.New()
		}
		hook, err := f.onStored(ctx, e, cfg.Store, sel.filter)
		cfg.OnStored = hook
		return true, err
	case format == "jsonl" && view == views.ViewEvents:
		cfg.Print = newPrinter(e, sel)
		return true, nil
	}
	return false, nil
}

// onStored returns what the pipeline calls after each stored batch of st:
// it evaluates the new requests and prints their hits, flushed before the
// batch is acknowledged. It is called from the pipeline's writer only.
func (f *liveDetectFlags) onStored(ctx context.Context, e *env, st *store.Store, keep *query.Filter) (func(ingest.Batch), error) {
	set, err := f.df.rules()
	if err != nil {
		return nil, err
	}
	eng, err := detect.NewEngine(set, detect.Options{Extra: f.df.suppress})
	if err != nil {
		return nil, usageError("%v", err)
	}
	live := eng.Live(st)
	bw := bufio.NewWriter(e.stdout)
	failed := false
	return func(ingest.Batch) {
		hits, err := live.Eval(ctx, st)
		if err == nil && len(hits) > 0 {
			hits, err = keptHits(ctx, st, hits, keep)
		}
		if err == nil {
			err = detect.WriteJSONLines(bw, st, hits)
		}
		if err == nil {
			err = bw.Flush()
		}
		if err != nil && !failed {
			failed = true // said once: a broken rule or pipe fails every batch alike
			fmt.Fprintf(e.stderr, "kaudit: --detect-only: %v\n", err)
		}
	}, nil
}

// keptHits keeps the hits on events the filter keeps.
func keptHits(ctx context.Context, st *store.Store, hits []detect.Hit, keep *query.Filter) ([]detect.Hit, error) {
	ids := &store.Set{}
	for _, h := range hits {
		ids.Add(h.ID)
	}
	kept, err := keep.Eval(ctx, st, ids)
	if err != nil {
		return nil, err
	}
	out := hits[:0]
	for _, h := range hits {
		if kept.Contains(h.ID) {
			out = append(out, h)
		}
	}
	return out, nil
}
