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
	var noState bool
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

With -o jsonl (the default when stdout is not a terminal) each kept event's
original bytes are printed as it arrives. -o table and -o json print the
chosen view of everything read when interrupted.`,
		Example: `  kaudit watch -o jsonl -f 'denied' | tee denials.jsonl
  kaudit watch --history all -f 'user:alice' /var/log/kubernetes/apiserver/
  kaudit watch --history 2h -o jsonl audit.log`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := defaultWatchPath
			if len(args) == 1 {
				path = args[0]
			}
			view, err := query.ParseView(out.view)
			if err != nil {
				return usageError("%v", err)
			}
			format, err := out.format(e)
			if err != nil {
				return err
			}
			if format == "table" && out.output == "" {
				// The terminal UI goes here once package tui is in; until
				// then a terminal gets the stream too.
				format = "jsonl"
			}
			hist, err := parseHistory(history)
			if err != nil {
				return err
			}
			selected, err := sel.compile()
			if err != nil {
				return err
			}
			if selected.jq != nil {
				return usageError("--jq is not supported by watch yet")
			}
			if noState {
				stateDir = ""
			}
			report := ingest.NewReporter(e.stderr, ingest.DefaultReportLimit)
			cfg := liveConfig{path: path, history: hist, stateDir: stateDir, maxLine: maxLine, poll: watchPoll, report: report.Report}
			ctx := cmd.Context()
			if format == "jsonl" && view == query.ViewEvents {
				bw := bufio.NewWriterSize(e.stdout, 1<<16)
				cfg.onAppend = func(st *store.Store, from, to store.ID) error {
					cand := &store.Set{}
					cand.AddRange(uint64(from), uint64(to))
					kept, err := selected.filter.Eval(context.WithoutCancel(ctx), st, cand)
					if err != nil {
						return err
					}
					if err := query.WriteRaw(bw, st, kept, false); err != nil {
						return err
					}
					return bw.Flush() // printed before acknowledged
				}
			}
			live, err := startLive(ctx, cfg)
			if err != nil {
				return err
			}
			<-live.Done
			if err := live.Err(); err != nil {
				return err
			}
			defer report.Close()
			if cfg.onAppend == nil {
				return printView(context.Background(), e, live.Store, selected, view, format, out.top)
			}
			return nil
		},
	}
	out.register(cmd)
	sel.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&history, "history", "current", "what to load before following, when there is no saved position: current (the current file), all (every backup too), or a duration (backups rotated within it, e.g. 2h)")
	fl.StringVar(&stateDir, "state-dir", ingest.DefaultStateDir(), "where positions are kept")
	fl.BoolVar(&noState, "no-state", false, "neither read nor write positions")
	fl.IntVar(&maxLine, "max-line", ingest.DefaultMaxLine, "longest line (bytes) kept; longer lines are skipped and reported")
	_ = cmd.RegisterFlagCompletionFunc("history", cobra.FixedCompletions([]string{"current", "all", "1h", "24h"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
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
