package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/kaudit/kaudit/ingest"
	"github.com/kaudit/kaudit/pipeline"
	"github.com/kaudit/kaudit/store"
	"github.com/kaudit/kaudit/tui"
	"github.com/kaudit/kaudit/views"
	"github.com/kaudit/kaudit/webhook"
)

// serveFlags are kaudit serve's own flags.
type serveFlags struct {
	listen, tlsCert, tlsKey, clientCA, tokenFile, spool, stateDir string
	sourceName                                                    string // --source: the received events' source
	names                                                         []string
	noState                                                       bool
	maxBody                                                       int64
	maxBuffered                                                   int64
	maxRequests, queue                                            int
	readTimeout, writeTimeout, idleTimeout, headerTimeout         time.Duration
	policy                                                        tui.PolicyFunc // from --policy, for the UI's P
	fwd                                                           forwardFlags
	det                                                           liveDetectFlags
}

// statsEvery is how often serve writes its counters for kaudit status.
var statsEvery = time.Second

// newServeStore, when set (tests only), makes the store of a serve
// without the terminal UI: a test lowers its ID space (store.IDSpace) to
// make it rebase after a few hundred events (store/rebase.go).
var newServeStore func() *store.Store

func newServeCmd(e *env) *cobra.Command {
	var out outputFlags
	var sel filterFlags
	var sf serveFlags
	var keep retentionFlags
	cmd := &cobra.Command{
		Use:   "serve [flags]",
		Short: "Receive the API server's audit webhook (--audit-webhook-config-file), authenticated",
		Long: `serve is an audit webhook receiver: point kube-apiserver's
--audit-webhook-config-file (a kubeconfig) at it. It takes POSTed
audit.k8s.io/v1 or v1beta1 EventList bodies (or a single Event), gzipped or
not, in batch or blocking webhook mode, and shows them like watch: the
terminal UI on a terminal, each kept event's original bytes with -o jsonl.

Authentication: TLS (--tls-cert/--tls-key) with client certificates
verified against --client-ca (optionally only the names given with
--client-name, matched against the CN and SANs) and/or a bearer token
(--token-file). serve refuses to listen on a non-loopback address without
TLS and one of the two. Unauthenticated requests get 401 and are counted.

No silent loss: 200 is answered only for events taken (handed on, or with
--spool written to DIR/webhook.log and fsynced, then followed like a log
file with positions in --state-dir, so a crash after the 200 loses
nothing); a body over --max-body (also after gzip) gets 413, a malformed
one 400 with the reason, and when kaudit is behind, or all requests hold
--max-buffered bytes, it answers 429 so the API server retries. EventList
items that are not audit events are refused before the answer and named
in it (index and reason); the others are taken.
Events are identified by (auditID, stage, stageTimestamp): a retried batch
is stored once. The received events' source is "webhook" (--source NAME
names it otherwise, e.g. the cluster), which source:NAME, the jq source
helper and forwarded records' kaudit.source see. /healthz answers ok to probes. The counters (received,
rejected by reason, last sender) are written to --state-dir every second
for kaudit status.`,
		Example: `  kaudit serve --listen 127.0.0.1:9443 -o jsonl
  kaudit serve --listen :9443 --tls-cert tls.crt --tls-key tls.key --client-ca ca.crt --client-name kube-apiserver
  kaudit serve --listen :9443 --tls-cert tls.crt --tls-key tls.key --token-file token --spool /var/lib/kaudit/spool -o jsonl -f denied`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			view, selected, useTUI, format, err := out.parse(e, &sel)
			if err != nil {
				return err
			}
			if err := sf.det.check(useTUI, format, selected, len(sf.fwd.urls) > 0); err != nil {
				return err
			}
			if useTUI {
				if sf.policy, err = policyUI(out.policy); err != nil {
					return err
				}
			}
			return serve(cmd.Context(), e, &sf, &keep, selected, view, format, out.top)
		},
	}
	out.register(cmd)
	cmd.Flags().Lookup("output").Usage = "output format: tui, table, jsonl or json (default: the terminal UI on a terminal, jsonl otherwise)"
	sel.register(cmd)
	sf.register(cmd)
	keep.register(cmd)
	sf.fwd.register(cmd)
	sf.det.register(cmd)
	return cmd
}

