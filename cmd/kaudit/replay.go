package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/ingest"
	"github.com/kaudit/kaudit/ingest/remote"
	"github.com/kaudit/kaudit/pipeline"
	"github.com/kaudit/kaudit/query"
	"github.com/kaudit/kaudit/store"
	"github.com/kaudit/kaudit/tui"
	"github.com/kaudit/kaudit/views"
	"github.com/kaudit/kaudit/vlogs"
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
// tables fill while the pipeline loads the logs in the background.
func replayBrowse(ctx context.Context, e *env, r *ingest.Replay, sel *selection, view views.View, pol tui.PolicyFunc, det *liveDetectFlags, sinks *pipeline.Sinks) error {
	files, _ := ingest.ExpandPaths(r.Paths)
	f := newFeed(strings.Join(r.Paths, " "))
	f.policy = pol
	if err := det.attachUI(ctx, f); err != nil {
		sinks.Close(io.Discard)
		return err
	}
	f.prog.Loading = true
	for _, p := range files {
		if fi, err := os.Stat(p); err == nil && p != "-" {
			f.prog.TotalBytes += fi.Size()
		}
	}
	r.OnProblem = f.problem
	// What the sinks could not deliver is told once the screen is restored.
	var warn bytes.Buffer
	defer func() { e.stderr.Write(warn.Bytes()) }()
	return runUI(ctx, e, f, pipeline.Config{Source: pipeline.Replay(r), Sinks: sinks, Warn: &warn, SourceDone: f.finish}, sel, view)
}

// replayAll runs a pipeline over a replay to its end: what replay, rbac
// and policy read their logs with. An interruption is an error, and when
// no input could be read at all the problems are told at once. extra are
// options of the store it makes for a headless run (see projection).
func replayAll(ctx context.Context, cfg pipeline.Config, r *ingest.Replay, report *ingest.Reporter, extra ...store.Option) (*pipeline.Pipeline, error) {
	if src, ok := cfg.Source.(*remote.Source); ok {
		src.OnProblem = report.Report
	} else {
		r.OnProblem = report.Report
		cfg.Source = pipeline.Replay(r)
	}
	if cfg.Store == nil && cfg.Each == nil && lazyPostings {
		// Headless: a table of all requests never reads a postings list;
		// the first filter builds them (store.LazyPostings). The
		// request table is sized once for what the files hold, unless a
		// pre-filter (Keep) will leave most of it out.
		opts := []store.Option{store.LazyPostings()}
		if cfg.Keep == nil {
			opts = append(opts, store.ExpectEvents(inputBytes(r)/1100))
		}
		cfg.Store = store.New(append(opts, extra...)...)
		if onHeadlessStore != nil {
			onHeadlessStore(cfg.Store)
		}
	}
	p, err := pipeline.Run(ctx, cfg)
	if err == nil {
		err = ctx.Err()
	}
	if errors.Is(err, ingest.ErrNoInput) {
		report.Close()
	}
	return p, err
}

// inputBytes is the size of r's regular files (a generated or real audit
// event takes about 1,100 bytes of them): what store.ExpectEvents is told.
func inputBytes(r *ingest.Replay) int {
	paths := r.Paths
	if len(r.Sources) > 0 {
		paths = nil
		for _, src := range r.Sources {
			paths = append(paths, src.Paths...)
		}
	}
	n := int64(0)
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
	}
	return int(n)
}

// replayFlags are kaudit replay's flags.
type replayFlags struct {
	out      outputFlags
	sel      filterFlags
	strict   bool
	maxLine  int
	fwd      forwardFlags
	stateDir string
	vl       vlogsFlags
	sources  []string // --source NAME=PATH
	det      liveDetectFlags
}

