package ingest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/kaudit/kaudit/audit"
)

// evAt is an event with auditID id whose stageTimestamp is sec seconds
// after a fixed instant (sec < 0: no stageTimestamp at all).
func evAt(id string, sec int) string {
	ts := ""
	if sec >= 0 {
		t := time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC).Add(time.Duration(sec) * time.Second)
		ts = `,"stageTimestamp":"` + t.Format(time.RFC3339Nano) + `"`
	}
	return `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"` + id +
		`","stage":"ResponseComplete","verb":"get","user":{"username":"u"}` + ts + `}`
}

// timed is "id@sec" items, one per line.
func timed(items ...string) string {
	var ls []string
	for _, it := range items {
		id, sec, _ := strings.Cut(it, "@")
		n := -1
		if sec != "" {
			fmt.Sscan(sec, &n)
		}
		ls = append(ls, evAt(id, n))
	}
	return lines(ls...)
}

func TestMerge(t *testing.T) {
	tests := []struct {
		name   string
		inputs map[string]string // file name -> content
		order  []string          // argument order
		window int
		want   []string // auditIDs handed on, in order
		late   int64
	}{
		{
			name:   "interleaved inputs",
			inputs: map[string]string{"cp1.log": timed("a@1", "c@3", "e@5"), "cp2.log": timed("b@2", "d@4", "f@6")},
			order:  []string{"cp2.log", "cp1.log"},
			want:   []string{"a", "b", "c", "d", "e", "f"},
		},
		{
			name:   "one input written at stage end, reordered within the window",
			inputs: map[string]string{"a.log": timed("b@2", "a@1", "d@4", "c@3", "e@5")},
			order:  []string{"a.log"},
			window: 2,
			want:   []string{"a", "b", "c", "d", "e"},
		},
		{
			name:   "an event later than the window is handed on, counted late",
			inputs: map[string]string{"a.log": timed("b@2", "c@3", "d@4", "e@5", "a@1", "f@6")},
			order:  []string{"a.log"},
			window: 2,
			want:   []string{"b", "c", "a", "d", "e", "f"}, // a, 4 places late, comes out 2 late
			late:   1,
		},
		{
			name:   "equal times keep argument order; no time keeps its place",
			inputs: map[string]string{"x.log": timed("x1@1", "x2", "x3@2"), "y.log": timed("y1@1", "y2@2")},
			order:  []string{"x.log", "y.log"},
			want:   []string{"x1", "x2", "y1", "x3", "y2"},
		},
		{
			name:   "an empty input and a missing one",
			inputs: map[string]string{"a.log": timed("a@1", "b@2"), "empty.log": ""},
			order:  []string{"empty.log", "missing.log", "a.log"},
			want:   []string{"a", "b"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var paths []string
			for _, n := range tc.order {
				if c, ok := tc.inputs[n]; ok {
					writeFile(t, dir, n, c)
				}
				paths = append(paths, dir+"/"+n)
			}
			var late []string
			res := run(t, &Replay{Paths: paths, Window: tc.window, chunk: 64, OnLate: func(e *audit.Event) { late = append(late, e.AuditID) }})
			if int64(len(late)) != tc.late {
				t.Errorf("OnLate heard of %v, want %d events", late, tc.late)
			}
			if res.err != nil {
				t.Fatal(res.err)
			}
			if got := res.ids(); !eq(got, tc.want) {
				t.Errorf("order %v, want %v", got, tc.want)
			}
			if res.sum.Late != tc.late || res.sum.Events != int64(len(tc.want)) {
				t.Errorf("late %d events %d, want %d and %d", res.sum.Late, res.sum.Events, tc.late, len(tc.want))
			}
			for _, b := range res.batches {
				for _, e := range b.Events {
					for name, c := range tc.inputs {
						if strings.Contains(c, `"auditID":"`+e.AuditID+`"`) && e.Source != name {
							t.Errorf("%s: source %q, want %q", e.AuditID, e.Source, name)
						}
					}
				}
			}
		})
	}
}

