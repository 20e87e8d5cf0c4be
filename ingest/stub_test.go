package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kaudit/kaudit/audit"
)

// skimUnkept stubs what audit.Skim finds fine but for events whose line
// or document says "keep".
func skimUnkept(doc []byte) (time.Time, bool) {
	if strings.Contains(string(doc), "keep") {
		return time.Time{}, false
	}
	return audit.Skim(doc)
}

// TestStubsMergeAsEvents: a replay that stubs what Skim rules out hands on
// the same events, in the same order across several inputs, as one that
// decodes everything, less the stubs; and counts the same: events, late
// events (OnLate hears of the same times and sources), lines, problems
// with their lines. Inputs are out of order, some beyond the window; some
// events have no time (decoded, not stubbed), some lines are bad or
// EventLists. Tiny chunks and Recycle make a chunk given back too early
// show as a wrong event.
func TestStubsMergeAsEvents(t *testing.T) {
	for _, tc := range []struct {
		inputs, window, chunk int
		recycle               bool
	}{
		{1, 0, 0, false},
		{1, 16, 512, true},
		{3, 16, 512, false},
		{3, 16, 512, true},
		{3, 64, 4096, true},
		{2, 8, 300, true},
	} {
		t.Run(fmt.Sprintf("%d inputs window %d chunk %d recycle %v", tc.inputs, tc.window, tc.chunk, tc.recycle), func(t *testing.T) {
			paths, stubbed := stubInputs(t, tc.inputs, skimUnkept)
			replay := func(skim func([]byte) (time.Time, bool)) ([]string, []string, []string, Summary) {
				var evs, late, probs []string
				r := &Replay{Paths: paths, Window: tc.window, chunk: tc.chunk, Recycle: tc.recycle, Skim: skim,
					OnLate: func(e *audit.Event) { late = append(late, e.StageTime.Format(time.RFC3339)+" "+e.Source) },
					OnProblem: func(p Problem) {
						probs = append(probs, fmt.Sprintf("%s:%d %s %s %d", filepath.Base(filepath.Dir(p.Path)), p.Line, p.Kind, p.Msg, p.More))
					}}
				sum, err := r.Run(context.Background(), func(b Batch) error {
					checkRaw(t, []Batch{b})
					for _, e := range b.Events {
						evs = append(evs, strings.Clone(e.AuditID+" "+e.Source+" "+e.StageTime.Format(time.RFC3339)))
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				return evs, late, probs, sum
			}
			all, wantLate, wantProbs, wantSum := replay(nil)
			got, late, probs, sum := replay(skimUnkept)
			var want []string
			for _, e := range all {
				if !stubbed[strings.Fields(e)[0]] {
					want = append(want, e)
				}
			}
			if len(want) == len(all) || len(want) == 0 || tc.window > 0 && wantSum.Late == 0 {
				t.Fatalf("%d of %d events kept, %d late: the inputs test nothing", len(want), len(all), wantSum.Late)
			}
			if !eq(got, want) {
				t.Errorf("with stubs handed on %d events:\n%v\nwant %d:\n%v", len(got), got, len(want), want)
			}
			if sum != wantSum {
				t.Errorf("with stubs counted %+v, want %+v", sum, wantSum)
			}
			if !eq(late, wantLate) {
				t.Errorf("OnLate heard of %v, want %v", late, wantLate)
			}
			// Each input reports in its order; inputs in any order.
			slices.Sort(probs)
			slices.Sort(wantProbs)
			if !eq(probs, wantProbs) || len(probs) == 0 {
				t.Errorf("problems %q\nwant %q", probs, wantProbs)
			}
		})
	}
}

// stubInputs writes n inputs of events written out of order, a few beyond
// a small window, some without a time, some to keep, with a bad line and
// an EventList here and there; stubbed are the auditIDs of the lines skim
// stubs (with a time).
func stubInputs(t *testing.T, n int, skim func([]byte) (time.Time, bool)) (paths []string, stubbed map[string]bool) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(n), 21))
	stubbed = map[string]bool{}
	for k := range n {
		var ls []string
		for i := range 600 {
			id := fmt.Sprintf("k%d-%d", k, i)
			if rng.IntN(9) == 0 {
				id += "-keep"
			}
			sec := i*n + k
			switch r := rng.IntN(40); {
			case r < 3:
				sec = max(0, sec-rng.IntN(600)) // late, mostly beyond the window
			case r == 3:
				sec = -1 // no time
			case r == 4:
				ls = append(ls, "{not json "+id)
				continue
			case r == 5:
				ls = append(ls, evList(id+"-a", id+"-b"))
				continue
			}
			line := evAt(id, sec)
			if t, ok := skim([]byte(line)); ok && !t.IsZero() {
				stubbed[id] = true
			}
			ls = append(ls, line)
		}
		paths = append(paths, writeFile(t, dir, fmt.Sprintf("cp%d/audit.log", k), lines(ls...)))
	}
	return paths, stubbed
}

// TestStubsDocMode: pretty-printed documents (doc mode) stubbed by Skim,
// in input order (Window < 0) and merged, hand on the events Skim lets
// through and count as a replay that decodes every document.
func TestStubsDocMode(t *testing.T) {
	var buf bytes.Buffer
	for i := range 300 {
		id := fmt.Sprintf("d%d", i)
		if i%7 == 0 {
			id += "-keep"
		}
		sec := i
		if i%11 == 0 {
			sec = max(0, i-100)
		}
		var out bytes.Buffer
		if err := json.Indent(&out, []byte(evAt(id, sec)), "", "  "); err != nil {
			t.Fatal(err)
		}
		buf.Write(out.Bytes())
		buf.WriteString("\n")
	}
	path := writeFile(t, t.TempDir(), "a.json", buf.String())
	for _, w := range []int{-1, 0, 16} {
		run := func(skim func([]byte) (time.Time, bool)) ([]string, Summary) {
			var evs []string
			r := &Replay{Paths: []string{path}, Window: w, chunk: 700, Recycle: true, Skim: skim}
			sum, err := r.Run(context.Background(), func(b Batch) error {
				for _, e := range b.Events {
					evs = append(evs, strings.Clone(e.AuditID))
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			return evs, sum
		}
		all, ws := run(nil)
		got, s := run(skimUnkept)
		var want []string
		for _, e := range all {
			if strings.Contains(e, "keep") {
				want = append(want, e)
			}
		}
		if len(want) == 0 || len(want) == len(all) || w > 0 && ws.Late == 0 {
			t.Fatalf("window %d: %d of %d kept, %d late: the input tests nothing", w, len(want), len(all), ws.Late)
		}
		if !eq(got, want) || s != ws {
			t.Errorf("window %d: got %v %+v want %v %+v", w, got, s, want, ws)
		}
	}
}
