package query

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/itchyny/gojq"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/store"
)

// TestSourceHelperPlanned: the source helper compared with literals is
// answered from the source postings (the plan runs no jq), and keeps the
// same events as the same program run by gojq on every event, the helper
// bound to each event's source.
func TestSourceHelperPlanned(t *testing.T) {
	st := store.New()
	var evs []audit.Event
	var offs []int64
	var data strings.Builder
	for i, src := range []string{"cp1", "cp2", "", "cp1", "webhook", "cp2", "cp10"} {
		line := fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"%08d-0000-4000-8000-000000000000","stage":"ResponseComplete","verb":"get","stageTimestamp":"2026-11-25T10:00:0%dZ"}`, i, i)
		got, err := audit.Decode([]byte(line), nil)
		if err != nil || len(got) != 1 {
			t.Fatal(err)
		}
		got[0].Source = src
		offs = append(offs, int64(data.Len()))
		data.WriteString(line + "\n")
		evs = append(evs, got[0])
	}
	st.Append(evs, strings.NewReader(data.String()), offs)
	for _, tt := range []struct{ filter, plan string }{
		{`source == "cp1"`, `source == "cp1"`},
		{`"cp2" == source`, `source == "cp2"`},
		{`source != "cp1"`, `not(source == "cp1")`},
		{`source == ""`, `source == ""`},
		{`select(source == "cp1" or source == "webhook")`, `(source == "cp1" or source == "webhook")`},
		{`source == "cp1" and .verb == "get"`, `(source == "cp1" and .verb == "get")`},
		{`source | startswith("cp1")`, `source | startswith("cp1")`},
		{`source | IN("cp2", "webhook")`, `source | IN("cp2", "webhook")`},
		{`source == null`, `source == null`},
		{`def source: "cp1"; source == "cp1"`, `jq(def source: "cp1"; source == "cp1")`}, // its own source: not the helper
	} {
		f, err := Compile(tt.filter)
		if err != nil {
			t.Fatalf("Compile(%q): %v", tt.filter, err)
		}
		if f.Plan() != tt.plan {
			t.Errorf("%s\n plan %s\n want %s", tt.filter, f.Plan(), tt.plan)
		}
		got, err := f.Eval(context.Background(), st, st.All())
		if err != nil {
			t.Fatal(err)
		}
		want := unplanned(t, st, tt.filter)
		if !slices.Equal(got.ToArray(), want) {
			t.Errorf("%s: kept %v, gojq on every event keeps %v", tt.filter, got.ToArray(), want)
		}
	}
}

// unplanned runs src as one jq program (no index) on every event of st.
func unplanned(t *testing.T, st *store.Store, src string) []uint32 {
	t.Helper()
	q, err := gojq.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	r, err := newResidue(q, true)
	if err != nil {
		t.Fatal(err)
	}
	ec := &evalCtx{ctx: context.Background(), st: st, noPrefilter: true}
	kept, _, err := r.eval(ec, st.All(), false)
	if err != nil {
		t.Fatal(err)
	}
	if ec.decoded.Load() != int64(st.Len()) {
		t.Fatalf("%s: the unplanned run decoded %d of %d events", src, ec.decoded.Load(), st.Len())
	}
	return kept.ToArray()
}
