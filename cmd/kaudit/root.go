package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"

	"github.com/spf13/cobra"

	"github.com/kaudit/kaudit/redact"
	"github.com/kaudit/kaudit/termsafe"
)

// Exit codes (the CLI contract: README, "Usage").
const (
	exitOK       = 0 // success
	exitError    = 1 // runtime error, or no input could be read at all
	exitUsage    = 2 // bad flags or arguments
	exitProblems = 3 // --strict and some input was skipped

	exitFindings = 1 // policy check found something
)

// exitError carries a specific exit code out of a command.
type exitCodeError struct {
	code int
	err  error
}

func (e *exitCodeError) Error() string { return e.err.Error() }

// usageError marks errors in what the user typed.
func usageError(format string, args ...any) error {
	return &exitCodeError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// env is what a command may touch of the outside world; tests pass their own.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// run is kaudit without the process: it parses args, runs the command and
// returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	// Every message line goes through the terminal-safety leaf, whichever
	// code formatted it: file names and object keys come from outside.
	safeErr := termsafe.NewLines(stderr)
	defer safeErr.Flush()
	stderr = safeErr
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "kaudit",
		Short: "Who did what to the Kubernetes API server, what was denied, and what was slow",
		Long: `kaudit reads Kubernetes API server audit logs (audit.k8s.io Events, as JSON lines,
webhook EventLists or pretty-printed documents; plain or gzipped; rotated backups
in order) and answers from an in-memory index: requests by user, verb, resource,
namespace and status code, the slowest requests, and RBAC denials.

It follows the live log through rotation (watch) or receives the API server's
audit webhook (serve), in a terminal UI or as JSON lines, and can forward every
event upstream at least once (--forward: OTLP/HTTP, Datadog intake). rbac turns
denials into the minimal RBAC that fixes them; policy checks and simulates an
audit policy with kube-apiserver's own evaluator. demo shows it all on a
simulated cluster.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetArgs(args)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &exitCodeError{code: exitUsage, err: err} })
	root.AddCommand(newReplayCmd(e), newDetectCmd(e), newWatchCmd(e), newServeCmd(e), newStatusCmd(e), newRBACCmd(e), newHistoryCmd(e), newPolicyCmd(e), newDemoCmd(e), newVersionCmd(e))
	var cpuProfile string
	root.PersistentFlags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile to `FILE` (for kaudit's developers)")
	_ = root.PersistentFlags().MarkHidden("cpuprofile")
	root.PersistentFlags().StringVar(&memProfile, "memprofile", "", "write an allocation profile to `FILE` at exit (for kaudit's developers)")
	_ = root.PersistentFlags().MarkHidden("memprofile")
	var showSecrets bool
	root.PersistentFlags().BoolVar(&showSecrets, "show-secrets", false,
		"print Secret data, tokens and credential fields of request/response bodies as logged (default: \"<redacted sha256:…>\")")
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		redact.SetShowSecrets(showSecrets)
		return startProfile(cpuProfile)
	}
	defer stopProfile()

	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(stderr, "kaudit:", err)
	var ce *exitCodeError
	if errors.As(err, &ce) {
		return ce.code
	}
	if isUsage(err) {
		return exitUsage
	}
	return exitError
}

// isUsage recognises cobra's own argument errors (unknown command, wrong
// number of arguments), which it returns as plain errors.
func isUsage(err error) bool {
	msg := err.Error()
	for _, prefix := range []string{"unknown command", "accepts ", "requires at least", "unknown flag", "unknown shorthand"} {
		if len(msg) >= len(prefix) && msg[:len(prefix)] == prefix {
			return true
		}
	}
	return false
}

var (
	profileFile *os.File
	memProfile  string
)

func startProfile(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	profileFile = f
	return pprof.StartCPUProfile(f)
}

func stopProfile() {
	if profileFile != nil {
		pprof.StopCPUProfile()
		profileFile.Close()
		profileFile = nil
	}
	if memProfile != "" {
		if f, err := os.Create(memProfile); err == nil {
			_ = pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}
		memProfile = ""
	}
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
