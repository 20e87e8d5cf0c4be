package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/kaudit/kaudit/query"
	"github.com/kaudit/kaudit/store"
)

// timeNow is the clock --since/--until durations count back from (tests
// replace it).
var timeNow = time.Now

// filterFlags are -f/--filter, --since, --until and --jq.
type filterFlags struct {
	filter, since, until, jq string
}

func (f *filterFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVarP(&f.filter, "filter", "f", "", "keep only matching events: quick terms (user:alice verb:delete,patch ns:prod-* code:4xx\n"+
		"latency>1s denied -user:system:*) or a jq program (.verb == \"delete\" and .objectRef.namespace == \"prod\")")
	fl.StringVar(&f.since, "since", "", "keep events whose stageTimestamp is at or after this time: RFC 3339, or a duration back from now (2h, 30m, 7d)")
	fl.StringVar(&f.until, "until", "", "keep events whose stageTimestamp is before this time: RFC 3339, or a duration back from now")
	fl.StringVar(&f.jq, "jq", "", "run this jq program on each kept event (its original JSON) and print the outputs like jq -c")
}

// selection is what the filter flags select, compiled.
type selection struct {
	filter *query.Filter
	jq     *query.Program
}

// compile checks the flags before any input is read: a bad filter is a
// usage error showing where the mistake is.
func (f *filterFlags) compile() (*selection, error) {
	flt, err := query.Compile(f.filter)
	if err != nil {
		return nil, usageError("--filter: %v", err)
	}
	now := timeNow()
	since, err := parseTimeFlag(f.since, now)
	if err != nil {
		return nil, usageError("--since: %v", err)
	}
	until, err := parseTimeFlag(f.until, now)
	if err != nil {
		return nil, usageError("--until: %v", err)
	}
	if !since.IsZero() && !until.IsZero() && !since.Before(until) {
		return nil, usageError("--since %s is not before --until %s", since.Format(time.RFC3339), until.Format(time.RFC3339))
	}
	sel := &selection{filter: flt.Between(since, until)}
	if f.jq != "" {
		if sel.jq, err = query.CompileProgram(f.jq); err != nil {
			return nil, usageError("--jq: %v", err)
		}
	}
	return sel, nil
}

// parseTimeFlag reads --since/--until as the since:/until: terms do
// ("" is no bound).
func parseTimeFlag(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return query.ParseTime(s, now)
}

// parseDuration is time.ParseDuration that also takes whole days first.
func parseDuration(s string) (time.Duration, error) { return query.ParseDuration(s) }

// requests returns the requests tables count that the filter keeps.
func (s *selection) requests(ctx context.Context, e *env, st *store.Store) (*store.Set, error) {
	return s.eval(ctx, e, st, st.Requests())
}

// events returns every stored event (every stage) that the filter keeps.
func (s *selection) events(ctx context.Context, e *env, st *store.Store) (*store.Set, error) {
	return s.eval(ctx, e, st, st.All())
}

func (s *selection) eval(ctx context.Context, e *env, st *store.Store, cand *store.Set) (*store.Set, error) {
	kept, stats, err := s.filter.EvalStats(ctx, st, cand)
	if err != nil {
		return nil, err
	}
	// An event on which the jq filter raises an error is not kept, as with
	// jq 'select(F)'. When that leaves nothing, say why.
	if kept.IsEmpty() && stats.Errors > 0 {
		fmt.Fprintf(e.stderr, "kaudit: --filter kept no events; it raised an error on %d of them, e.g.: %v\n", stats.Errors, stats.FirstError)
	}
	return kept, nil
}

// printJQ runs --jq on the kept events (every stage, like -o jsonl).
func (s *selection) printJQ(ctx context.Context, e *env, st *store.Store, top int) error {
	events, err := s.events(ctx, e, st)
	if err != nil {
		return err
	}
	limitTop(events, top)
	const shown = 10
	n := 0
	err = query.WriteJQ(ctx, e.stdout, st, events, s.jq, func(ee *query.EventError) {
		if n++; n <= shown {
			fmt.Fprintf(e.stderr, "kaudit: --jq: %v\n", ee)
		}
	})
	if err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("--jq raised an error on %d events", n)
	}
	return nil
}

// limitTop keeps the first top events of set (all when top is 0).
func limitTop(set *store.Set, top int) {
	if top > 0 && set.GetCardinality() > uint64(top) {
		cut, _ := set.Select(uint32(top))
		set.RemoveRange(uint64(cut), uint64(set.Maximum())+1)
	}
}
