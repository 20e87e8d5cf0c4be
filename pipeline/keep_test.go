package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/ingest"
	"github.com/kaudit/kaudit/query"
	"github.com/kaudit/kaudit/store"
	"github.com/kaudit/kaudit/views"
)

// TestKeepStoresOnlyWhatCanBePrinted: with Keep, the events failing it are
// not stored, a malformed line is still reported with its line, and what
// the filter prints is the same as without Keep.
func TestKeepStoresOnlyWhatCanBePrinted(t *testing.T) {
	lines := fixture(t, 12)
	// A duplicate of line 1 and a malformed line among them.
	input := append(append(lines[:6:6], "{not json", lines[0]), lines[6:]...)
	path := writeLog(t, t.TempDir(), input...)
	for _, tc := range []struct {
		filter string
		fewer  bool // Keep leaves some events out
		prints bool // the filter keeps some events
	}{
		{filter: `.verb == "get"`, fewer: true, prints: true},
		{filter: `.objectRef.resource == "no-such-resource"`, fewer: true},
		{filter: `.verb | length > 0`, prints: true}, // no literal: no pre-filter, nothing left out
	} {
		t.Run(tc.filter, func(t *testing.T) {
			f, err := query.Compile(tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			all, want, wantProblems := replayKept(t, []string{path}, f, nil)
			some, got, problems := replayKept(t, []string{path}, f, f.RawPrefilter())
			if tc.prints == (want == "") {
				t.Errorf("printed %q; want something: %v", want, tc.prints)
			}
			if got != want {
				t.Errorf("printed with Keep:\n%s\nwithout:\n%s", got, want)
			}
			if all.Len() != len(lines) {
				t.Errorf("without Keep stored %d, want %d (the duplicate dropped)", all.Len(), len(lines))
			}
			if tc.fewer != (some.Len() < all.Len()) {
				t.Errorf("with Keep stored %d of %d events; want fewer: %v", some.Len(), all.Len(), tc.fewer)
			}
			if len(problems) != 1 || len(wantProblems) != 1 || problems[0].Line != 7 {
				t.Errorf("problems with Keep %+v, without %+v; want line 7 reported by both", problems, wantProblems)
			}
		})
	}
}

// replayKept replays paths through a pipeline with keep, and returns its
// store, what f keeps of it as printed (views.WriteRaw), and the problems
// the replay reported.
func replayKept(t *testing.T, paths []string, f *query.Filter, keep func([]byte) bool) (*store.Store, string, []ingest.Problem) {
	t.Helper()
	var problems []ingest.Problem
	r := &ingest.Replay{Paths: paths, OnProblem: func(p ingest.Problem) { problems = append(problems, p) }}
	p, err := Run(context.Background(), Config{Source: Replay(r), Keep: keep})
	if err != nil {
		t.Fatal(err)
	}
	kept, err := f.Eval(context.Background(), p.Store, p.Store.All())
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := views.WriteRaw(&out, p.Store, kept, false); err != nil {
		t.Fatal(err)
	}
	return p.Store, out.String(), problems
}

// TestKeepRefusedBesideConsumersOfEveryEvent: Each and OnStored see every
// event, so Keep cannot go with them.
func TestKeepRefusedBesideConsumersOfEveryEvent(t *testing.T) {
	keep := func(raw []byte) bool { return strings.Contains(string(raw), "x") }
	for _, cfg := range []Config{
		{Keep: keep, Each: func(ingest.Batch) error { return nil }},
		{Keep: keep, OnStored: func(ingest.Batch) {}},
	} {
		cfg.Source = Replay(&ingest.Replay{Paths: []string{"-"}, Stdin: strings.NewReader("")})
		if _, err := Start(context.Background(), cfg); err == nil {
			t.Error("Start took Keep beside a consumer of every event")
		}
	}
}

// TestKeepHoldsKeptBytes: with Keep, the kept events' bytes are held in
// memory (up to memRawLimit), so printing them reads nothing back: they
// print even once the file is gone.
func TestKeepHoldsKeptBytes(t *testing.T) {
	lines := fixture(t, 12)
	path := writeLog(t, t.TempDir(), lines...)
	f, err := query.Compile(`.verb == "get"`)
	if err != nil {
		t.Fatal(err)
	}
	r := &ingest.Replay{Paths: []string{path}}
	p, err := Run(context.Background(), Config{Source: Replay(r), Keep: f.RawPrefilter()})
	if err != nil {
		t.Fatal(err)
	}
	kept, err := f.Eval(context.Background(), p.Store, p.Store.All())
	if err != nil || kept.IsEmpty() {
		t.Fatalf("kept %v, %v", kept, err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := views.WriteRaw(&out, p.Store, kept, false); err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(out.String()) {
		if !slices.Contains(lines, strings.TrimSuffix(line, "\n")) || !strings.Contains(line, `"verb":"get"`) {
			t.Errorf("printed %q", line)
		}
	}
	if got := strings.Count(out.String(), "\n"); got != int(kept.GetCardinality()) {
		t.Errorf("printed %d lines for %d events", got, kept.GetCardinality())
	}
}

func TestMemRawLimit(t *testing.T) {
	var m memRaw
	file := bytes.NewReader(nil)
	big := bytes.Repeat([]byte("x"), memRawLimit/2+1)
	evs := []audit.Event{{Raw: big}}
	if raw, offs := m.hold(evs, file, []int64{7}); raw != &m || offs[0] != 0 {
		t.Errorf("first event: %T at %v", raw, offs)
	}
	if raw, offs := m.hold(evs, file, []int64{7}); raw != file || offs[0] != 7 {
		t.Errorf("past the limit: %T at %v, want the file's", raw, offs)
	}
	buf := make([]byte, 4)
	if n, err := m.ReadAt(buf, int64(len(big))-2); n != 2 || err != io.EOF {
		t.Errorf("ReadAt past the end: %d, %v", n, err)
	}
}

// TestKeepMergedInputs: with Keep over several inputs merged by time, the
// filter prints the same events in the same order as without Keep, and
// the same problems are reported (the stubs the replay leaves out still
// take their place in the merge).
func TestKeepMergedInputs(t *testing.T) {
	lines := fixture(t, 37)
	dir := t.TempDir()
	var paths []string
	bad := 0
	for k := range 3 {
		var mine []string
		for i := k; i < len(lines); i += 3 {
			mine = append(mine, lines[i])
			if i%4 == 0 {
				mine = append(mine, "{not json")
				bad++
			}
		}
		slices.Reverse(mine[len(mine)/2:]) // out of order: the window sorts it
		sub := filepath.Join(dir, fmt.Sprintf("cp%d", k))
		if err := os.Mkdir(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, writeLog(t, sub, mine...))
	}
	for _, filter := range []string{`.verb == "get"`, `.objectRef.namespace == "ns1" and .verb == "list"`} {
		f, err := query.Compile(filter)
		if err != nil {
			t.Fatal(err)
		}
		run := func(keep func([]byte) bool) (string, []string, int) {
			st, out, probs := replayKept(t, paths, f, keep)
			var problems []string
			for _, p := range probs {
				problems = append(problems, fmt.Sprintf("%s:%d %s", p.Path, p.Line, p.Kind))
			}
			slices.Sort(problems) // each input in its order, inputs in any
			return out, problems, st.Len()
		}
		want, wantProblems, all := run(nil)
		got, problems, some := run(f.RawPrefilter())
		if got != want || want == "" {
			t.Errorf("%s: printed with Keep:\n%s\nwithout:\n%s", filter, got, want)
		}
		if some >= all {
			t.Errorf("%s: stored %d of %d events with Keep; want fewer", filter, some, all)
		}
		if !slices.Equal(problems, wantProblems) || len(problems) != bad {
			t.Errorf("%s: problems with Keep %v, without %v; want the same %d", filter, problems, wantProblems, bad)
		}
	}
}

// TestMemRawBlocks: events held across memRaw's blocks read back whole,
// one by one and as one run of several.
func TestMemRawBlocks(t *testing.T) {
	var m memRaw
	var evs []audit.Event
	var all []byte
	for i := range 40 {
		raw := bytes.Repeat([]byte{byte('a' + i%26)}, 1+i*i*97%(3*memBlock/2))
		evs = append(evs, audit.Event{Raw: raw})
		all = append(all, raw...)
	}
	raw, offs := m.hold(evs, nil, make([]int64, len(evs)))
	if raw != &m || len(m.blocks) < 3 {
		t.Fatalf("held in %T, %d blocks; want memRaw, several", raw, len(m.blocks))
	}
	for i, e := range evs {
		got := make([]byte, len(e.Raw))
		if n, err := m.ReadAt(got, offs[i]); n != len(got) || err != nil || !bytes.Equal(got, e.Raw) {
			t.Fatalf("event %d at %d: %d bytes, %v, equal %v", i, offs[i], n, err, bytes.Equal(got, e.Raw))
		}
	}
	got := make([]byte, len(all)-int(offs[3])+5)
	if n, err := m.ReadAt(got, offs[3]); n != len(got)-5 || err != io.EOF || !bytes.Equal(got[:n], all[offs[3]:]) {
		t.Errorf("a run from event 3 to past the end: %d bytes, %v", n, err)
	}
}