func (sf *serveFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&sf.listen, "listen", "127.0.0.1:9443", "address to listen on (host:port); a non-loopback host needs TLS and --client-ca or --token-file")
	fl.StringVar(&sf.tlsCert, "tls-cert", "", "serving certificate (PEM)")
	fl.StringVar(&sf.tlsKey, "tls-key", "", "serving certificate's key (PEM)")
	fl.StringVar(&sf.clientCA, "client-ca", "", "require client certificates signed by this CA (PEM)")
	fl.StringSliceVar(&sf.names, "client-name", nil, "with --client-ca: accept only certificates with this CN or SAN (repeatable)")
	fl.StringVar(&sf.tokenFile, "token-file", "", "require 'Authorization: Bearer TOKEN' with the token in this file")
	fl.StringVar(&sf.sourceName, "source", webhook.SourceName, "the source name of the received events (source:NAME, the SOURCE column, forwarded kaudit.source)")
	fl.StringVar(&sf.spool, "spool", "", "append received events to DIR/webhook.log and fsync before answering 200, then follow it (positions in --state-dir)")
	fl.StringVar(&sf.stateDir, "state-dir", ingest.DefaultStateDir(), "where the receiver's counters (and the spool's positions) are kept")
	fl.BoolVar(&sf.noState, "no-state", false, "neither read nor write the state dir")
	fl.Int64Var(&sf.maxBody, "max-body", webhook.DefaultMaxBody, "largest request body (bytes, also after gzip decompression); larger ones get 413")
	fl.Int64Var(&sf.maxBuffered, "max-buffered", webhook.DefaultMaxBuffered, "request body bytes (decompressed) held by all requests together; beyond it 429 (at least 2 × --max-body)")
	fl.IntVar(&sf.maxRequests, "max-requests", webhook.DefaultMaxRequests, "requests handled at once; more get 429")
	fl.IntVar(&sf.queue, "queue", webhook.DefaultQueue, "request bodies waiting to be stored; when full for 1 s, 429")
	fl.DurationVar(&sf.headerTimeout, "read-header-timeout", 10*time.Second, "time to read a request's headers")
	fl.DurationVar(&sf.readTimeout, "read-timeout", time.Minute, "time to read a whole request, body included")
	fl.DurationVar(&sf.writeTimeout, "write-timeout", 90*time.Second, "time from the end of the request headers to the end of the answer")
	fl.DurationVar(&sf.idleTimeout, "idle-timeout", 2*time.Minute, "how long an idle keep-alive connection stays open")
}

// check validates the flags' combination.
func (sf *serveFlags) check() error {
	if (sf.tlsCert == "") != (sf.tlsKey == "") {
		return usageError("--tls-cert and --tls-key go together")
	}
	tlsOn := sf.tlsCert != ""
	if sf.clientCA != "" && !tlsOn {
		return usageError("--client-ca needs --tls-cert and --tls-key")
	}
	if len(sf.names) > 0 && sf.clientCA == "" {
		return usageError("--client-name needs --client-ca")
	}
	if sf.tokenFile != "" && !tlsOn && !webhook.Loopback(sf.listen) {
		return usageError("--token-file without TLS would send the token in the clear")
	}
	if !webhook.Loopback(sf.listen) && (!tlsOn || sf.clientCA == "" && sf.tokenFile == "") {
		return usageError("refusing to listen on %s (not loopback) without TLS and --client-ca or --token-file", sf.listen)
	}
	if sf.sourceName == "" {
		return usageError("--source needs a name")
	}
	if sf.maxBody <= 0 || sf.maxRequests <= 0 || sf.queue <= 0 {
		return usageError("--max-body, --max-requests and --queue must be positive")
	}
	sf.maxBuffered = max(sf.maxBuffered, 2*sf.maxBody+2) // a body at the limit must fit while its buffer grows
	return nil
}

