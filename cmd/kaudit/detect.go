package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kaudit/kaudit/detect"
	"github.com/kaudit/kaudit/ingest"
	"github.com/kaudit/kaudit/pipeline"
	"github.com/kaudit/kaudit/store"
	"github.com/kaudit/kaudit/views"
)

// detectFlags are kaudit detect's own flags.
type detectFlags struct {
	output     string
	rulesDirs  []string
	noBuiltin  bool
	only       []string
	suppress   []string
	noSuppress bool
	minSev     string
	explain    string
	list       bool
	top        int
}

func newDetectCmd(e *env) *cobra.Command {
	var df detectFlags
	var sel filterFlags
	var strict bool
	var maxLine int
	cmd := &cobra.Command{
		Use:   "detect [flags] PATH...",
		Short: "Run named detection rules (built in, and --rules DIR) over saved audit logs",
		Long: `detect reads saved audit logs like replay and runs detection rules over them:
each request (one event per request, its final stage) is checked against every
rule. A rule is kaudit's filter language (quick terms or jq) with a severity, a
description, a MITRE ATT&CK technique, exceptions and named suppressions; the
default suppression (system-principal) leaves out Kubernetes and cloud-provider
components. Threshold rules count events per key within a time window.

-o jsonl prints one hit per line (rule, severity, technique, auditID, the
event); -o table a summary by rule; -o json one document with both.
--explain RULE shows, for each request the filter flags select, which of the
rule's conditions held and which failed.`,
		Example: `  kaudit detect /var/log/kubernetes/apiserver/
  kaudit detect -o jsonl --severity high audit.log | jq .rule
  kaudit detect --rules ./my-rules --suppress 'user:ci-bot' audit.log
  kaudit detect --explain privileged-pod -f auditid:6b617564-6974-0000-0000-000000000001 audit.log
  kaudit detect --list`,
		RunE: func(cmd *cobra.Command, paths []string) error {
			set, err := df.rules()
			if err != nil {
				return err
			}
			if df.list {
				return listRules(e, set)
			}
			if len(paths) == 0 {
				return usageError("detect needs at least one PATH (or --list)")
			}
			return runDetect(cmd.Context(), e, &df, &sel, set, paths, maxLine, strict)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&df.output, "output", "o", "", "output format: table, jsonl or json (default: table on a terminal, jsonl otherwise)")
	fl.StringArrayVar(&df.rulesDirs, "rules", nil, "a directory of YAML rule files, added to the built-in pack (a rule of the same name replaces it); repeatable")
	fl.BoolVar(&df.noBuiltin, "no-builtin", false, "use only the rules of --rules")
	fl.StringSliceVar(&df.only, "rule", nil, "run only these rules (comma-separated or repeated)")
	fl.StringArrayVar(&df.suppress, "suppress", nil, "a filter whose events are never hits, for every rule (e.g. 'user:ci-bot'); repeatable")
	fl.BoolVar(&df.noSuppress, "no-suppress", false, "turn off the rules' named suppressions (system-principal, …)")
	fl.StringVar(&df.minSev, "severity", "info", "report only rules of at least this severity: info, low, medium, high, critical")
	fl.StringVar(&df.explain, "explain", "", "for each request selected by -f, say which conditions of RULE held and which failed")
	fl.BoolVar(&df.list, "list", false, "list the rules (name, severity, technique, how the filter is answered) and exit")
	fl.IntVar(&df.top, "top", 0, "with --explain: at most N requests (0: all)")
	fl.StringVarP(&sel.filter, "filter", "f", "", "check only the requests this filter keeps (quick terms or jq)")
	fl.StringVar(&sel.since, "since", "", "check only events at or after this time: RFC 3339, or a duration back from now (2h)")
	fl.StringVar(&sel.until, "until", "", "check only events before this time: RFC 3339, or a duration back from now")
	fl.BoolVar(&strict, "strict", false, "exit with status 3 when any input was skipped")
	fl.IntVar(&maxLine, "max-line", ingest.DefaultMaxLine, "longest line (bytes) kept; longer lines are skipped and reported")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"table", "jsonl", "json"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("severity", cobra.FixedCompletions([]string{"info", "low", "medium", "high", "critical"}, cobra.ShellCompDirectiveNoFileComp))
	for _, f := range []string{"rule", "explain"} {
		_ = cmd.RegisterFlagCompletionFunc(f, completeRules)
	}
	return cmd
}

// rules loads the rule set the flags ask for.
func (df *detectFlags) rules() (*detect.Set, error) {
	var set *detect.Set
	if !df.noBuiltin {
		b, err := detect.Builtin()
		if err != nil {
			return nil, fmt.Errorf("built-in rules: %w", err) // a bug, not a usage error
		}
		set = b
	} else if len(df.rulesDirs) == 0 {
		return nil, usageError("--no-builtin needs --rules DIR")
	}
	for _, dir := range df.rulesDirs {
		var err error
		if set, err = detect.Load(set, os.DirFS(dir), "."); err != nil {
			return nil, usageError("--rules %s: %v", dir, err)
		}
	}
	min, err := detect.ParseSeverity(df.minSev)
	if err != nil {
		return nil, usageError("--severity: %v", err)
	}
	names := df.only
	if len(names) == 0 {
		for _, r := range set.Rules {
			if r.Severity >= min {
				names = append(names, r.Name)
			}
		}
	}
	if df.explain != "" {
		names = []string{df.explain}
	}
	out, err := set.Select(names)
	if err != nil {
		return nil, usageError("%v (kaudit detect --list shows the rules)", err)
	}
	return out, nil
}

// completeRules offers the built-in rules' names.
func completeRules(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	set, err := detect.Builtin()
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	names := make([]string, len(set.Rules))
	for i, r := range set.Rules {
		names[i] = r.Name + "\t" + r.Severity.String() + ": " + r.Description
	}
	return names, cobra.ShellCompDirectiveNoFileComp
}

func listRules(e *env, set *detect.Set) error {
	t := &views.Table{Columns: []views.Column{
		{Header: "RULE", Key: "rule"}, {Header: "SEVERITY", Key: "severity"}, {Header: "TECHNIQUE", Key: "technique"},
		{Header: "SUPPRESS", Key: "suppress"}, {Header: "DESCRIPTION", Key: "description"},
	}}
	for _, r := range set.Rules {
		t.Rows = append(t.Rows, []any{r.Name, r.Severity.String(), r.Technique, strings.Join(r.Suppress, ","), r.Description})
	}
	return views.WriteText(e.stdout, t)
}

func runDetect(ctx context.Context, e *env, df *detectFlags, sel *filterFlags, set *detect.Set, paths []string, maxLine int, strict bool) error {
	format := df.output
	switch format {
	case "":
		format = "jsonl"
		if isTerminal(e.stdout) {
			format = "table"
		}
	case "table", "jsonl", "json":
	default:
		return usageError("unknown output format %q (want table, jsonl or json)", df.output)
	}
	selected, err := sel.compile()
	if err != nil {
		return err
	}
	eng, err := detect.NewEngine(set, detect.Options{Extra: df.suppress, NoSuppress: df.noSuppress})
	if err != nil {
		return usageError("%v", err)
	}
	report := ingest.NewReporter(e.stderr, ingest.DefaultReportLimit)
	// Window -1: input order, as watch --detect-only sees a log (the
	// hand-made fixtures concatenate scenarios that restart the clock).
	p, err := replayAll(ctx, pipeline.Config{}, &ingest.Replay{Paths: paths, Stdin: e.stdin, MaxLine: maxLine, Window: -1}, report)
	if err != nil {
		return err
	}
	st := p.Store
	cand, err := selected.requests(ctx, e, st)
	if err != nil {
		return err
	}
	if df.explain != "" {
		err = explainAll(ctx, e, set, st, st.Requests(), cand, df.top)
	} else {
		err = printHits(ctx, e, eng, st, cand, format)
	}
	if err != nil {
		return err
	}
	return closeReport(report, strict)
}

func printHits(ctx context.Context, e *env, eng *detect.Engine, st *store.Store, cand *store.Set, format string) error {
	hits, err := eng.Eval(ctx, st, cand)
	if err != nil {
		return err
	}
	switch format {
	case "jsonl":
		return detect.WriteJSONLines(e.stdout, st, hits)
	case "json":
		return detect.WriteJSON(e.stdout, st, eng.Set(), hits)
	}
	if len(hits) == 0 {
		fmt.Fprintf(e.stderr, "kaudit: no hits (%d rules over %d requests)\n", len(eng.Set().Rules), cand.GetCardinality())
		return nil
	}
	return detect.WriteTable(e.stdout, detect.Summarize(st, eng.Set(), hits))
}

// explainAll explains rule set.Rules[0] on each request of cand; a
// threshold rule counts over all (every request read, as detect would).
func explainAll(ctx context.Context, e *env, set *detect.Set, st *store.Store, all, cand *store.Set, top int) error {
	r := set.Rules[0]
	limitTop(cand, top)
	for _, id := range cand.ToArray() {
		x, err := detect.Explain(ctx, set, r, st, id)
		if err != nil {
			return err
		}
		if err := detect.ExplainThreshold(ctx, set, st, all, x); err != nil {
			return err
		}
		if err := detect.WriteExplanation(e.stdout, x, eventHead(st, id)); err != nil {
			return err
		}
	}
	return nil
}

// eventHead is one line naming an event for --explain.
func eventHead(st *store.Store, id store.ID) string {
	en := st.Entry(id)
	user := en.User.Name
	if en.Impersonated.Name != "" {
		user += " (as " + en.Impersonated.Name + ")"
	}
	head := fmt.Sprintf("%s %s %s %s", en.Time.Format("2006-01-02T15:04:05.000Z07:00"), en.AuditID, user, en.Verb)
	if en.Object.Resource != "" {
		obj := en.Object.Resource
		if en.Object.Subresource != "" {
			obj += "/" + en.Object.Subresource
		}
		if en.Object.Namespace != "" {
			obj = en.Object.Namespace + "/" + obj
		}
		head += " " + obj
		if en.Object.Name != "" {
			head += " " + en.Object.Name
		}
	} else if en.Path != "" {
		head += " " + en.Path
	}
	return head
}
