package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/kaudit/kaudit/history"
	"github.com/kaudit/kaudit/ingest"
	"github.com/kaudit/kaudit/pipeline"
	"github.com/kaudit/kaudit/store"
	"github.com/kaudit/kaudit/termsafe"
	"github.com/kaudit/kaudit/tui"
)

// historyFlags are kaudit history's flags.
type historyFlags struct {
	sel                       filterFlags
	output                    string
	deleted, showNoise, noDif bool
	strict                    bool
	top, maxLine              int
}

func newHistoryCmd(e *env) *cobra.Command {
	var hf historyFlags
	cmd := &cobra.Command{
		Use:   "history [flags] RESOURCE[.GROUP]/[NAMESPACE/]NAME PATH...",
		Short: "One object's requests, revisions and diffs; --deleted: who deleted what",
		Long: `history shows every request that touched an object, oldest first: who, verb
(subresources such as status, scale, exec, log and eviction folded in), code
and stage. Each successful write rebuilds a revision of the object and shows
its diff against the previous known revision:

  exact        the full object the server returned (responseObject)
  approximate  the request body (server-set fields missing), a patch (JSON,
               merge or strategic merge) applied to the previous revision, or a
               server-side apply's configuration (the note says which)
  unavailable  the write is known (who and when) but the log holds no body

Dry-run requests change nothing; a delete, a deletecollection that listed the
object, or the deletion of its namespace ends it; a deletecollection whose
items are not logged (Metadata level) may have ended it ("maybe gone"). managedFields,
resourceVersion and generation are left out of diffs unless --show-noise.
Secret values are redacted unless --show-secrets.

With -f and no object, the histories of every object the filter's requests
touched (the first --top). With --deleted, the deletions among the filter's
requests, with their actor, each item of a deletecollection, and the deletion
of the namespaces they were in.`,
		Example: `  kaudit history deployments.apps/prod/web /var/log/kubernetes/apiserver/
  kaudit history clusterroles.rbac.authorization.k8s.io/admin audit.log
  kaudit history -f 'resource:configmaps ns:prod user:alice' audit.log
  kaudit history --deleted -f 'resource:deployments ns:prod' audit.log`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return hf.run(cmd.Context(), e, args)
		},
	}
	fl := cmd.Flags()
	hf.sel.register(cmd)
	_ = fl.MarkHidden("jq")
	fl.StringVarP(&hf.output, "output", "o", "table", "output: table, json or jsonl")
	fl.BoolVar(&hf.deleted, "deleted", false, "list deletions (with -f) instead of an object's history")
	fl.BoolVar(&hf.showNoise, "show-noise", false, "keep managedFields, resourceVersion and generation in diffs")
	fl.BoolVar(&hf.noDif, "no-diff", false, "timeline only, no diffs")
	fl.IntVar(&hf.top, "top", 20, "with -f and no object: at most this many objects")
	fl.BoolVar(&hf.strict, "strict", false, "exit with status 3 when any input was skipped")
	fl.IntVar(&hf.maxLine, "max-line", ingest.DefaultMaxLine, "longest line (bytes) kept; longer lines are skipped and reported")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"table", "json", "jsonl"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func (hf *historyFlags) run(ctx context.Context, e *env, args []string) error {
	switch hf.output {
	case "table", "json", "jsonl":
	default:
		return usageError("unknown output format %q (want table, json or jsonl)", hf.output)
	}
	if hf.sel.jq != "" {
		return usageError("--jq goes with kaudit replay, not history")
	}
	var refs []history.Ref
	paths := args
	if !hf.deleted && hf.sel.filter == "" {
		ref, err := history.ParseRef(args[0])
		if err != nil {
			return usageError("%v", err)
		}
		if len(args) < 2 {
			return usageError("history %s: no PATH to read", args[0])
		}
		refs, paths = []history.Ref{ref}, args[1:]
	}
	selected, err := hf.sel.compile()
	if err != nil {
		return err
	}
	report := ingest.NewReporter(e.stderr, ingest.DefaultReportLimit)
	p, err := replayAll(ctx, pipeline.Config{}, &ingest.Replay{Paths: paths, Stdin: e.stdin, MaxLine: hf.maxLine}, report)
	if err != nil {
		return err
	}
	if refs == nil {
		set, err := selected.requests(ctx, e, p.Store)
		if err != nil {
			return err
		}
		if hf.deleted {
			if err := hf.printDeletions(e.stdout, p.Store, set); err != nil {
				return err
			}
			return closeReport(report, hf.strict)
		}
		refs = objectsOf(p.Store, set, hf.top)
	}
	opt := history.Options{Color: hf.output == "table" && isTerminal(e.stdout), ShowNoise: hf.showNoise, NoDiff: hf.noDif}
	for i, ref := range refs {
		reqs, err := history.Load(p.Store, ref)
		if err != nil {
			return err
		}
		steps := history.Rebuild(ref, reqs)
		switch hf.output {
		case "table":
			if i > 0 {
				fmt.Fprintln(e.stdout)
			}
			err = history.WriteTable(e.stdout, ref, steps, opt)
		default:
			err = history.WriteJSON(e.stdout, ref, steps, opt, hf.output == "jsonl")
		}
		if err != nil {
			return err
		}
	}
	return closeReport(report, hf.strict)
}

