package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kaudit/kaudit/ingest"
	"github.com/kaudit/kaudit/pipeline"
	"github.com/kaudit/kaudit/vlogs"
)

// vlogsFlags are the read side of a VictoriaLogs address: which
// clusters and hosts, and how to authenticate.
type vlogsFlags struct {
	clusters, hosts                   []string
	tokenFile, user, passFile, caFile string
	tenant                            string
	pageEvents                        int
}

func (v *vlogsFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringSliceVar(&v.clusters, "vlogs-cluster", nil, "vlogs://: read only these clusters (k8s.cluster.name; repeatable)")
	fl.StringSliceVar(&v.hosts, "vlogs-host", nil, "vlogs://: read only these hosts (host.name; repeatable)")
	fl.StringVar(&v.tokenFile, "vlogs-bearer-token-file", "", "vlogs://: send the bearer token in this file")
	fl.StringVar(&v.user, "vlogs-username", "", "vlogs://: basic auth user (password from --vlogs-password-file)")
	fl.StringVar(&v.passFile, "vlogs-password-file", "", "vlogs://: basic auth password file")
	fl.StringVar(&v.caFile, "vlogs-ca-file", "", "vlogs+https://: trust the PEM certificates in this file")
	fl.StringVar(&v.tenant, "tenant", "", "vlogs://: VictoriaLogs tenant ACCOUNT_ID[:PROJECT_ID]")
	fl.IntVar(&v.pageEvents, "vlogs-page", vlogs.DefaultPageEvents, "vlogs://: about how many events one query page returns")
}

// vlogsSource returns the source for a vlogs:// argument (nil when paths
// are files). A vlogs:// address is the only argument.
func (v *vlogsFlags) source(e *env, paths []string, sel *selection) (*vlogs.Source, error) {
	isURL := false
	for _, p := range paths {
		isURL = isURL || vlogs.IsURL(p)
	}
	if !isURL {
		return nil, nil
	}
	if len(paths) != 1 {
		return nil, usageError("a vlogs:// address is read alone, not with other inputs")
	}
	base, err := vlogs.BaseURL(paths[0])
	if err != nil {
		return nil, usageError("%v", err)
	}
	auth := vlogs.Auth{Username: v.user, CAFile: v.caFile, Tenant: v.tenant}
	if auth.BearerToken, err = readSecret(v.tokenFile); err == nil {
		auth.Password, err = readSecret(v.passFile)
	}
	if err != nil {
		return nil, err
	}
	src, err := vlogs.New(base, auth, vlogs.NewPushdown(sel.filter, v.clusters, v.hosts), nil)
	if err != nil {
		return nil, usageError("%v", err)
	}
	src.PageEvents = v.pageEvents
	src.Progress = e.stderr
	src.OnBad = func(err error) { fmt.Fprintf(e.stderr, "kaudit: vlogs: %v\n", err) }
	return src, nil
}

func readSecret(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	return strings.TrimSpace(string(b)), err
}

// replayVlogs runs a pipeline over a VictoriaLogs read to its end.
func replayVlogs(ctx context.Context, src *vlogs.Source, cfg pipeline.Config) (*pipeline.Pipeline, error) {
	cfg.Source = src
	p, err := pipeline.Run(ctx, cfg)
	if err == nil {
		err = ctx.Err()
	}
	return p, err
}

// follow returns VictoriaLogs' live tail for a vlogs:// path (nil for a
// file); a --history duration is read first.
func (v *vlogsFlags) follow(e *env, path string, sel *selection, hist ingest.History) (*vlogs.Tail, error) {
	src, err := v.source(e, []string{path}, sel)
	if src == nil || err != nil {
		return nil, err
	}
	if hist.All {
		return nil, usageError("--history all: a vlogs:// watch reads a duration back at most (e.g. --history 24h)")
	}
	var back time.Duration
	if !hist.Since.IsZero() {
		back = max(timeNow().Sub(hist.Since), time.Second)
	}
	return src.Follow(back), nil
}
