package store

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// SelectMatching keeps exactly the events a test of each event's strings
// keeps, also for values interned after its first look at the
// dictionaries (an Append between two windows of the walk).
func TestSelectMatching(t *testing.T) {
	st := New(ChunkEvents(64))
	var lines []string
	for i := range 300 {
		id := fmt.Sprintf("%08d-1111-4111-8111-111111111111", i)
		line := event(id, "ResponseComplete", "u", "get", "pods", "ns", 200, t0, t1)
		switch i % 4 {
		case 0:
			line = strings.Replace(line, `"apiVersion":"v1"}`, fmt.Sprintf(`"apiVersion":"v1","name":"web-%d"}`, i%7), 1)
		case 1:
			line = strings.Replace(line, `"objectRef":{"resource":"pods","namespace":"ns","apiVersion":"v1"},`, "", 1)
			line = strings.Replace(line, `"requestURI":"/api/v1/namespaces/ns/pods"`, fmt.Sprintf(`"requestURI":"/healthz/%d?verbose"`, i%5), 1)
		case 2:
			line = strings.Replace(line, `"responseStatus"`, fmt.Sprintf(`"annotations":{"authorization.k8s.io/decision":"forbid","authorization.k8s.io/reason":"rule %d"},"responseStatus"`, i%3), 1)
		}
		lines = append(lines, line)
	}
	evs, offs, r := decodeLines(t, lines...)
	st.Append(evs[:200], r, offs[:200])
	all := st.All()
	cases := []struct {
		cols  []TextColumn
		match func(string) bool
	}{
		{[]TextColumn{ColumnName}, func(s string) bool { return strings.HasPrefix(s, "web-") && s != "web-3" }},
		{[]TextColumn{ColumnPath}, func(s string) bool { return strings.Contains(s, "2") }},
		{[]TextColumn{ColumnReason}, func(s string) bool { return s == "rule 1" }},
		{[]TextColumn{ColumnName, ColumnPath, ColumnReason}, func(s string) bool { return strings.Contains(s, "1") }},
		{[]TextColumn{ColumnName}, func(s string) bool { return s == "" }},
		{[]TextColumn{ColumnName}, func(s string) bool { return false }},
	}
	for i, c := range cases {
		want := func(set *Set) []uint32 {
			var out []uint32
			st.Each(set, func(e *Entry) bool {
				vals := map[TextColumn]string{ColumnName: e.Object.Name, ColumnPath: e.Path, ColumnReason: e.Reason}
				for _, col := range c.cols {
					if c.match(vals[col]) {
						out = append(out, e.ID)
						break
					}
				}
				return true
			})
			return out
		}
		got := st.SelectMatching(all, c.cols, c.match).ToArray()
		if w := want(all); !slices.Equal(got, w) {
			t.Errorf("case %d: %v, want %v", i, got, w)
		}
		if i == 3 && len(got) == 0 {
			t.Error("case 3 matches nothing: the test shows nothing")
		}
	}
	// Values the walk has not seen yet: append, then select over
	// events that hold them, with a test that matches only new values.
	calls := map[string]int{}
	match := func(s string) bool { calls[s]++; return strings.Contains(s, "/healthz/") }
	before := st.SelectMatching(all, []TextColumn{ColumnPath}, match)
	st.Append(evs[200:], r, offs[200:])
	got := st.SelectMatching(st.All(), []TextColumn{ColumnPath}, match)
	if got.GetCardinality() != 75 || before.GetCardinality() != 50 {
		t.Errorf("paths: %d then %d events, want 50 then 75", before.GetCardinality(), got.GetCardinality())
	}
	for v, n := range calls {
		if n > 2 {
			t.Errorf("value %q tested %d times in two selects", v, n)
		}
	}
}
