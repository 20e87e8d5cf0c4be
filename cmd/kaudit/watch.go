package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kaudit/kaudit/ingest"
	"github.com/kaudit/kaudit/ingest/remote"
	"github.com/kaudit/kaudit/pipeline"
	"github.com/kaudit/kaudit/tui"
	"github.com/kaudit/kaudit/views"
)

// defaultWatchPath is where kube-apiserver's --audit-log-path usually points.
const defaultWatchPath = "/var/log/kubernetes/apiserver/audit.log"

// watchPoll is the tail's poll period (tests make it short).
var watchPoll = ingest.DefaultPoll

// uiHistory is what the terminal UI loads before following when --history
// is not given: the last hour, across rotated backups.
const uiHistory = "1h"

// discoverRoot is where watch with no path looks for the API server (tests
// point it at a fake root).
var discoverRoot = "/"

// watchFlags are kaudit watch's flags.
type watchFlags struct {
	out               outputFlags
	sel               filterFlags
	history, stateDir string
	historySet        bool // --history given: else the UI loads the last hour
	maxLine           int
	keep              retentionFlags
	noState           bool
	fwd               forwardFlags
	det               liveDetectFlags
	vl                vlogsFlags
}

func newWatchCmd(e *env) *cobra.Command {
	var wf watchFlags
	cmd := &cobra.Command{
		Use:   "watch [flags] [PATH | ssh://[user@]host[:port][/path]...]",
		Short: "Follow the API server's audit log live, through rotation, resuming where it stopped",
		Long: `watch follows a live audit log (default ` + defaultWatchPath + `; a
directory means its audit.log) the way kube-apiserver rotates it: renamed to
audit-<time>.log, a new audit.log created, backups gzipped. It loads history
first (--history), then follows until interrupted. PATH vlogs://HOST:PORT
(vlogs+https://) follows VictoriaLogs' live tail of what the fleet forwarded
(--history DURATION reads that far back first; no positions are kept).

Several ssh://[user@]host[:port][/path] arguments follow the hosts' logs
through the system ssh client (kaudit watch on the host if installed there,
else tail -F), merged live by time; a dropped session is reported and
resumed (see the README).

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
  kaudit watch ssh://cp1 ssh://cp2 ssh://cp3
  kaudit watch --history all -f 'user:alice' /var/log/kubernetes/apiserver/
  kaudit watch --history 2h -o jsonl audit.log
  kaudit watch --forward otlp+http://127.0.0.1:4318 --cluster-name prod -o jsonl >/dev/null
  DD_API_KEY=... kaudit watch --forward datadog://datadoghq.eu --forward otlp+https://otel.example:4318`,
		Args: watchArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			wf.historySet = cmd.Flags().Changed("history")
			if anyRemote(args) {
				return wf.run(cmd.Context(), e, args...)
			}
			var path string
			if len(args) == 1 {
				path = args[0]
			} else {
				d := discoverAudit(discoverRoot)
				path = d.log
				fmt.Fprintf(e.stderr, "kaudit: watching %s (%s)\n", path, d.how)
				if d.policy != "" && wf.out.policy == "" {
					wf.out.policy = d.policy
					fmt.Fprintf(e.stderr, "kaudit: audit policy %s (for P)\n", d.policy)
				}
			}
			wf.historySet = cmd.Flags().Changed("history")
			return wf.run(cmd.Context(), e, path)
		},
	}
	wf.register(cmd)
	return cmd
}

func (wf *watchFlags) register(cmd *cobra.Command) {
	wf.out.register(cmd)
	wf.sel.register(cmd)
	wf.fwd.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&wf.history, "history", "current", "what to load before following, when there is no saved position: current (the current file), all (every backup too), or a duration (backups rotated within it, e.g. 2h); the terminal UI keeps no position and loads 1h unless given")
	fl.StringVar(&wf.stateDir, "state-dir", ingest.DefaultStateDir(), "where positions are kept")
	fl.BoolVar(&wf.noState, "no-state", false, "neither read nor write positions")
	fl.IntVar(&wf.maxLine, "max-line", ingest.DefaultMaxLine, "longest line (bytes) kept; longer lines are skipped and reported")
	wf.keep.register(cmd)
	wf.det.register(cmd)
	wf.vl.register(cmd)
	_ = cmd.RegisterFlagCompletionFunc("history", cobra.FixedCompletions([]string{"current", "all", "1h", "24h"}, cobra.ShellCompDirectiveNoFileComp))
}

// run follows path (or several ssh:// hosts) until interrupted (or the
// TUI quits).
func (wf *watchFlags) run(ctx context.Context, e *env, paths ...string) error {
	view, selected, ui, format, err := wf.out.parse(e, &wf.sel)
	if err != nil {
		return err
	}
	if ui && !wf.historySet {
		wf.history = uiHistory
	}
	hist, err := parseHistory(wf.history)
	if err != nil {
		return err
	}
	stateDir := wf.stateDir
	if wf.noState {
		stateDir = ""
	}
	if err := wf.det.check(ui, format, selected, len(wf.fwd.urls) > 0); err != nil {
		return err
	}
	cfg, onProblem, path, release, err := wf.source(e, paths, selected, hist, stateDir, ui)
	if err != nil {
		return err
	}
	defer release()
	streaming := false
	if !ui {
		if streaming, err = wf.det.streamTo(ctx, e, &cfg, selected, format, view); err != nil {
			return err
		}
	} else if len(wf.fwd.urls) == 0 {
		// An interactive session never moves a headless agent's position
		// (they share the state dir as root): it starts from --history.
		// Forwarding keeps its positions: the sinks need them.
		cfg.StateDir = ""
	}
	if err := wf.keep.apply(&cfg, streaming); err != nil {
		return err
	}
	if cfg.Sinks, err = wf.fwd.open(stateDir, &wf.det); err != nil {
		return err
	}
	if wf.fwd.host != "" && cfg.SourceName != "" { // the local log: read on that host
		cfg.SourceName = wf.fwd.host
	}
	if ui {
		return wf.browse(ctx, e, cfg, path, onProblem, selected, view)
	}
	return wf.headless(ctx, e, cfg, onProblem, streaming, selected, view, format)
}