// serve runs the receiver until interrupted (or the TUI quits).
func serve(ctx context.Context, e *env, sf *serveFlags, keep *retentionFlags, sel *selection, view views.View, format string, top int) error {
	if err := sf.check(); err != nil {
		return err
	}
	stateDir := sf.stateDir
	if sf.noState {
		stateDir = ""
	}
	logTo := e.stderr
	if format == "tui" {
		logTo = io.Discard
	}
	srv, err := webhook.NewServer(sf.config(stateDir, logTo))
	if err != nil {
		return usageError("%v", err)
	}
	ln, err := net.Listen("tcp", sf.listen)
	if err != nil {
		return err
	}
	defer ln.Close() // Serve closes it; this is for the errors before
	url := srv.URL(ln)
	f, report, closeReport := sf.problems(e, format, url)
	defer closeReport()
	cfg, closeSpool, err := sf.source(e, srv, stateDir, report)
	if err != nil {
		return err
	}
	defer closeSpool()
	cfg.SourceName = sf.sourceName
	if newServeStore != nil && f == nil {
		cfg.Store = newServeStore()
	}
	cfg.Front = func(ctx context.Context) error { return srv.Serve(ctx, ln) }
	streaming := false
	if f == nil {
		streaming, err = sf.det.streamTo(ctx, e, &cfg, sel, format, view)
	} else {
		err = sf.det.attachUI(ctx, f)
	}
	if err == nil {
		err = keep.apply(&cfg, streaming)
	}
	if err != nil {
		cfg.Sinks.Close(io.Discard)
		return err
	}
	if f != nil {
		return runUI(ctx, e, f, cfg, sel, view)
	}
	cfg.Errs = e.stderr
	p, err := pipeline.Start(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "kaudit serve: listening on %s\n", url)
	if err := p.Wait(); err != nil || streaming {
		return err
	}
	return printView(context.Background(), e, p.Store, sel, view, format, top)
}

// problems is where bad requests and bad spool lines go: the terminal
// UI's feed (f), or warnings on stderr (summed up by closeReport).
func (sf *serveFlags) problems(e *env, format, url string) (f *feed, report func(ingest.Problem), closeReport func()) {
	if format == "tui" {
		f = newLiveFeed("webhook "+url, sf.policy)
		return f, f.problem, func() {}
	}
	r := ingest.NewReporter(e.stderr, ingest.DefaultReportLimit)
	return nil, r.Report, func() { r.Close() }
}

// source is the pipeline's source: the spool file followed like a log
// (with positions and --forward), or the receiver itself. report hears of
// bad requests and bad spool lines.
func (sf *serveFlags) source(e *env, srv *webhook.Server, stateDir string, report func(ingest.Problem)) (cfg pipeline.Config, closeSpool func(), err error) {
	srv.Receiver.OnProblem = report
	// Forwarding goes through the spool: each sink follows it with its own
	// position, so nothing answered with 200 is lost to a crash.
	spool := sf.spool
	if len(sf.fwd.urls) > 0 && spool == "" {
		if stateDir == "" {
			return cfg, nil, usageError("--forward on serve keeps a spool: give --spool DIR or a state dir")
		}
		spool = filepath.Join(stateDir, "spool")
	}
	if spool == "" {
		return pipeline.Config{Source: srv.Receiver}, func() {}, nil
	}
	sp, err := webhook.OpenSpoolFile(spool)
	if err != nil {
		return cfg, nil, fmt.Errorf("--spool: %v", err)
	}
	if n := sp.Trimmed(); n > 0 {
		fmt.Fprintf(e.stderr, "kaudit: warning: %s: cut off a torn last line of %d bytes (a write interrupted by a crash or a full disk; it was never acknowledged)\n", sp.Path(), n)
	}
	srv.Receiver.Spool = sp
	// A spool line is one event of a body taken: it can be as long as the body.
	tail := &ingest.Tail{Path: sp.Path(), MaxLine: int(max(sf.maxBody, ingest.DefaultMaxLine)), Poll: watchPoll, OnProblem: report}
	cfg = pipeline.Config{Source: tail, StateDir: stateDir, Warn: e.stderr}
	if cfg.Sinks, err = sf.fwd.open(stateDir, &sf.det); err != nil {
		sp.Close()
		return cfg, nil, err
	}
	return cfg, func() { sp.Close() }, nil
}

// config is the receiver's configuration from the flags.
func (sf *serveFlags) config(stateDir string, logTo io.Writer) webhook.Config {
	return webhook.Config{
		CertFile: sf.tlsCert, KeyFile: sf.tlsKey, ClientCA: sf.clientCA, ClientNames: sf.names, TokenFile: sf.tokenFile,
		MaxBody: sf.maxBody, MaxBuffered: sf.maxBuffered, MaxRequests: sf.maxRequests, Queue: sf.queue,
		ReadHeaderTimeout: sf.headerTimeout, ReadTimeout: sf.readTimeout, WriteTimeout: sf.writeTimeout, IdleTimeout: sf.idleTimeout,
		StateDir: stateDir, StatsEvery: statsEvery, Log: logTo,
	}
}
