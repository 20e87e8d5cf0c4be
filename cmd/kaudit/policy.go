package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/kaudit/kaudit/ingest"
	"github.com/kaudit/kaudit/pipeline"
	"github.com/kaudit/kaudit/policy"
)

func newPolicyCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Check an audit policy as kube-apiserver reads it, simulate it on real logs, suggest one",
		Long: `policy works on kube-apiserver audit policies (--audit-policy-file) with the API
server's own decoder, validation and rule evaluator (k8s.io/apiserver v0.37.2).

  check     lint a policy: fields the server ignores, dead rules, secret bodies, ...
  simulate  what a policy would write for the requests in saved audit logs
  suggest   a policy for the traffic in saved audit logs`,
	}
	cmd.AddCommand(newPolicyCheckCmd(e), newPolicySimulateCmd(e), newPolicySuggestCmd(e))
	return cmd
}

func policyOutput(o string) (string, error) {
	switch o {
	case "":
		return "table", nil
	case "table", "json":
		return o, nil
	}
	return "", usageError("unknown output format %q (want table or json)", o)
}

func newPolicyCheckCmd(e *env) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "check [flags] FILE...",
		Short: "Report what is wrong with audit policy files, with line numbers (exit 1 when anything is)",
		Long: `check decodes each policy exactly as kube-apiserver does and reports, with line numbers:

  invalid           the API server would refuse to start with it
  strict-decoding   fields the server ignores after a "strict decoding error" warning
                    (e.g. verbs indented inside resources[0]: the rule then applies to every verb)
  shadowed          rules that never apply because an earlier rule matches all they match
  sensitive-body    secrets, configmaps, tokenreviews, serviceaccounts/token at Request or RequestResponse
  no-catch-all      requests no rule matches are not logged at all
  request-received  RequestReceived not omitted: each request is written twice or more
  webhook-unsafe    request/response bodies of every resource

Exit status: 0 clean, 1 findings (or a file that cannot be read), 2 usage error.`,
		Example: `  kaudit policy check /etc/kubernetes/audit-policy.yaml
  kaudit policy check -o json policy.yaml | jq '.[].findings[] | select(.kind == "strict-decoding")'`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			format, err := policyOutput(output)
			if err != nil {
				return err
			}
			var results []checkResult
			total := 0
			for _, f := range files {
				data, err := os.ReadFile(f)
				if err != nil {
					return err
				}
				fs := policy.CheckBytes(data)
				if fs == nil {
					fs = []policy.Finding{}
				}
				total += len(fs)
				results = append(results, checkResult{File: f, Findings: fs})
			}
			if err := printCheck(e.stdout, results, format); err != nil {
				return err
			}
			if total > 0 {
				noun := "findings"
				if total == 1 {
					noun = "finding"
				}
				return &exitCodeError{code: exitFindings, err: fmt.Errorf("%d %s", total, noun)}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "output format: table or json")
	return cmd
}

// loadPolicyFile reads and loads a policy; a policy the API server refuses
// is an error naming the file and line.
func loadPolicyFile(path string) (*policy.Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p, err := policy.Load(data)
	if err != nil {
		var le *policy.LoadError
		if errors.As(err, &le) && le.Line > 0 {
			return nil, fmt.Errorf("%s:%d: %v", path, le.Line, err)
		}
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return p, nil
}

// loadTraffic reads audit logs into a simulator; bad input is reported on
// stderr with file and line and skipped.
func loadTraffic(cmd *cobra.Command, e *env, paths []string) (*policy.Simulator, error) {
	sim := policy.NewSimulator()
	report := ingest.NewReporter(e.stderr, ingest.DefaultReportLimit)
	// The simulator keeps its own tally: no store.
	_, err := replayAll(cmd.Context(), pipeline.Config{Each: func(b ingest.Batch) error {
		for i := range b.Events {
			sim.Add(&b.Events[i])
		}
		return nil
	}}, &ingest.Replay{Paths: paths, Stdin: e.stdin}, report)
	if report.Total() > 0 && !errors.Is(err, ingest.ErrNoInput) { // replayAll told them already
		report.Close()
	}
	return sim, err
}

func newPolicySimulateCmd(e *env) *cobra.Command {
	var output, policyFile, currentFile string
	var breakdown bool
	cmd := &cobra.Command{
		Use:   "simulate --policy FILE [flags] PATH...",
		Short: "What a policy would write for the requests in saved audit logs, rule by rule",
		Long: `simulate evaluates every request in the logs against the policy with kube-apiserver's
own evaluator and reports, per rule: requests matched, events and bytes it would write, the
difference against the baseline per day of log time, and the top users, verbs and resources.

The baseline is the policy that produced the log (--current FILE) or else what the log holds.
Levels can only go down from what was recorded: bodies a log does not hold cannot be counted,
so requests for which the policy asks more than the log holds are counted as "above recorded"
(their bytes are a lower bound). RequestReceived events the recording policy omitted are
inferred from each request's final event and counted as "inferred".
--breakdown adds, in -o json, events per (user, verb, resource, level, stage).`,
		Example: `  kaudit policy simulate --policy new.yaml /var/log/kubernetes/apiserver/
  kaudit policy simulate --policy new.yaml --current /etc/kubernetes/audit-policy.yaml -o json audit.log`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, paths []string) error {
			format, err := policyOutput(output)
			if err != nil {
				return err
			}
			if policyFile == "" {
				return usageError("--policy FILE is required")
			}
			p, err := loadPolicyFile(policyFile)
			if err != nil {
				return err
			}
			var cur *policy.Policy
			if currentFile != "" {
				if cur, err = loadPolicyFile(currentFile); err != nil {
					return err
				}
			}
			sim, err := loadTraffic(cmd, e, paths)
			if err != nil {
				return err
			}
			rep := sim.Simulate(p, cur, policyFile, currentFile, breakdown)
			return printSimulation(e.stdout, rep, format)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "output format: table or json")
	cmd.Flags().StringVar(&policyFile, "policy", "", "the audit policy to simulate (required)")
	cmd.Flags().StringVar(&currentFile, "current", "", "the policy that produced the log, to compare against (default: what the log holds)")
	cmd.Flags().BoolVar(&breakdown, "breakdown", false, "with -o json: events per (user, verb, resource, level, stage)")
	return cmd
}

func newPolicySuggestCmd(e *env) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "suggest [flags] PATH...",
		Short: "A policy for the traffic in saved audit logs, with its simulated volume beside the current one",
		Long: `suggest writes an audit policy (YAML) from observed traffic: writes and denials keep the
level they were recorded at, the noisiest read-only traffic of system components is dropped
(kube-proxy watches, nodes reading their own objects, leader-election leases, health
endpoints), secret bodies are never logged, RequestReceived is omitted, and a Metadata
catch-all ends it. The header comment gives its simulated volume beside what the log holds.`,
		Example: `  kaudit policy suggest /var/log/kubernetes/apiserver/ > audit-policy.yaml
  kaudit policy check audit-policy.yaml`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, paths []string) error {
			format, err := policyOutput(output)
			if err != nil {
				return err
			}
			sim, err := loadTraffic(cmd, e, paths)
			if err != nil {
				return err
			}
			sug, err := sim.Suggest()
			if err != nil {
				return err
			}
			return printSuggestion(e.stdout, sug, format)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "output format: table (the policy as YAML) or json")
	return cmd
}
