package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/gen"
	"github.com/kaudit/kaudit/ingest"
	"github.com/kaudit/kaudit/query"
)

func newDemoCmd(e *env) *cobra.Command {
	var rate float64
	var seed uint64
	var filter, view string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "The terminal UI over a simulated cluster's live audit stream (no files, no cluster)",
		Long: `demo opens kaudit's terminal UI over a built-in generator of realistic audit
events — controllers, kubelets, operators and people, with RBAC denials, server
errors and slow requests — arriving in real time at --rate events per second.`,
		Example: `  kaudit demo
  kaudit demo --rate 5000 -f 'denied'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if rate <= 0 || rate > 1e6 {
				return usageError("--rate must be between 0 and 1000000 events per second")
			}
			v, err := query.ParseView(view)
			if err != nil {
				return usageError("%v", err)
			}
			flt, err := query.Compile(filter)
			if err != nil {
				return usageError("--filter: %v", err)
			}
			if !isTerminal(e.stdout) {
				return usageError("demo is interactive: run it on a terminal")
			}
			f := newFeed(fmt.Sprintf("demo (seed %d, %g ev/s)", seed, rate))
			f.prog.Live = true
			ctx, cancel := context.WithCancel(cmd.Context())
			defer cancel()
			done := make(chan struct{})
			g := gen.New(gen.Config{Seed: seed, Start: time.Now().UTC(), EventsPerSecond: rate})
			go func() {
				defer close(done)
				runDemo(ctx, g, f)
			}()
			return browse(ctx, e, f, flt, v, cancel, done)
		},
	}
	cmd.Flags().Float64Var(&rate, "rate", 200, "events per second")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "selects the simulated cluster and its event sequence")
	cmd.Flags().StringVarP(&filter, "filter", "f", "", "initial filter (as in replay)")
	cmd.Flags().StringVar(&view, "view", "events", "initial tab: "+joinViews())
	return cmd
}

// demoTick is how often the demo writer hands a batch to the store: the
// same ≤ 50 ms batching as the ingest sources (DESIGN.md §2).
const demoTick = 50 * time.Millisecond

// runDemo is the demo's writer goroutine: every tick it generates the
// events whose time has come, keeps their bytes in a spool (the store reads
// them back for the detail view) and appends them as one batch.
func runDemo(ctx context.Context, g *gen.Generator, f *feed) {
	spool := ingest.NewSpool()
	defer spool.Close()
	t := time.NewTicker(demoTick)
	defer t.Stop()
	var line []byte
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			var b ingest.Batch
			b.Raw = spool
			for g.Time().Before(now) && len(b.Events) < 8192 {
				line = g.Next(line[:0])
				at := spool.Size()
				if _, err := spool.Write(line); err != nil {
					return
				}
				// Decode a private copy: Events alias the bytes they came from.
				own := append([]byte(nil), line...)
				k := len(b.Events)
				var err error
				if b.Events, err = audit.Decode(own, b.Events); err != nil {
					f.problem(ingest.Problem{Path: "demo", Kind: ingest.Malformed, Msg: err.Error()})
					continue
				}
				for _, ev := range b.Events[k:] {
					b.Offsets = append(b.Offsets, at+int64(cap(own)-cap(ev.Raw)))
				}
			}
			if len(b.Events) > 0 {
				b.Pos = ingest.Position{Path: "demo", Offset: spool.Size()}
				f.append(b)
			}
		}
	}
}
