package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kaudit/kaudit/ingest"
	"github.com/kaudit/kaudit/store"
	"github.com/kaudit/kaudit/tui"
	"github.com/kaudit/kaudit/views"
)

// outputFlags are the flags every command that prints tables shares.
type outputFlags struct {
	output string
	view   string
	top    int
	policy string // --policy: what P simulates in the terminal UI
}

func (o *outputFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&o.output, "output", "o", "", "output format: table, jsonl or json (default: table on a terminal, jsonl otherwise)")
	cmd.Flags().StringVar(&o.view, "view", "events", "what to show: "+joinViews())
	cmd.Flags().IntVar(&o.top, "top", 0, "show at most N rows (0: all)")
	cmd.Flags().StringVar(&o.policy, "policy", "", "an audit policy file: in the terminal UI, P shows what it would log for the filtered requests")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"table", "jsonl", "json"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("view", cobra.FixedCompletions(viewNames(), cobra.ShellCompDirectiveNoFileComp))
}

func viewNames() []string {
	names := make([]string, len(views.Views))
	for i, v := range views.Views {
		names[i] = string(v)
	}
	return names
}

func joinViews() string { return strings.Join(viewNames(), ", ") }

// replayBrowse is replay on a terminal: the TUI opens at once and the
// tables fill while a writer goroutine loads the logs in the background.
func replayBrowse(ctx context.Context, e *env, paths []string, maxLine int, sel *selection, view views.View, pol tui.PolicyFunc, sinks *sinks) error {
	files, _ := ingest.ExpandPaths(paths)
	f := newFeed(strings.Join(paths, " "))
	f.policy = pol
	f.prog.Loading = true
	for _, p := range files {
		if fi, err := os.Stat(p); err == nil && p != "-" {
			f.prog.TotalBytes += fi.Size()
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	var runErr error
	go func() {
		defer close(done)
		defer f.finish()
		r := &ingest.Replay{Paths: paths, Stdin: e.stdin, MaxLine: maxLine, OnProblem: f.problem}
		_, runErr = r.Run(ctx, func(b ingest.Batch) error {
			f.append(b)
			return forwardBatch(ctx, sinks, b)
		})
	}()
	defer sinks.close(e.stderr)
	if err := browse(ctx, e, f, sel.filter, view, cancel, done); err != nil {
		return err
	}
	if runErr != nil && !errors.Is(runErr, context.Canceled) {
		return runErr
	}
	return nil
}

func newReplayCmd(e *env) *cobra.Command {
	var out outputFlags
	var sel filterFlags
	var strict bool
	var maxLine int
	var fwd forwardFlags
	var stateDir string
	cmd := &cobra.Command{
		Use:   "replay [flags] PATH...",
		Short: "Answer from saved audit logs: files, .gz files, directories, or - for stdin",
		Long: `replay reads saved audit logs into an index and prints a view of them.

PATH is a file (plain or gzip), a directory (its audit*.log* files: rotated
backups oldest first, then the current audit.log), or - for standard input.
Malformed, unrecognised or over-long input is reported on stderr with file and
line and skipped; the good events around it are kept.

With --forward every event read is also sent to each sink, in input order,
before replay prints and exits (reading waits while a sink holds
--forward-max-inflight bytes). Replay keeps no positions: it sends what it
reads, every time.`,
		Example: `  kaudit replay /var/log/kubernetes/apiserver/
  kaudit replay --view users --top 10 audit.log
  kaudit replay --view denials -o json audit-2026-11-25T10-00-00.000.log.gz audit.log
  zcat audit.log.gz | kaudit replay -o jsonl -
  kaudit replay -f 'user:alice verb:delete,patch ns:prod-*' --since 2h audit.log
  kaudit replay -f '.verb == "create" and .requestObject.spec.hostNetwork == true' -o jsonl audit.log
  kaudit replay -f 'code:403' --jq '[.user.username, .verb, .objectRef.resource]' audit.log`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, paths []string) error {
			view, selected, ui, format, err := out.parse(e, &sel)
			if err != nil {
				return err
			}
			if ui {
				pol, err := policyUI(out.policy)
				if err != nil {
					return err
				}
				sinks, err := fwd.open(stateDir)
				if err != nil {
					return err
				}
				return replayBrowse(cmd.Context(), e, paths, maxLine, selected, view, pol, sinks)
			}
			sinks, err := fwd.open(stateDir)
			if err != nil {
				return err
			}
			st := store.New()
			report := ingest.NewReporter(e.stderr, ingest.DefaultReportLimit)
			r := &ingest.Replay{Paths: paths, Stdin: e.stdin, MaxLine: maxLine, OnProblem: report.Report}
			_, err = r.Run(cmd.Context(), func(b ingest.Batch) error {
				st.Append(b.Events, b.Raw, b.Offsets)
				return forwardBatch(cmd.Context(), sinks, b)
			})
			if left := sinks.close(e.stderr); left > 0 && err == nil {
				err = fmt.Errorf("--forward: %d events not delivered", left)
			}
			if err != nil {
				if errors.Is(err, ingest.ErrNoInput) {
					report.Close()
				}
				return err
			}
			if selected.jq != nil {
				err = selected.printJQ(cmd.Context(), e, st, out.top)
			} else {
				err = printView(cmd.Context(), e, st, selected, view, format, out.top)
			}
			if err != nil {
				return err
			}
			return closeReport(report, strict)
		},
	}
	out.register(cmd)
	cmd.Flags().Lookup("output").Usage = "output format: tui, table, jsonl or json (default: the terminal UI on a terminal, jsonl otherwise)"
	sel.register(cmd)
	fwd.register(cmd)
	cmd.Flags().StringVar(&stateDir, "state-dir", ingest.DefaultStateDir(), "where --forward's counters and dead-letter files are kept")
	cmd.Flags().BoolVar(&strict, "strict", false, "exit with status 3 when any input was skipped")
	cmd.Flags().IntVar(&maxLine, "max-line", ingest.DefaultMaxLine, "longest line (bytes) kept; longer lines are skipped and reported")
	return cmd
}

// closeReport prints the input-problem summary, if there were problems;
// with --strict they make the exit code 3.
func closeReport(report *ingest.Reporter, strict bool) error {
	if report.Total() == 0 {
		return nil
	}
	report.Close()
	if strict {
		return &exitCodeError{code: exitProblems, err: fmt.Errorf("--strict: %d input problems", report.Total())}
	}
	return nil
}

// parse reads what replay, watch and serve share: the view, the compiled
// filter flags, and whether the terminal UI opens (else the output format).
func (o *outputFlags) parse(e *env, sel *filterFlags) (view views.View, selected *selection, ui bool, format string, err error) {
	if view, err = views.ParseView(o.view); err != nil {
		return view, nil, false, "", usageError("%v", err)
	}
	if selected, err = sel.compile(); err != nil {
		return view, nil, false, "", err
	}
	ui, format, err = o.mode(e, sel.jq != "", view)
	return view, selected, ui, format, err
}

// mode decides between the terminal UI and printed output: the UI with -o
// tui, or on a terminal with neither -o nor --jq; otherwise the -o format
// (--jq on a terminal prints its outputs as jsonl would). --jq goes with
// the events view and jsonl output only.
func (o *outputFlags) mode(e *env, jq bool, view views.View) (ui bool, format string, err error) {
	if o.output == "tui" || o.output == "" && !jq && isTerminal(e.stdout) {
		switch {
		case !isTerminal(e.stdout):
			return false, "", usageError("-o tui needs a terminal")
		case jq:
			return false, "", usageError("--jq prints each event's outputs: it goes with jsonl output, not the terminal UI")
		}
		return true, "tui", nil
	}
	if format, err = o.format(e); err != nil {
		return false, "", err
	}
	if jq && o.output == "" {
		format = "jsonl"
	}
	if jq && (format != "jsonl" || view != views.ViewEvents) {
		return false, "", usageError("--jq prints each event's outputs: it goes with the events view and jsonl output only")
	}
	return false, format, nil
}

// format resolves -o: a terminal gets a table, a pipe JSON lines.
func (o *outputFlags) format(e *env) (string, error) {
	switch o.output {
	case "":
		if isTerminal(e.stdout) {
			return "table", nil
		}
		return "jsonl", nil
	case "table", "jsonl", "json":
		return o.output, nil
	}
	return "", usageError("unknown output format %q (want table, jsonl or json)", o.output)
}

// printView writes view v of the events sel keeps. The events view in jsonl
// and json prints every kept event's original bytes (every stage); the
// tables count each request once.
func printView(ctx context.Context, e *env, st *store.Store, sel *selection, v views.View, format string, top int) error {
	if v == views.ViewEvents && format != "table" {
		events, err := sel.events(ctx, e, st)
		if err != nil {
			return err
		}
		limitTop(events, top)
		return views.WriteRaw(e.stdout, st, events, format == "json")
	}
	requests, err := sel.requests(ctx, e, st)
	if err != nil {
		return err
	}
	t, err := views.Build(st, requests, v, top)
	if err != nil {
		return err
	}
	switch format {
	case "json":
		return views.WriteJSON(e.stdout, t)
	case "jsonl":
		return views.WriteJSONLines(e.stdout, t)
	}
	return views.WriteText(e.stdout, t)
}
