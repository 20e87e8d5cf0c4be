package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kaudit/kaudit/ingest/remote"
	"github.com/kaudit/kaudit/pipeline"
	"github.com/kaudit/kaudit/termsafe"
	"github.com/kaudit/kaudit/tui"
	"github.com/kaudit/kaudit/views"
)

// watchArgs: one local path and any number of ssh:// hosts.
func watchArgs(cmd *cobra.Command, args []string) error {
	if _, local := splitRemote(args); len(local) > 1 {
		return usageError("watch follows one local path (and any number of ssh:// hosts)")
	}
	return nil
}

// splitRemote parts paths into ssh:// arguments and local ones.
func splitRemote(paths []string) (ssh, local []string) {
	for _, p := range paths {
		if remote.IsURL(p) {
			ssh = append(ssh, p)
		} else {
			local = append(local, p)
		}
	}
	return ssh, local
}

// anyRemote reports whether one of paths is an ssh:// argument.
func anyRemote(paths []string) bool {
	ssh, _ := splitRemote(paths)
	return len(ssh) > 0
}

// remoteSource reads the ssh:// arguments of paths: replayed (follow
// false) or followed. The local ones are returned, for the caller to
// merge in (Source.Local). Session failures are told on stderr as they
// happen.
func remoteSource(e *env, paths []string, follow bool, history string, maxLine int) (src *remote.Source, local []string, err error) {
	src = &remote.Source{Follow: follow, History: history, MaxLine: maxLine,
		Warn: func(msg string) { fmt.Fprintf(e.stderr, "kaudit: %s\n", termsafe.Printable(msg)) }}
	ssh, local := splitRemote(paths)
	for _, p := range ssh {
		t, err := remote.Parse(p)
		if err != nil {
			return nil, nil, usageError("%v", err)
		}
		src.Targets = append(src.Targets, t)
	}
	return src, local, nil
}

// remoteBrowse is replay of ssh:// inputs in the terminal UI. What the
// sessions say is told once the screen is restored.
func remoteBrowse(ctx context.Context, e *env, src *remote.Source, paths []string, sel *selection, view views.View, pol tui.PolicyFunc, det *liveDetectFlags, sinks *pipeline.Sinks) error {
	f := newFeed(strings.Join(paths, " "))
	f.policy = pol
	if err := det.attachUI(ctx, f); err != nil {
		sinks.Close(io.Discard)
		return err
	}
	f.prog.Loading = true
	src.OnProblem = f.problem
	defer holdWarnings(e, src)()
	var warn bytes.Buffer
	defer func() { e.stderr.Write(warn.Bytes()) }()
	return runUI(ctx, e, f, pipeline.Config{Source: src, Sinks: sinks, Warn: &warn, SourceDone: f.finish}, sel, view)
}

// holdWarnings keeps what src's sessions say while the terminal UI is
// up; the function returned tells it once the screen is restored.
func holdWarnings(e *env, src *remote.Source) func() {
	var warn bytes.Buffer // src serialises its calls of Warn
	src.Warn = func(msg string) { fmt.Fprintf(&warn, "kaudit: %s\n", termsafe.Printable(msg)) }
	return func() { e.stderr.Write(warn.Bytes()) }
}