// browse follows cfg's source in the terminal UI.
func (wf *watchFlags) browse(ctx context.Context, e *env, cfg pipeline.Config, name string, onProblem func(func(ingest.Problem)), selected *selection, view views.View) error {
	pol, err := policyUI(wf.out.policy)
	if err != nil {
		cfg.Sinks.Close(io.Discard)
		return err
	}
	f := newLiveFeed(name, pol)
	if err := wf.det.attachUI(ctx, f); err != nil {
		cfg.Sinks.Close(io.Discard)
		return err
	}
	onProblem(f.problem)
	return runUI(ctx, e, f, cfg, selected, view)
}

// headless follows cfg's source until interrupted, streaming (jsonl, --jq,
// --detect-only) or printing the view at the end.
func (wf *watchFlags) headless(ctx context.Context, e *env, cfg pipeline.Config, onProblem func(func(ingest.Problem)), streaming bool, selected *selection, view views.View, format string) error {
	report := ingest.NewReporter(e.stderr, ingest.DefaultReportLimit)
	onProblem(report.Report)
	cfg.Errs = e.stderr
	p, err := pipeline.Start(ctx, cfg)
	if err != nil {
		return err
	}
	err = p.Wait()
	report.Close()
	if n := p.Store.Stats().Evicted; n > 0 && !streaming {
		fmt.Fprintf(e.stderr, "kaudit: the oldest %d events were dropped to stay within --max-events/--max-memory; the view covers the rest\n", n)
	}
	if err != nil || streaming {
		return err
	}
	return printView(context.Background(), e, p.Store, selected, view, format, wf.out.top)
}

// newPrinter is the headless printer of the events sel keeps (or of
// their --jq outputs).
func newPrinter(e *env, sel *selection) *pipeline.Printer {
	return &pipeline.Printer{Out: e.stdout, Errs: e.stderr, Filter: sel.filter, JQ: sel.jq}
}

// newLiveFeed is the terminal UI's feed of a live source.
func newLiveFeed(source string, pol tui.PolicyFunc) *feed {
	f := newFeed(source)
	f.policy = pol
	f.prog.Live = true
	return f
}

// source is what watch follows: the local log (with positions), a
// vlogs:// live tail or several ssh:// hosts (neither keeps positions
// here). onProblem routes the source's problem reports; name is what the
// UI calls it; release ends holding ssh warnings back while the UI is up.
func (wf *watchFlags) source(e *env, paths []string, selected *selection, hist ingest.History, stateDir string, ui bool) (cfg pipeline.Config, onProblem func(func(ingest.Problem)), name string, release func(), err error) {
	path := paths[0]
	tail := &ingest.Tail{Path: path, History: hist, MaxLine: wf.maxLine, Poll: watchPoll}
	cfg = pipeline.Config{Source: tail, StateDir: stateDir, Warn: e.stderr, SourceName: hostSource(path)}
	onProblem, release = func(f func(ingest.Problem)) { tail.OnProblem = f }, func() {}
	vt, err := wf.vl.follow(e, path, selected, hist)
	switch {
	case err != nil:
		return cfg, nil, "", nil, err
	case vt != nil:
		// VictoriaLogs' live tail keeps no position; each event's source
		// is the cluster/host that forwarded it.
		cfg.Source, cfg.StateDir, cfg.SourceName = vt, "", ""
		onProblem = func(f func(ingest.Problem)) { // the tail lost and back: the gap, said
			vt.OnGap = func(msg string) { f(ingest.Problem{Path: path, Kind: ingest.Unreadable, Msg: msg}) }
		}
	case anyRemote(paths):
		src, local, err := remoteSource(e, paths, true, wf.history, wf.maxLine)
		if err != nil {
			return cfg, nil, "", nil, err
		}
		if len(local) == 1 {
			// The local log merges with the hosts by time, named after
			// this host; like theirs, its position is not kept.
			tail.Path = local[0]
			src.Local = []remote.Local{{Name: hostSource(local[0]), Tail: tail}}
		}
		// Positions are the remote side's: a restart follows from --history again.
		cfg.Source, cfg.StateDir, cfg.SourceName = src, "", ""
		onProblem = func(f func(ingest.Problem)) { src.OnProblem = f }
		path = strings.Join(paths, " ")
		if ui {
			release = holdWarnings(e, src)
		}
	}
	return cfg, onProblem, path, release, nil
}

// runUI runs the terminal UI over a pipeline filling f's store until the
// user quits; quitting stops the pipeline. The source's problems must
// already go to f.problem.
func runUI(ctx context.Context, e *env, f *feed, cfg pipeline.Config, sel *selection, view views.View) error {
	cfg.Store, cfg.OnStored = f.st, f.noted
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	p, err := pipeline.Start(ctx, cfg)
	if err != nil {
		return err
	}
	f.watchHealth(p.PositionsHealth)
	if err := browse(ctx, e, f, sel.filter, view, cancel, p.Done); err != nil {
		return err
	}
	return p.Err()
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

// hostSource names the events of a followed log: this host, else the
// log's file name.
func hostSource(path string) string {
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return filepath.Base(path)
}
