package store

import (
	"reflect"
	"strings"
	"testing"

	"github.com/kaudit/kaudit/audit"
)

// blank clears e's columns that cols does not hold: what a store keeping
// only cols has of e.
func blank(e Entry, cols Columns) Entry {
	for _, c := range []struct {
		col Columns
		v   *string
	}{
		{UserCol, &e.User.Name}, {ImpersonatedCol, &e.Impersonated.Name}, {VerbCol, &e.Verb},
		{APIGroupCol, &e.Object.APIGroup}, {APIVersionCol, &e.Object.APIVersion}, {ResourceCol, &e.Object.Resource},
		{SubresourceCol, &e.Object.Subresource}, {NamespaceCol, &e.Object.Namespace}, {NameCol, &e.Object.Name},
		{UserAgentCol, &e.UserAgent}, {SourceIPCol, &e.SourceIP}, {ReasonCol, &e.Reason}, {MessageCol, &e.Message},
		{PathCol, &e.Path}, {DecisionCol, &e.Decision}, {SourceCol, &e.Source},
	} {
		if cols&c.col == 0 {
			*c.v = ""
		}
	}
	if cols&GroupsCol == 0 {
		e.User.Groups = nil
	}
	if cols&ImpersonatedGroupsCol == 0 {
		e.Impersonated.Groups = nil
	}
	return e
}

// projected is what a store keeping only cols answers, through readers
// that read only those.
type projected struct {
	entries  []Entry
	values   map[Field]map[string][]uint32
	requests []uint32
	stages   map[ID][]ID
	stats    Stats
}

func projectedOf(s *Store, cols Columns, full bool) projected {
	a := projected{values: map[Field]map[string][]uint32{}, stages: map[ID][]ID{}}
	s.EachColumns(s.All(), cols, func(e *Entry) bool {
		if full {
			a.entries = append(a.entries, blank(*e, cols))
		} else {
			a.entries = append(a.entries, *e)
		}
		a.stages[e.ID] = s.Stages(e.ID)
		return true
	})
	for _, f := range Fields() {
		if fc := FieldColumns(f); fc&cols != fc {
			continue
		}
		a.values[f] = map[string][]uint32{}
		for _, v := range s.Values(f) {
			a.values[f][v] = s.Postings(f, v).ToArray()
		}
	}
	a.requests = s.Requests().ToArray()
	a.stats = s.Stats()
	a.stats.Strings, a.stats.IndexBytes = 0, 0
	return a
}

// TestOnlyColumnsSame: a store keeping only some columns answers as a
// full store of the same events does with the other columns blanked:
// entries, stages, requests, the kept fields' postings and the counts,
// over the realistic generator's events (stages, duplicates,
// impersonation, groups) and churned ones, with and without keys (some
// batches without, as the merge hands them), lazy postings or not,
// retention or not. The dropped columns hold nothing.
func TestOnlyColumnsSame(t *testing.T) {
	parts := keysParts(t)
	for _, tc := range []struct {
		name string
		cols Columns
	}{
		{"none", 0},
		{"users", UserCol | ImpersonatedCol},
		{"resources", APIGroupCol | ResourceCol | SubresourceCol | PathCol},
		{"groups", UserCol | GroupsCol | ImpersonatedGroupsCol},
		{"source and name", SourceCol | NameCol | ReasonCol},
		{"all but the source", AllColumns &^ SourceCol},
	} {
		for _, lazy := range []bool{false, true} {
			for _, retain := range []bool{false, true} {
				opts := []Option{ChunkEvents(testChunk)}
				if lazy {
					opts = append(opts, LazyPostings())
				}
				full, proj := New(opts...), New(append(opts, OnlyColumns(tc.cols))...)
				for i, p := range parts {
					full.Append(p.evs, p.raw, p.offs)
					var keys []audit.Keys
					if i%7 != 3 {
						keys = make([]audit.Keys, len(p.evs))
						proj.Prepare(p.evs, keys)
					}
					proj.AppendKeys(p.evs, keys, p.raw, p.offs)
					if retain {
						full.Retain(3*testChunk, 0)
						proj.Retain(3*testChunk, 0)
					}
				}
				a, b := projectedOf(full, tc.cols, true), projectedOf(proj, tc.cols, false)
				if len(a.entries) == 0 || !reflect.DeepEqual(a, b) {
					t.Fatalf("%s lazy %v retain %v: the projected store answers differently (%d and %d entries, stats %+v and %+v)",
						tc.name, lazy, retain, len(a.entries), len(b.entries), a.stats, b.stats)
				}
				if got := proj.Projection(); got != tc.cols {
					t.Errorf("%s: Projection() = %v", tc.name, got)
				}
				for col := range numStrCols {
					if tc.cols&(1<<col) != 0 {
						continue
					}
					if n := len(proj.dicts[col].strs); n != 1 {
						t.Errorf("%s: dropped column %s interned %d values", tc.name, colNames[col], n)
					}
					for _, c := range proj.chunks {
						if c != proj.gone && c.str[col].bytes() != 0 {
							t.Fatalf("%s: dropped column %s holds %d bytes", tc.name, colNames[col], c.str[col].bytes())
						}
					}
				}
				if tc.cols&GroupsCol == 0 && len(proj.groupSets.strs) != 1 {
					t.Errorf("%s: dropped groups interned %d lists", tc.name, len(proj.groupSets.strs))
				}
			}
		}
	}
}

