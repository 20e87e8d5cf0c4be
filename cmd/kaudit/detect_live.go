package main

import (
	"bufio"
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kaudit/kaudit/detect"
	"github.com/kaudit/kaudit/ingest"
	"github.com/kaudit/kaudit/store"
)

// liveDetectFlags are watch's and serve's detection flags: --detect-only
// streams hits (one JSON line each, as kaudit detect -o jsonl) instead of
// events.
type liveDetectFlags struct {
	only bool
	df   detectFlags
}

func (f *liveDetectFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVar(&f.only, "detect-only", false, "print detection hits (one JSON line each: rule, severity, technique, auditID, event) instead of events; with -o jsonl")
	fl.StringArrayVar(&f.df.rulesDirs, "rules", nil, "with --detect-only: a directory of YAML rule files added to the built-in pack; repeatable")
	fl.StringArrayVar(&f.df.suppress, "suppress", nil, "with --detect-only: a filter whose events are never hits; repeatable")
	fl.StringVar(&f.df.minSev, "severity", "info", "with --detect-only: report only rules of at least this severity")
}

// onStored returns what the pipeline calls after each stored batch of st:
// it evaluates the new requests and prints their hits, flushed before the
// batch is acknowledged. It is called from the pipeline's writer only.
func (f *liveDetectFlags) onStored(ctx context.Context, e *env, st *store.Store) (func(ingest.Batch), error) {
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
