package pipeline

import (
	"bytes"
	"context"
	"strings"
	"testing"

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
			run := func(keep func([]byte) bool) (*store.Store, string, []ingest.Problem) {
				var problems []ingest.Problem
				r := &ingest.Replay{Paths: []string{path}, OnProblem: func(p ingest.Problem) { problems = append(problems, p) }}
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
			all, want, wantProblems := run(nil)
			some, got, problems := run(f.RawPrefilter())
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
