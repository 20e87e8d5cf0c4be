package main

import (
	"bytes"
	"context"
	"fmt"
	"path"
	"time"

	"github.com/spf13/cobra"

	"github.com/kaudit/kaudit/history"
	"github.com/kaudit/kaudit/ingest"
	"github.com/kaudit/kaudit/pipeline"
	"github.com/kaudit/kaudit/rbac"
	"github.com/kaudit/kaudit/store"
	"github.com/kaudit/kaudit/termsafe"
	"github.com/kaudit/kaudit/tui"
	"github.com/kaudit/kaudit/views"
)

// rbacFlags are kaudit rbac's flags.
type rbacFlags struct {
	sel             filterFlags
	output, view    string
	subjects        []string
	noNames, strict bool
	includeRisky    bool
	maxLine         int
}

func newRBACCmd(e *env) *cobra.Command {
	var rf rbacFlags
	cmd := &cobra.Command{
		Use:   "rbac [flags] PATH...",
		Short: "Explain every denial; -o yaml: the minimal RBAC that would allow them",
		Long: `rbac groups the denied requests in audit logs by subject (the impersonated user
when there was one), verb, resource, namespace and object name, says which
component refused each one (RBAC, the Node authorizer, a webhook authorizer,
impersonation or admission) and what the same subjects were allowed, and by
which binding.

With -o yaml (or -o json, a v1 List) it prints the minimal RBAC objects that
allow exactly the RBAC denials, for kubectl apply -f: per subject a Role and
RoleBinding in each namespace, a ClusterRole and ClusterRoleBinding for
cluster-scoped resources, requests across all namespaces and non-resource
URLs. Rules name the denied objects (--no-resource-names widens them to every
object of the resource) and never contain '*'.

Risky grants are opt-in: a role and binding that would grant to anonymous or
unauthenticated subjects, read secrets (or touch pods/exec, nodes/proxy,
serviceaccounts/token), reach every namespace, re-grant access revoked in the
same log, escalate (escalate, bind, impersonate, RBAC and webhook objects) or
bind a system identity are withheld: commented out at the end of -o yaml with
the reason, left out of -o json, and named on stderr. --include-risky emits
them as objects, still with WARNING comments. Names are printed with control
and bidirectional characters escaped (\u202e), so what you review is what you
apply. Check the output with a server-side dry run before applying it.`,
		Example: `  kaudit rbac /var/log/kubernetes/apiserver/
  kaudit rbac --subject alice --subject 'system:serviceaccount:ci:*' audit.log
  kaudit rbac --view allowed audit.log
  kaudit rbac -o yaml --since 2h audit.log > fix.yaml
  kubectl apply --dry-run=server -f fix.yaml    # then read fix.yaml, and apply it
  kaudit rbac -o yaml -f 'ns:prod-*' --no-resource-names audit.log.gz`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, paths []string) error {
			return rf.run(cmd.Context(), e, paths)
		},
		PreRunE: func(*cobra.Command, []string) error {
			if rf.sel.jq != "" {
				return usageError("--jq goes with kaudit replay, not rbac")
			}
			return nil
		},
	}
	rf.register(cmd)
	return cmd
}

func (rf *rbacFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	rf.sel.register(cmd)
	_ = fl.MarkHidden("jq")
	fl.StringVarP(&rf.output, "output", "o", "table", "output: table or jsonl (the --view), yaml or json (the suggested RBAC objects, for kubectl apply -f)")
	fl.StringVar(&rf.view, "view", "denials", "what -o table/jsonl shows: denials, or allowed (what the denied subjects were allowed, and by which binding)")
	fl.StringArrayVar(&rf.subjects, "subject", nil, "only this subject (user or system:serviceaccount:NS:NAME; * globs; repeatable)")
	fl.BoolVar(&rf.noNames, "no-resource-names", false, "grant on every object of a resource instead of only the objects the denials named")
	fl.BoolVar(&rf.includeRisky, "include-risky", false, "with -o yaml/json: emit grants that carry a warning (anonymous, secrets, cluster-wide, revoked, escalation) instead of withholding them")
	fl.BoolVar(&rf.strict, "strict", false, "exit with status 3 when any input was skipped")
	fl.IntVar(&rf.maxLine, "max-line", ingest.DefaultMaxLine, "longest line (bytes) kept; longer lines are skipped and reported")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"table", "jsonl", "yaml", "json"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("view", cobra.FixedCompletions([]string{"denials", "allowed"}, cobra.ShellCompDirectiveNoFileComp))
}

// check validates the flags before any input is read.
func (rf *rbacFlags) check() error {
	switch rf.view {
	case "denials", "allowed":
	default:
		return usageError("unknown --view %q (want denials or allowed)", rf.view)
	}
	switch rf.output {
	case "table", "jsonl", "yaml", "json":
	default:
		return usageError("unknown output format %q (want table, jsonl, yaml or json)", rf.output)
	}
	for _, s := range rf.subjects {
		if _, err := path.Match(s, ""); err != nil {
			return usageError("--subject %q: %v", s, err)
		}
	}
	return nil
}

