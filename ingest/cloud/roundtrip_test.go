package cloud_test

import (
	"bytes"
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kaudit/kaudit/gen"
	"github.com/kaudit/kaudit/ingest"
	"github.com/kaudit/kaudit/store"
	"github.com/kaudit/kaudit/views"
)

// replayViews reads path as `kaudit replay` does and builds views.
func replayViews(t *testing.T, path string, vs []views.View) map[views.View]*views.Table {
	t.Helper()
	st := store.New()
	r := ingest.Replay{Paths: []string{path}, OnProblem: func(p ingest.Problem) { t.Errorf("%s: problem: %s", filepath.Base(path), p) }}
	if _, err := r.Run(context.Background(), func(b ingest.Batch) error {
		st.Append(b.Events, b.Raw, b.Offsets)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	out := map[views.View]*views.Table{}
	for _, v := range vs {
		tab, err := views.Build(st, st.Requests(), v, 0)
		if err != nil {
			t.Fatal(err)
		}
		out[v] = tab
	}
	return out
}

// perUser is requests and denials per real user (impersonation folded in).
func perUser(t *testing.T, tab *views.Table) map[string][2]int64 {
	col := map[string]int{}
	for i, c := range tab.Columns {
		col[c.Key] = i
	}
	out := map[string][2]int64{}
	for _, r := range tab.Rows {
		user, _, _ := strings.Cut(r[col["user"]].(string), " (as ")
		n := out[user]
		n[0] += int64(r[col["requests"]].(int))
		n[1] += int64(r[col["denied"]].(int))
		out[user] = n
	}
	if len(out) < 10 {
		t.Fatalf("only %d users", len(out))
	}
	return out
}

// render writes tab as text without the columns whose JSON keys are in drop.
func render(t *testing.T, tab *views.Table, drop []string) string {
	keep := []int{}
	cut := views.Table{View: tab.View}
	for i, c := range tab.Columns {
		if !slices.Contains(drop, c.Key) {
			keep = append(keep, i)
			cut.Columns = append(cut.Columns, c)
		}
	}
	for _, r := range tab.Rows {
		row := make([]any, 0, len(keep))
		for _, i := range keep {
			row = append(row, r[i])
		}
		cut.Rows = append(cut.Rows, row)
	}
	var b bytes.Buffer
	if err := views.WriteText(&b, &cut); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestRoundTrip wraps the generator's log in each envelope, reads it back
// and compares the users, denials and latency views with the plain log's.
// notCarried lists the views that differ because the envelope cannot carry
// what they show.
func TestRoundTrip(t *testing.T) {
	g := gen.New(gen.Config{Seed: 7})
	var events [][]byte
	var plain bytes.Buffer
	for range 3000 {
		ev := g.Next(nil)
		events = append(events, ev)
		plain.Write(ev)
		if len(ev) > 0 && ev[len(ev)-1] != '\n' {
			plain.WriteByte('\n')
		}
	}
	dir := t.TempDir()
	plainPath := filepath.Join(dir, "audit.log")
	if err := os.WriteFile(plainPath, plain.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	all := []views.View{views.ViewUsers, views.ViewDenials, views.ViewLatency}
	want := replayViews(t, plainPath, all)
	if n := len(want[views.ViewDenials].Rows); n < 5 {
		t.Fatalf("the generated log has too few denials to compare: %d rows", n)
	}
	tests := []struct {
		env gen.Envelope
		// notCarried: per view, the columns (JSON keys; "*" for all) that
		// differ because the envelope cannot carry a field, and which one.
		notCarried map[views.View][]string
		why        string
	}{
		{gen.EnvelopeAKS, nil, ""},
		{gen.EnvelopeCloudWatch, nil, ""},
		{gen.EnvelopeGKE, map[views.View][]string{
			views.ViewUsers:   {"*"}, // compared below without latency and impersonation
			views.ViewLatency: {"*"},
		}, "requestReceivedTimestamp (a LogEntry has one timestamp, so no latency) and impersonatedUser"},
	}
	for _, tt := range tests {
		t.Run(string(tt.env), func(t *testing.T) {
			var b bytes.Buffer
			if err := gen.WriteEnvelope(&b, tt.env, "demo", events); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, string(tt.env)+".json")
			if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			got := replayViews(t, path, all)
			for _, v := range all {
				drop := tt.notCarried[v]
				if len(drop) > 0 && render(t, got[v], nil) == render(t, want[v], nil) {
					t.Errorf("view %s is listed as not carried (%s) but came back identical", v, tt.why)
				}
				if slices.Contains(drop, "*") {
					if v == views.ViewUsers {
						if g, w := perUser(t, got[v]), perUser(t, want[v]); !maps.Equal(g, w) {
							t.Errorf("requests and denials per user differ after the %s round trip:\ngot  %v\nwant %v", tt.env, g, w)
						}
					}
					continue
				}
				if g, w := render(t, got[v], drop), render(t, want[v], drop); g != w {
					t.Errorf("view %s differs after the %s round trip:\ngot:\n%s\nwant:\n%s", v, tt.env, g, w)
				}
			}
		})
	}
}