// TestDroppedColumnPanics: every reader of a column a store dropped panics
// with a message naming the column, and the same readers of kept columns
// do not.
func TestDroppedColumnPanics(t *testing.T) {
	evs, offs, raw := generated(t, 500)
	s := New(OnlyColumns(UserCol | VerbCol))
	s.Append(evs, raw, offs)
	all := s.All()
	row := func(fn func(Row)) func() { return func() { s.Select(all, func(r Row) bool { fn(r); return false }) } }
	for _, tc := range []struct {
		name   string
		read   func()
		column string // "" when the read is fine
	}{
		{"Field kept", row(func(r Row) { r.Field(FieldUser) }), ""},
		{"FieldKey kept", row(func(r Row) { r.FieldKey(FieldVerb) }), ""},
		{"EachColumns kept", func() { s.EachColumns(all, UserCol|VerbCol, func(*Entry) bool { return true }) }, ""},
		{"Postings kept", func() { s.Postings(FieldUser, "x") }, ""},
		{"Postings code", func() { s.Postings(FieldCode, "200") }, ""},
		{"Row fixed fields", row(func(r Row) { r.Code(); r.LatencyMicros(); r.Denied(); r.AppendAuditID(nil) }), ""},
		{"Field", row(func(r Row) { r.Field(FieldImpersonated) }), "impersonated"},
		{"FieldKey", row(func(r Row) { r.FieldKey(FieldNamespace) }), "namespace"},
		{"Name", row(func(r Row) { r.Name() }), "name"},
		{"NameKey", row(func(r Row) { r.NameKey() }), "name"},
		{"Path", row(func(r Row) { r.Path() }), "path"},
		{"PathKey", row(func(r Row) { r.PathKey() }), "path"},
		{"Reason", row(func(r Row) { r.Reason() }), "reason"},
		{"ReasonKey", row(func(r Row) { r.ReasonKey() }), "reason"},
		{"Entry", func() { s.Entry(0) }, "groups"},
		{"Each", func() { s.Each(all, func(*Entry) bool { return true }) }, "impersonated"},
		{"EachColumns", func() { s.EachColumns(all, UserCol|DecisionCol, func(*Entry) bool { return true }) }, "decision"},
		{"Postings", func() { s.Postings(FieldSourceIP, "x") }, "sourceip"},
		{"Postings group", func() { s.Postings(FieldGroup, "x") }, "groups"},
		{"Values", func() { s.Values(FieldUserAgent) }, "useragent"},
		{"PartitionValues", func() { s.PartitionValues(FieldResource, 1, func(string) int { return 0 }) }, "resource"},
		{"SelectMatching", func() { s.SelectMatching(all, []TextColumn{ColumnReason}, func(string) bool { return true }) }, "reason"},
		{"Key", func() { s.Key("x") }, "name"},
		{"Source", func() { s.Source(0) }, "source"},
		{"ObjectRows", func() { s.ObjectRows(all, func(*ObjectRow) bool { return true }) }, "impersonated"},
	} {
		msg := func() (msg string) {
			defer func() {
				if r := recover(); r != nil {
					msg, _ = r.(string)
					if msg == "" {
						msg = "panic: not a string"
					}
				}
			}()
			tc.read()
			return ""
		}()
		switch {
		case tc.column == "" && msg != "":
			t.Errorf("%s: panicked on a kept column: %s", tc.name, msg)
		case tc.column != "" && !strings.Contains(msg, "column "+tc.column) && !strings.Contains(msg, ","+tc.column):
			t.Errorf("%s: want a panic naming column %q, got %q", tc.name, tc.column, msg)
		case tc.column != "" && !strings.Contains(msg, "OnlyColumns"):
			t.Errorf("%s: the panic does not say why: %q", tc.name, msg)
		}
	}
}
