package tui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kaudit/kaudit/gen"
	"github.com/kaudit/kaudit/store"
	"github.com/kaudit/kaudit/views"
)

// s sorts the Events tab by user, verb, resource, code, latency, then back
// to time (input) order; S reverses. The sort runs once, in a Cmd, into an
// index; a sorted tab catches up with live data.
func TestEventsSort(t *testing.T) {
	g := gen.New(gen.Config{Seed: 9})
	st := store.New()
	appendGen(t, st, g, 2000)
	m := started(t, st, 120, 40)
	key := func(col int, id store.ID) string {
		e := st.Entry(id)
		switch col {
		case 1:
			return userName(&e)
		case 2:
			return e.Verb
		case 3:
			return views.ResourceKey(&e)
		case 5:
			return fmt.Sprintf("%08d", e.Code)
		}
		return fmt.Sprintf("%020d", e.Latency)
	}
	sorted := func(col int, desc bool) {
		t.Helper()
		r := m.rows().(eventRows)
		if r.order == nil || r.Len() != int(m.res.set.GetCardinality()) {
			t.Fatalf("col %d: no sorted index of all %d rows", col, m.res.set.GetCardinality())
		}
		prev := ""
		for i := range r.Len() {
			id, _ := r.id(i)
			k := key(col, id)
			if i > 0 && (k < prev && !desc || k > prev && desc) {
				t.Fatalf("col %d desc %v: row %d %q after %q", col, desc, i, k, prev)
			}
			prev = k
		}
	}
	for _, col := range []int{1, 2, 3, 5, 6} {
		m = drive(t, m, keys("s")...)
		if m.tables[tabEvents].Sort().col != col {
			t.Fatalf("s: column %d, want %d", m.tables[tabEvents].Sort().col, col)
		}
		if want := "by " + eventColumns[col].Header + " ↑"; !strings.Contains(m.View(), want) {
			t.Fatalf("label %q not shown", want)
		}
		sorted(col, false)
	}
	m = drive(t, m, keys("S")...)
	sorted(6, true)
	// Live: new requests join the sorted rows once a re-sort is due.
	appendGen(t, st, g, 500)
	m = drive(t, m, changedMsg{})
	if got, want := m.rowCount(), int(st.Requests().GetCardinality()); got != want {
		t.Fatalf("after more data: %d sorted rows, %d requests", got, want)
	}
	sorted(6, true)
	// A new filter: the index follows it.
	m = drive(t, m, keys("/")...)
	m = drive(t, m, typed("verb:get")...)
	m = drive(t, m, keys("enter")...)
	if got := m.rowCount(); got != int(m.res.set.GetCardinality()) {
		t.Fatalf("after a filter: %d rows, the filter keeps %d", got, m.res.set.GetCardinality())
	}
	sorted(6, true)
	m = drive(t, m, keys("f")...) // follow: back to time order
	if m.tables[tabEvents].Sort().col != -1 || !m.follow || m.rows().(eventRows).order != nil {
		t.Fatal("f did not return to time order")
	}
	m = drive(t, m, keys("s", "s", "s", "s", "s")...)
	sorted(6, true)
	m = drive(t, m, keys("s", "S")...)
	if m.tables[tabEvents].Sort().col != -1 || m.rows().(eventRows).order != nil || strings.Contains(m.View(), "by ") {
		t.Fatal("s after LATENCY did not return to time order")
	}
}
