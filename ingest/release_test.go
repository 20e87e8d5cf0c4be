package ingest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kaudit/kaudit/audit"
)

// givenBack is the auditID a chunk's events get when the merge gives the
// chunk back (poison): one handed on after that was given back too early.
const givenBack = "GIVEN-BACK"

// poison overwrites a chunk given back, as a worker decoding the next
// chunk into it would, but every time: its events and its bytes.
func poison(c *chunkRef) {
	evs := c.arrays.events[:cap(c.arrays.events)]
	for i := range evs {
		evs[i] = audit.Event{AuditID: givenBack, Raw: []byte(givenBack)}
	}
	for i := range c.whole {
		c.whole[i] = '#'
	}
}

// TestMergeGivesChunksBackAfterTheirEvents: a merge (with Recycle) gives
// a chunk back only once every event of it was handed on. Each released
// chunk is overwritten at once, so an event handed on after its chunk
// came back shows as givenBack, every run, not one race in ten. The cases
// that failed before 5a25b6c: one-line files (the output switches file at
// each event and flushes the previous one's run) and a chunk of one event
// after a long run (the run is flushed as it is placed). The others
// (events reordered across tiny chunks, copies of several sources
// interleaved, stubs) guard the other paths.
func TestMergeGivesChunksBackAfterTheirEvents(t *testing.T) {
	type input struct {
		name  string
		items []string // "id@sec" (see timed), one line each
	}
	var oneLine []input
	for i := range 40 {
		oneLine = append(oneLine, input{fmt.Sprintf("d/f%03d.log", i), []string{fmt.Sprintf("f%d@%d", i, i)}})
	}
	var reordered, a, b []string
	for i := range 200 {
		reordered = append(reordered, fmt.Sprintf("r%d@%d", i, i^3)) // swaps in fours
		if i%2 == 0 {
			a = append(a, fmt.Sprintf("a%d@%d", i, i))
		} else {
			b = append(b, fmt.Sprintf("b%d@%d", i, i))
		}
	}
	// A run of minRun or more events, a whole chunk, is followed by a
	// chunk of one event: the run is flushed as that event is placed.
	var runThenOne []string
	for i := range 51 {
		runThenOne = append(runThenOne, fmt.Sprintf("a%d@%d", 100+i, 100+i))
	}
	lineLen := len(timed("a100@100"))
	for _, tc := range []struct {
		name   string
		inputs []input
		paths  []string // relative to the temp dir
		chunk  int
		window int
		skim   bool
	}{
		{"one-line files in one directory", oneLine, []string{"d"}, 0, 0, false},
		{"one-line files, some stubbed", oneLine, []string{"d"}, 0, 0, true},
		{"a run, then a chunk of one event", []input{{"r.log", runThenOne}}, []string{"r.log"}, 50*lineLen + lineLen/2, 0, false},
		{"reordered across tiny chunks", []input{{"r.log", reordered}}, []string{"r.log"}, 600, 8, false},
		{"reordered, some stubbed", []input{{"r.log", reordered}}, []string{"r.log"}, 600, 8, true},
		{"two sources interleaved", []input{{"a.log", a}, {"b.log", b}}, []string{"a.log", "b.log"}, 600, 4, false},
		{"two sources, one-line files", oneLine, []string{"d/f000.log", "d"}, 0, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var want []string
			for _, in := range tc.inputs {
				writeFile(t, dir, in.name, timed(in.items...))
			}
			var paths []string
			for _, p := range tc.paths {
				paths = append(paths, dir+"/"+p)
			}
			var skim func([]byte) (time.Time, bool)
			if tc.skim {
				// Every third event is stubbed.
				skim = func(doc []byte) (time.Time, bool) {
					if id := auditID(doc); id[len(id)-1]%3 != 0 {
						return time.Time{}, false
					}
					return audit.Skim(doc)
				}
			}
			run := func(released func(*chunkRef)) []string {
				var got []string
				r := &Replay{Paths: paths, Window: tc.window, chunk: tc.chunk, Workers: 2, Recycle: true, Skim: skim, released: released}
				_, err := r.Run(context.Background(), func(b Batch) error {
					checkRaw(t, []Batch{b})
					for _, e := range b.Events {
						got = append(got, strings.Clone(e.AuditID))
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				return got
			}
			want = run(nil)
			if len(want) < 20 {
				t.Fatalf("%d events handed on: the inputs test nothing", len(want))
			}
			given := 0
			got := run(func(c *chunkRef) { given++; poison(c) })
			if given == 0 {
				t.Fatal("no chunk was given back: the test tests nothing")
			}
			if !eq(got, want) {
				t.Errorf("with chunks overwritten once given back, handed on %d events:\n%v\nwant %d:\n%v", len(got), got, len(want), want)
			}
		})
	}
}

// auditID is the auditID of an evAt line.
func auditID(doc []byte) string {
	_, rest, _ := strings.Cut(string(doc), `"auditID":"`)
	id, _, _ := strings.Cut(rest, `"`)
	return id
}