func newReplayCmd(e *env) *cobra.Command {
	var rf replayFlags
	cmd := &cobra.Command{
		Use:   "replay [flags] PATH...",
		Short: "Answer from saved audit logs: files, .gz files, directories, or - for stdin",
		Long: `replay reads saved audit logs into an index and prints a view of them.

PATH is a file (plain or gzip), a directory (its audit*.log* files: rotated
backups oldest first, then the current audit.log; then the cloud exports in it:
*.json, *.jsonl, *.txt, *.gz, Firehose objects), - for standard input, or
vlogs://HOST:PORT (vlogs+https://) to read back what kaudit forwarded to
VictoriaLogs over OTLP (the time range and simple filter terms are pushed down).
ssh://[user@]host[:port][/dir] reads a directory on another host through the
system ssh client (your ssh config and agent; several hosts merge by time,
each event's source being its host).
Malformed, unrecognised or over-long input is reported on stderr with file and
line and skipped; the good events around it are kept.

With --forward every event read is also sent to each sink, in input order,
before replay prints and exits (reading waits while a sink holds
--forward-max-inflight bytes). Replay keeps no positions: it sends what it
reads, every time.

Several inputs are merged by stageTimestamp, each through a reorder window of
4096 events (the API server writes an event when its stage ends, so
overlapping requests come out slightly out of order). Every event carries its
source: NAME from --source NAME=PATH, else the directory's name (one directory
per host: cp1/ cp2/), else the file's name; filter on it with source:NAME.`,
		Example: `  kaudit replay /var/log/kubernetes/apiserver/
  kaudit replay ssh://cp1/var/log/kubernetes/apiserver/ ssh://admin@cp2:2222/var/log/kubernetes/apiserver/
  kaudit replay --view users --top 10 audit.log
  kaudit replay --view denials -o json audit-2026-11-25T10-00-00.000.log.gz audit.log
  zcat audit.log.gz | kaudit replay -o jsonl -
  kaudit replay -f 'user:alice verb:delete,patch ns:prod-*' --since 2h audit.log
  kaudit replay -f '.verb == "create" and .requestObject.spec.hostNetwork == true' -o jsonl audit.log
  kaudit replay -f 'code:403' --jq '[.user.username, .verb, .objectRef.resource]' audit.log
  kaudit replay --view sources cp1/ cp2/ cp3/
  kaudit replay --source east=/logs/a --source west=/logs/b -f source:east
  kaudit replay --since 1h --view denials vlogs://victorialogs:9428`,
		RunE: func(cmd *cobra.Command, paths []string) error {
			if len(paths) == 0 && len(rf.sources) == 0 {
				return usageError("replay: give at least one PATH or --source NAME=PATH")
			}
			return rf.run(cmd.Context(), e, paths)
		},
	}
	rf.out.register(cmd)
	cmd.Flags().Lookup("output").Usage = "output format: tui, table, jsonl or json (default: the terminal UI on a terminal, jsonl otherwise)"
	rf.sel.register(cmd)
	rf.fwd.register(cmd)
	rf.det.registerUI(cmd)
	rf.vl.register(cmd)
	cmd.Flags().StringVar(&rf.stateDir, "state-dir", ingest.DefaultStateDir(), "where --forward's counters and dead-letter files are kept")
	cmd.Flags().BoolVar(&rf.strict, "strict", false, "exit with status 3 when any input was skipped")
	cmd.Flags().StringArrayVar(&rf.sources, "source", nil, "read PATH as the source NAME (NAME=PATH, repeatable); other PATHs are named after their directory or file")
	cmd.Flags().IntVar(&rf.maxLine, "max-line", ingest.DefaultMaxLine, "longest line (bytes) kept; longer lines are skipped and reported")
	return cmd
}

// run reads paths and prints the view (or opens the TUI over them).
func (rf *replayFlags) run(ctx context.Context, e *env, paths []string) error {
	view, selected, ui, format, err := rf.out.parse(e, &rf.sel)
	if err != nil {
		return err
	}
	// Headless, --detect goes with rule:NAME terms (which imply the pack
	// anyway: see packHits) as it does with --forward.
	if err := rf.det.check(ui, format, selected, len(rf.fwd.urls) > 0 || usesRuleTerm(selected)); err != nil {
		return err
	}
	var pol tui.PolicyFunc
	if ui {
		if pol, err = policyUI(rf.out.policy); err != nil {
			return err
		}
	}
	r, err := rf.replayer(e, paths)
	if err != nil {
		return err
	}
	sinks, err := rf.fwd.open(rf.stateDir, &rf.det)
	if err != nil {
		return err
	}
	vl, err := rf.vl.source(e, paths, selected)
	if err == nil && vl != nil && len(rf.sources) > 0 {
		err = usageError("a vlogs:// address is read alone, not with --source")
	}
	if err != nil {
		sinks.Close(e.stderr)
		return err
	}
	if ui && vl != nil {
		return rf.browseVlogs(ctx, e, vl, paths[0], selected, view, pol, sinks)
	}
	cfg := pipeline.Config{Sinks: sinks, Warn: e.stderr}
	if anyRemote(paths) {
		src, local, err := remoteSource(e, paths, false, "", rf.maxLine)
		if err != nil {
			sinks.Close(io.Discard)
			return err
		}
		if len(local) > 0 || len(r.Sources) > 0 {
			// The local paths merge with the hosts by time, each named
			// as a local replay names them.
			r.Paths = local
			src.Local = []remote.Local{{Name: "local", Replay: r}}
		}
		if ui {
			return remoteBrowse(ctx, e, src, paths, selected, view, pol, &rf.det, sinks)
		}
		cfg.Source = src
	}
	if ui {
		return replayBrowse(ctx, e, r, selected, view, pol, &rf.det, sinks)
	}
	if prefilterStore && len(rf.fwd.urls) == 0 && !rf.det.ui && view == views.ViewEvents && format != "table" {
		// Only the filter's events are printed and nothing else reads the
		// store: the events the filter cannot keep are not stored.
		cfg.Keep, cfg.Skim = selected.filter.RawPrefilter(), selected.filter.RawSkimmer()
	}
	return rf.print(ctx, e, cfg, r, vl, selected, view, format)
}

