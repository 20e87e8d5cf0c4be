package ingest

import (
	"context"
	"reflect"
	"testing"

	"github.com/kaudit/kaudit/audit"
)

// TestReplayFields: the workers decode with Replay.Fields, with and
// without Recycle (an arena), merged or not, and the same events and problems come out
// with only the fields left out zeroed.
func TestReplayFields(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "audit.log", lines(ev("a"), `{"verb":`, evList("b", "c"), ev("d")))
	keep := audit.FieldUser | audit.FieldDecision
	for _, tc := range []struct {
		recycle bool
		window  int // merged (0) or in input order (-1)
	}{{false, 0}, {true, 0}, {false, -1}, {true, -1}} {
		recycle := tc.recycle
		all := runCloned(t, &Replay{Paths: []string{p}, Recycle: recycle, Window: tc.window})
		some := runCloned(t, &Replay{Paths: []string{p}, Recycle: recycle, Window: tc.window, Fields: keep})
		if all.err != nil || some.err != nil || !eq(all.ids(), []string{"a", "b", "c", "d"}) ||
			!eq(some.ids(), all.ids()) || !eq(some.probs(), all.probs()) || len(all.probs()) != 1 {
			t.Fatalf("recycle %v: ids %v and %v, problems %v and %v, errors %v, %v", recycle,
				all.ids(), some.ids(), all.probs(), some.probs(), all.err, some.err)
		}
		var got, want []audit.Event
		for i := range all.batches {
			want = append(want, all.batches[i].Events...)
			got = append(got, some.batches[i].Events...)
		}
		for i := range want {
			w := want[i]
			keep.Clear(&w)
			if w.Verb != "" || w.User.Name == "" || !reflect.DeepEqual(got[i], w) {
				t.Fatalf("recycle %v: event %d\n%+v\nwant\n%+v", recycle, i, got[i], w)
			}
		}
	}
}

// runCloned is run keeping clones of the events (Recycle reuses what
// they point into).
func runCloned(t *testing.T, r *Replay) result {
	t.Helper()
	var res result
	r.OnProblem = func(p Problem) { res.problems = append(res.problems, p) }
	res.sum, res.err = r.Run(context.Background(), func(b Batch) error {
		evs := make([]audit.Event, len(b.Events))
		for i, e := range b.Events {
			evs[i] = e.Clone()
		}
		b.Events = evs
		res.batches = append(res.batches, b)
		return nil
	})
	return res
}