// objectsOf lists the named objects set's requests touched, most
// requested first, at most top.
func objectsOf(st *store.Store, set *store.Set, top int) []history.Ref {
	count := map[history.Ref]int{}
	st.Each(set, func(e *store.Entry) bool {
		o := e.Object
		if o.Name != "" && o.Resource != "" {
			count[history.Ref{Group: o.APIGroup, Resource: o.Resource, Namespace: o.Namespace, Name: o.Name}]++
		}
		return true
	})
	refs := make([]history.Ref, 0, len(count))
	for r := range count {
		refs = append(refs, r)
	}
	sort.Slice(refs, func(i, j int) bool {
		if count[refs[i]] != count[refs[j]] {
			return count[refs[i]] > count[refs[j]]
		}
		return refs[i].String() < refs[j].String()
	})
	if top > 0 && len(refs) > top {
		refs = refs[:top]
	}
	return refs
}

func (hf *historyFlags) printDeletions(w io.Writer, st *store.Store, set *store.Set) error {
	ds, err := history.Deletions(st, set)
	if err != nil {
		return err
	}
	if hf.output != "table" {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		if hf.output == "json" {
			err = enc.Encode(append([]history.Deletion{}, ds...))
		}
		for i := 0; i < len(ds) && hf.output == "jsonl" && err == nil; i++ {
			err = enc.Encode(ds[i])
		}
		if err == nil {
			_, err = w.Write(termsafe.JSON(b.Bytes()))
		}
		return err
	}
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tUSER\tVERB\tOBJECT\tCODE\tNOTE")
	for _, d := range ds {
		ref := history.Ref{Group: d.Group, Resource: d.Resource, Namespace: d.Namespace, Name: d.Name}
		cells := []string{d.Time.UTC().Format("2006-01-02T15:04:05.000Z"), d.User, d.Verb, ref.String(), fmt.Sprint(d.Code), d.Note}
		for i := range cells {
			cells[i] = termsafe.Printable(cells[i])
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, l := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		if _, err := io.WriteString(w, strings.TrimRight(l, " ")+"\n"); err != nil {
			return err
		}
	}
	return nil
}

// historyFor is the TUI's H: the history of the object event id touched.
// Each write's diff is computed when the pane unfolds it.
func historyFor(st *store.Store, id store.ID) (tui.ObjectHistory, error) {
	o := st.Entry(id).Object
	if o.Name == "" || o.Resource == "" {
		return tui.ObjectHistory{}, fmt.Errorf("this event names no object")
	}
	ref := history.Ref{Group: o.APIGroup, Resource: o.Resource, Namespace: o.Namespace, Name: o.Name}
	reqs, err := history.Load(st, ref)
	if err != nil {
		return tui.ObjectHistory{}, err
	}
	steps := history.Rebuild(ref, reqs)
	h := tui.ObjectHistory{Title: history.Title(ref, steps), Entries: make([]tui.HistoryEntry, len(steps))}
	for i, s := range steps {
		e := tui.HistoryEntry{Time: s.Time, Verb: history.VerbOf(s), Stage: s.Stage, User: s.User, Note: s.Note,
			Code: s.Code, Revision: history.RevisionLabel(s)}
		if s.MaybeEnds {
			e.Quality = string(history.Unavailable)
		}
		if r := s.Revision; r != nil {
			e.Quality = string(r.Quality)
			if r.Object != nil {
				e.Diff = func(noise bool) string { return history.DiffAt(steps, i, noise) }
			}
		}
		h.Entries[i] = e
	}
	return h, nil
}