// prefilterStore: headless replay of the events view leaves out of the
// store the events its filter's raw pre-filter rules out (tests turn it
// off to compare).
var prefilterStore = true

// lazyPostings: headless runs to the end of their input build the store's
// postings only when a filter first needs them (tests turn it off to
// compare).
var lazyPostings = true

// replayer is the reader of paths, with the --source names.
func (rf *replayFlags) replayer(e *env, paths []string) (*ingest.Replay, error) {
	r := &ingest.Replay{Paths: paths, Stdin: e.stdin, MaxLine: rf.maxLine}
	for _, v := range rf.sources {
		src, ok := ingest.ParseSource(v)
		if !ok {
			return nil, usageError("--source %q: want NAME=PATH", v)
		}
		r.Sources = append(r.Sources, src)
	}
	return r, nil
}

// browseVlogs opens the terminal UI over what VictoriaLogs answers.
func (rf *replayFlags) browseVlogs(ctx context.Context, e *env, vl *vlogs.Source, name string, selected *selection, view views.View, pol tui.PolicyFunc, sinks *pipeline.Sinks) error {
	vl.Progress = nil // the terminal UI shows its own
	f := newFeed(name)
	f.policy, f.prog.Loading = pol, true
	if err := rf.det.attachUI(ctx, f); err != nil {
		sinks.Close(io.Discard)
		return err
	}
	return runUI(ctx, e, f, pipeline.Config{Source: vl, Sinks: sinks, SourceDone: f.finish}, selected, view)
}

// print loads everything (from vl when reading VictoriaLogs back, else
// through r or cfg's own source), then prints the view or --jq's outputs.
func (rf *replayFlags) print(ctx context.Context, e *env, cfg pipeline.Config, r *ingest.Replay, vl *vlogs.Source, selected *selection, view views.View, format string) error {
	report := ingest.NewReporter(e.stderr, ingest.DefaultReportLimit)
	var p *pipeline.Pipeline
	var err, partial error // partial: a partial VictoriaLogs answer; the view is printed, then the error
	var late int
	if vl != nil {
		p, err = replayVlogs(ctx, vl, cfg)
		if errors.Is(err, vlogs.ErrPartial) {
			partial, err = err, nil
		}
	} else {
		r.OnLate = func(*audit.Event) { late++ }
		var extra []store.Option
		if proj := rf.projection(view, format, selected); proj != nil {
			extra = append(extra, proj)
		}
		p, err = replayAll(ctx, cfg, r, report, extra...)
	}
	if late > 0 {
		fmt.Fprintf(e.stderr, "kaudit: %d events came more than %d events out of time order in their input; all were kept, and the views place them by their own time\n", late, ingest.DefaultWindow)
	}
	if err == nil && p.Undelivered() > 0 {
		err = fmt.Errorf("--forward: %d events not delivered", p.Undelivered())
	}
	if err != nil {
		return err
	}
	pack := &packHits{ctx: ctx, st: p.Store, df: &rf.det.df}
	ctx = query.WithFlagged(ctx, pack) // rule:NAME terms, as in the UI with --detect
	if selected.jq != nil {
		err = selected.printJQ(ctx, e, p.Store, rf.out.top)
	} else {
		err = printView(ctx, e, p.Store, selected, view, format, rf.out.top)
	}
	if pack.err != nil {
		return pack.err
	}
	if err != nil {
		return err
	}
	if partial != nil {
		return partial
	}
	return closeReport(report, rf.strict)
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
