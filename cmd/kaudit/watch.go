package main

import (
	"bufio"
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kaudit/kaudit/ingest"
	"github.com/kaudit/kaudit/query"
	"github.com/kaudit/kaudit/store"
	"github.com/kaudit/kaudit/tui"
	"github.com/kaudit/kaudit/views"
)

// defaultWatchPath is where kube-apiserver's --audit-log-path usually points.
const defaultWatchPath = "/var/log/kubernetes/apiserver/audit.log"

// watchPoll is the tail's poll period (tests make it short).
var watchPoll = ingest.DefaultPoll

func newWatchCmd(e *env) *cobra.Command {
	var out outputFlags
	var sel filterFlags
	var history, stateDir string
	var maxLine int
	var keep retentionFlags
	var noState bool
	var fwd forwardFlags
	cmd := &cobra.Command{
		Use:   "watch [flags] [PATH]",
		Short: "Follow the API server's audit log live, through rotation, resuming where it stopped",
		Long: `watch follows a live audit log (default ` + defaultWatchPath + `; a
directory means its audit.log) the way kube-apiserver rotates it: renamed to
audit-<time>.log, a new audit.log created, backups gzipped. It loads history
first (--history), then follows until interrupted.

Where it stopped is kept in --state-dir (positions.json): a restart resumes
there, reading the rotated backups it missed (plain or gzipped), so that each
event is printed once across restarts. After a crash (kill -9) the events
handed on since the last positions flush (at most about one second's worth)
come again.

With --forward each sink gets every event at least once, in file order:
a reader of its own follows the log from the sink's own position, which is
saved only once the receiver acknowledged everything before it. A slow or
unreachable receiver pauses that reader (the log is the buffer; at most
--forward-max-inflight bytes are held per sink) while the store, the terminal
UI and the other sinks go on. On interrupt the sinks get --forward-drain to
acknowledge what is in flight; kaudit status shows their counters.

On a terminal it opens the terminal UI over the live store. With -o jsonl
(the default when stdout is not a terminal) each kept event's original bytes
are printed as it arrives — the headless agent mode; --jq prints a jq
program's outputs instead. -o table and -o json print the chosen view of
what is kept when interrupted.

Memory stays bounded: the oldest events are dropped, in whole chunks of
65536, beyond --max-events or --max-memory (the store's own estimate of its
index). Headless jsonl output keeps only the last 4 chunks by default: it
needs them only to recognise an event it was given twice.`,
		Example: `  kaudit watch -o jsonl -f 'denied' | tee denials.jsonl
  kaudit watch --history all -f 'user:alice' /var/log/kubernetes/apiserver/
  kaudit watch --history 2h -o jsonl audit.log
  kaudit watch --forward otlp+http://127.0.0.1:4318 --cluster-name prod -o jsonl >/dev/null
  DD_API_KEY=... kaudit watch --forward datadog://datadoghq.eu --forward otlp+https://otel.example:4318`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := defaultWatchPath
			if len(args) == 1 {
				path = args[0]
			}
			view, selected, ui, format, err := out.parse(e, &sel)
			if err != nil {
				return err
			}
			hist, err := parseHistory(history)
			if err != nil {
				return err
			}
			if noState {
				stateDir = ""
			}
			streaming := !ui && format == "jsonl" && view == views.ViewEvents
			cfg := liveConfig{path: path, history: hist, stateDir: stateDir, maxLine: maxLine, poll: watchPoll}
			if err := keep.apply(&cfg, streaming); err != nil {
				return err
			}
			sinks, err := fwd.open(stateDir)
			if err != nil {
				return err
			}
			cfg.sinks, cfg.warn = sinks, e.stderr
			ctx := cmd.Context()
			if ui {
				pol, err := policyUI(out.policy)
				if err != nil {
					return err
				}
				return watchUI(ctx, e, cfg, path, selected, view, pol)
			}
			report := ingest.NewReporter(e.stderr, ingest.DefaultReportLimit)
			cfg.report = report.Report
			if streaming {
				cfg.onAppend = streamEvents(ctx, e, selected)
			}
			live, err := startLive(ctx, cfg)
			if err != nil {
				return err
			}
			<-live.Done
			report.Close()
			if n := live.Store.Stats().Evicted; n > 0 && !streaming {
				fmt.Fprintf(e.stderr, "kaudit: the oldest %d events were dropped to stay within --max-events/--max-memory; the view covers the rest\n", n)
			}
			if err := live.Err(); err != nil {
				return err
			}
			if !streaming {
				return printView(context.Background(), e, live.Store, selected, view, format, out.top)
			}
			return nil
		},
	}
	out.register(cmd)
	sel.register(cmd)
	fwd.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&history, "history", "current", "what to load before following, when there is no saved position: current (the current file), all (every backup too), or a duration (backups rotated within it, e.g. 2h)")
	fl.StringVar(&stateDir, "state-dir", ingest.DefaultStateDir(), "where positions are kept")
	fl.BoolVar(&noState, "no-state", false, "neither read nor write positions")
	fl.IntVar(&maxLine, "max-line", ingest.DefaultMaxLine, "longest line (bytes) kept; longer lines are skipped and reported")
	keep.register(cmd)
	_ = cmd.RegisterFlagCompletionFunc("history", cobra.FixedCompletions([]string{"current", "all", "1h", "24h"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// streamEvents prints each batch's kept events (or their --jq outputs) and
// flushes before returning, which acknowledges the batch: an event is
// printed before its position can be saved.
func streamEvents(ctx context.Context, e *env, sel *selection) func(st *store.Store, from, to store.ID) error {
	bw := bufio.NewWriterSize(e.stdout, 1<<16)
	jqErrors := 0
	return func(st *store.Store, from, to store.ID) error {
		cand := &store.Set{}
		cand.AddRange(uint64(from), uint64(to))
		kept, err := sel.filter.Eval(context.WithoutCancel(ctx), st, cand)
		if err != nil {
			return err
		}
		if sel.jq != nil {
			err = query.WriteJQ(context.WithoutCancel(ctx), bw, st, kept, sel.jq, func(ee *query.EventError) {
				if jqErrors++; jqErrors <= ingest.DefaultReportLimit {
					fmt.Fprintf(e.stderr, "kaudit: --jq: %v\n", ee)
				}
			})
		} else {
			err = views.WriteRaw(bw, st, kept, false)
		}
		if err != nil {
			return err
		}
		return bw.Flush()
	}
}

// watchUI runs the terminal UI over the live store until the user quits.
func watchUI(ctx context.Context, e *env, cfg liveConfig, source string, sel *selection, view views.View, pol tui.PolicyFunc) error {
	f := newFeed(source)
	f.policy = pol
	f.prog.Live = true
	cfg.feed, cfg.report = f, f.problem
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	live, err := startLive(ctx, cfg)
	if err != nil {
		return err
	}
	if err := browse(ctx, e, f, sel.filter, view, cancel, live.Done); err != nil {
		return err
	}
	return live.Err()
}

// parseHistory reads --history.
func parseHistory(s string) (ingest.History, error) {
	switch strings.ToLower(s) {
	case "", "current":
		return ingest.History{}, nil
	case "all":
		return ingest.History{All: true}, nil
	}
	d, err := parseDuration(s)
	if err != nil || d <= 0 {
		return ingest.History{}, usageError("--history %q: want current, all or a duration (2h, 7d)", s)
	}
	return ingest.History{Since: timeNow().Add(-d)}, nil
}

func absPath(p string) (string, error) {
	a, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("%s: %w", p, err)
	}
	return a, nil
}
