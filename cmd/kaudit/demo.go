package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/natefinch/lumberjack.v2"

	"github.com/kaudit/kaudit/gen"
	"github.com/kaudit/kaudit/ingest"
	"github.com/kaudit/kaudit/pipeline"
	"github.com/kaudit/kaudit/query"
	"github.com/kaudit/kaudit/views"
)

// demoFlags are kaudit demo's flags.
type demoFlags struct {
	rate                     float64
	seed                     uint64
	filter, view, policyFile string
	rotateMB                 int
}

func newDemoCmd(e *env) *cobra.Command {
	var df demoFlags
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "The terminal UI over a simulated cluster's live audit stream (no files, no cluster)",
		Long: `demo opens kaudit's terminal UI over a built-in generator of realistic audit
events — controllers, kubelets, operators and people, with RBAC denials, server
errors and slow requests — arriving in real time at --rate events per second.
They are written to an audit log in a temporary directory, rotated and
gzipped as kube-apiserver does it, and followed as kaudit watch follows one.`,
		Example: `  kaudit demo
  kaudit demo --rate 5000 -f 'denied'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return df.run(cmd.Context(), e) },
	}
	cmd.Flags().Float64Var(&df.rate, "rate", 200, "events per second")
	cmd.Flags().Uint64Var(&df.seed, "seed", 1, "selects the simulated cluster and its event sequence")
	cmd.Flags().StringVarP(&df.filter, "filter", "f", "", "initial filter (as in replay)")
	cmd.Flags().StringVar(&df.view, "view", "events", "initial tab: "+joinViews())
	cmd.Flags().StringVar(&df.policyFile, "policy", "", "an audit policy file: P shows what it would log for the filtered requests")
	cmd.Flags().IntVar(&df.rotateMB, "rotate-mb", 1, "the simulated API server rotates its log at this size (--audit-log-maxsize)")
	return cmd
}

// run opens the terminal UI over the simulated cluster until the user quits.
func (df *demoFlags) run(ctx context.Context, e *env) error {
	if df.rate <= 0 || df.rate > 1e6 {
		return usageError("--rate must be between 0 and 1000000 events per second")
	}
	if df.rotateMB < 1 {
		return usageError("--rotate-mb must be at least 1")
	}
	v, err := views.ParseView(df.view)
	if err != nil {
		return usageError("%v", err)
	}
	flt, err := query.Compile(df.filter)
	if err != nil {
		return usageError("--filter: %v", err)
	}
	if !isTerminal(e.stdout) {
		return usageError("demo is interactive: run it on a terminal")
	}
	pol, err := policyUI(df.policyFile)
	if err != nil {
		return err
	}
	// The simulated API server writes a real audit log, rotated and
	// gzipped by lumberjack as kube-apiserver does it, and the demo
	// follows it exactly as kaudit watch would.
	dir, err := os.MkdirTemp("", "kaudit-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	log := &lumberjack.Logger{Filename: filepath.Join(dir, ingest.CurrentName), MaxSize: df.rotateMB, MaxBackups: 3, Compress: true}
	defer log.Close()
	g := gen.New(gen.Config{Seed: df.seed, Start: time.Now().UTC(), EventsPerSecond: df.rate})
	f := newLiveFeed(fmt.Sprintf("demo %g ev/s", df.rate), pol)
	// The simulated API server writes beside the tail and stops first.
	cfg := pipeline.Config{Source: &ingest.Tail{Path: dir, Poll: watchPoll, OnProblem: f.problem}, MaxBytes: 1 << 30,
		Front: func(ctx context.Context) error {
			if err := writeDemoLog(ctx, g, log); err != nil {
				return fmt.Errorf("demo log: %w", err)
			}
			return nil
		}}
	return runUI(ctx, e, f, cfg, &selection{filter: flt}, v)
}

// demoTick is how often the simulated API server writes: its audit
// backend buffers events the same way.
const demoTick = 50 * time.Millisecond

// writeDemoLog writes the generator's events to w as their time comes,
// until ctx ends.
func writeDemoLog(ctx context.Context, g *gen.Generator, w io.Writer) error {
	t := time.NewTicker(demoTick)
	defer t.Stop()
	return writeDue(ctx, g, w, t.C)
}

// demoBurst caps the events one tick writes, so that a demo far behind its
// clock catches up in steps.
const demoBurst = 8192

// writeDue writes, at each tick, the generator's events up to the tick's
// time (at most demoBurst), until ctx ends.
func writeDue(ctx context.Context, g *gen.Generator, w io.Writer, ticks <-chan time.Time) error {
	var buf []byte
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-ticks:
			buf = buf[:0]
			for n := 0; g.Time().Before(now) && n < demoBurst; n++ {
				buf = g.Next(buf)
			}
			if len(buf) > 0 {
				if _, err := w.Write(buf); err != nil {
					return err
				}
			}
		}
	}
}