// TestMergeSources: events carry their source's name, inferred from one
// directory per host or given explicitly.
func TestMergeSources(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "cp1/audit.log", timed("a@1", "c@3"))
	writeFile(t, dir, "cp2/audit.log", timed("b@2"))
	writeFile(t, dir, "hook.log", timed("d@4"))
	for _, tc := range []struct {
		name string
		r    Replay
		want map[string]string // auditID -> source
	}{
		{"directories", Replay{Paths: []string{dir + "/cp1", dir + "/cp2/"}}, map[string]string{"a": "cp1", "b": "cp2", "c": "cp1"}},
		{"same file names", Replay{Paths: []string{dir + "/cp1/audit.log", dir + "/cp2/audit.log"}}, map[string]string{"a": "cp1", "b": "cp2", "c": "cp1"}},
		{"named", Replay{Paths: []string{dir + "/hook.log"}, Sources: []Named{{Name: "east", Paths: []string{dir + "/cp1"}, Explicit: true}}},
			map[string]string{"a": "east", "c": "east", "d": "hook.log"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, &tc.r)
			got := map[string]string{}
			for _, b := range res.batches {
				for _, e := range b.Events {
					got[e.AuditID] = e.Source
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("sources %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseSource(t *testing.T) {
	for in, ok := range map[string]bool{"cp1=/var/log": true, "=x": false, "x=": false, "x": false} {
		if _, got := ParseSource(in); got != ok {
			t.Errorf("ParseSource(%q) ok %v", in, got)
		}
	}
}

// TestMergeMany: inputs of thousands of events, each written slightly out
// of order (less than the window), come out in time order, every event
// once, each readable again at its offset (run's checkRaw), whether they
// are handed on as runs of one input's batch or copied.
func TestMergeMany(t *testing.T) {
	for _, n := range []int{1, 3} {
		t.Run(fmt.Sprint(n, " inputs"), func(t *testing.T) {
			dir := t.TempDir()
			rng := rand.New(rand.NewPCG(uint64(n), 7))
			var paths []string
			total := 0
			for k := range n {
				var items []string
				for i := range 3000 {
					sec := i*n + k
					if rng.IntN(10) == 0 {
						sec = max(0, sec-rng.IntN(30)) // written late, within the window
					}
					items = append(items, fmt.Sprintf("k%d-%d@%d", k, i, sec))
				}
				paths = append(paths, writeFile(t, dir, fmt.Sprintf("cp%d/audit.log", k), timed(items...)))
				total += len(items)
			}
			var last time.Time
			seen := map[string]bool{}
			check := func(b Batch) {
				for _, e := range b.Events {
					if e.StageTime.Before(last) {
						t.Fatalf("%s at %v after %v", e.AuditID, e.StageTime, last)
					}
					last = e.StageTime
					if seen[e.AuditID] {
						t.Fatalf("%s twice", e.AuditID)
					}
					seen[strings.Clone(e.AuditID)] = true // a recycled chunk's bytes change
				}
			}
			res := run(t, &Replay{Paths: paths, Window: 64, chunk: 4096})
			for _, b := range res.batches {
				check(b)
			}
			if len(seen) != total || res.sum.Late != 0 {
				t.Errorf("%d events of %d, %d late", len(seen), total, res.sum.Late)
			}
			// Recycling: each batch is looked at once, while emit runs
			// (the copied batches' arrays are reused after).
			last, seen = time.Time{}, map[string]bool{}
			sum, err := (&Replay{Paths: paths, Window: 64, chunk: 4096, Recycle: true}).Run(context.Background(), func(b Batch) error {
				check(b)
				checkRaw(t, []Batch{b})
				return nil
			})
			if err != nil || len(seen) != total || sum.Late != 0 {
				t.Errorf("recycling: %d events of %d, %d late, %v", len(seen), total, sum.Late, err)
			}
		})
	}
}