// run reads paths and prints the denials (or the RBAC that allows them).
func (rf *rbacFlags) run(ctx context.Context, e *env, paths []string) error {
	if err := rf.check(); err != nil {
		return err
	}
	selected, err := rf.sel.compile()
	if err != nil {
		return err
	}
	report := ingest.NewReporter(e.stderr, ingest.DefaultReportLimit)
	p, err := replayAll(ctx, pipeline.Config{}, &ingest.Replay{Paths: paths, Stdin: e.stdin, MaxLine: rf.maxLine}, report)
	if err != nil {
		return err
	}
	requests, err := selected.requests(ctx, e, p.Store)
	if err != nil {
		return err
	}
	a := rbac.Analyze(p.Store, requests)
	attributeRevoked(p.Store, a)
	if len(rf.subjects) > 0 {
		a = a.ForSubjects(func(s string) bool { return matchAny(rf.subjects, s) })
	}
	if err := printRBAC(e, a, rf.output, rf.view, rbac.Options{NoResourceNames: rf.noNames, IncludeRisky: rf.includeRisky}); err != nil {
		return err
	}
	return closeReport(report, rf.strict)
}

func matchAny(patterns []string, s string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, s); ok {
			return true
		}
	}
	return false
}

func printRBAC(e *env, a *rbac.Analysis, output, view string, opt rbac.Options) error {
	switch output {
	case "yaml", "json":
		s := rbac.Suggest(a.Denials, opt)
		for _, w := range s.Warnings {
			fmt.Fprintln(e.stderr, "kaudit: WARNING:", termsafe.Printable(w))
		}
		for _, n := range s.WithheldNotes() {
			fmt.Fprintln(e.stderr, "kaudit:", termsafe.Printable(n))
		}
		var b bytes.Buffer
		var err error
		if output == "json" {
			err = s.WriteJSON(&b)
		} else {
			err = s.WriteYAML(&b)
		}
		if err != nil {
			return err
		}
		// Names meant for review show control and bidi characters as
		// escapes (in YAML, rbac writes such an object as JSON).
		out := b.Bytes()
		if output == "json" {
			out = termsafe.JSON(out)
		}
		_, err = e.stdout.Write(out)
		return err
	}
	t := a.DenialsTable()
	if view == "allowed" {
		t = a.GrantsTable()
	}
	if output == "jsonl" {
		return views.WriteJSONLines(e.stdout, t)
	}
	return views.WriteText(e.stdout, t)
}

// attributeRevoked names, for each denial that follows an allow, the RBAC
// change in between (who deleted or changed which binding or role).
func attributeRevoked(st *store.Store, a *rbac.Analysis) {
	for i := range a.Denials {
		if d := &a.Denials[i]; d.Revoked() {
			who := history.Subject{User: d.Subject, Groups: d.Groups, AllowReason: d.Allowed}
			d.RevokedBy = history.RevokedBy(st, who, d.Namespace, d.AllowedAt, d.Last)
		}
	}
}

// suggestFor is the TUI's Denials-tab hook: the RBAC objects that allow the
// selected rows (every denial with that subject, verb, resource and
// namespace, whatever the object name), and their warnings. The TUI calls
// it in a Cmd; Analyze holds the store's read lock while it walks it.
func suggestFor(st *store.Store) tui.SuggestFunc {
	return func(rows []tui.DenialKey) (string, []string) {
		want := make(map[tui.DenialKey]bool, len(rows))
		for _, r := range rows {
			want[r] = true
		}
		a := rbac.Analyze(st, st.Requests())
		s := rbac.Suggest(a.Select(func(d *rbac.Denial) bool {
			return want[tui.DenialKey{Subject: d.Subject, Verb: d.Verb, Resource: d.ResourceKey(), Namespace: d.Namespace}]
		}), rbac.Options{})
		var b bytes.Buffer
		if err := s.WriteYAML(&b); err != nil {
			return "", []string{err.Error()}
		}
		return b.String(), s.Warnings
	}
}

// revokedFor is the TUI's Denials-tab finding: for rows whose request was
// allowed before its last denial, "allowed until T by REASON" (kaudit
// rbac's REVOKED?), and for those allowed since, "allowed since T by …".
func revokedFor(st *store.Store) tui.RevokedFunc {
	return func() map[tui.DenialKey]string {
		out := map[tui.DenialKey]string{}
		a := rbac.Analyze(st, st.Requests())
		attributeRevoked(st, a)
		for _, d := range a.Denials {
			k := tui.DenialKey{Subject: d.Subject, Verb: d.Verb, Resource: d.ResourceKey(), Namespace: d.Namespace}
			switch {
			case d.Revoked() && d.RevokedBy != "":
				out[k] = "allowed until " + d.AllowedAt.UTC().Format(time.RFC3339) + " by " + d.Allowed + "; revoked? " + d.RevokedBy
			case d.Revoked():
				out[k] = "allowed until " + d.AllowedAt.UTC().Format(time.RFC3339) + " by " + d.Allowed
			case d.Fixed() && out[k] == "":
				out[k] = "allowed since " + d.AllowedAt.UTC().Format(time.RFC3339) + " by " + d.Allowed
			}
		}
		return out
	}
}
