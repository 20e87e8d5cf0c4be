package tui

import (
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/kaudit/kaudit/gen"
	"github.com/kaudit/kaudit/store"
)

// liveModel is a model following the newest over a store that grows by
// more(n): each call appends n events and delivers the result (the test
// plays the listening Cmd's part, as TestLive does).
func liveModel(t *testing.T) (Model, func(Model, int) Model) {
	t.Helper()
	g, st := gen.New(gen.Config{Seed: 5}), store.New()
	appendGen(t, st, g, 500)
	m := New(Options{Store: st, Now: fixedNow})
	m.env.clock = stepClock(time.Second)
	m.follow = true
	m = run(t, m, m.work.initCmd)
	m = drive(t, m, tea.WindowSizeMsg{Width: 100, Height: 30})
	m = drive(t, m, changedMsg{})
	more := func(m Model, n int) Model {
		appendGen(t, st, g, n)
		return drive(t, m, changedMsg{})
	}
	return m, more
}

// cursorID is the event under the Events cursor.
func cursorID(t *testing.T, m Model) store.ID {
	t.Helper()
	id, ok := m.rows().(eventRows).id(m.tables[tabEvents].Cursor())
	if !ok {
		t.Fatal("no event under the cursor")
	}
	return id
}

// One rule: a new result moves the cursor to the newest row only if the
// cursor was on the newest row before it arrived.
func TestFollowNewest(t *testing.T) {
	t.Run("on the newest: follows", func(t *testing.T) {
		m, more := liveModel(t)
		n1 := m.rowCount()
		if m.tables[tabEvents].Cursor() != n1-1 {
			t.Fatalf("the first result: cursor %d of %d rows", m.tables[tabEvents].Cursor(), n1)
		}
		m = more(m, 300)
		if n2 := m.rowCount(); n2 <= n1 || m.tables[tabEvents].Cursor() != n2-1 {
			t.Fatalf("cursor %d of %d rows (was %d), want the newest", m.tables[tabEvents].Cursor(), n2, n1)
		}
	})
	t.Run("moved up: stays on the same event, back down: follows again", func(t *testing.T) {
		m, more := liveModel(t)
		m = drive(t, m, keys("k", "k")...)
		id := cursorID(t, m)
		m = more(m, 300)
		if got := cursorID(t, m); got != id {
			t.Fatalf("a new result moved the cursor from event %d to %d", id, got)
		}
		m = drive(t, m, keys("G")...)
		m = more(m, 300)
		if n := m.rowCount(); m.tables[tabEvents].Cursor() != n-1 {
			t.Fatalf("back on the newest, then new data: cursor %d of %d", m.tables[tabEvents].Cursor(), n)
		}
	})
	t.Run("after a find's jump: stays on the match", func(t *testing.T) {
		m, more := liveModel(t)
		m = drive(t, m, keys("F")...)
		m = drive(t, m, typed("Forbidden")...)
		m = drive(t, m, keys("enter")...)
		if m.find.hits == nil || m.find.hits.IsEmpty() {
			t.Fatal("nothing found: the case shows nothing")
		}
		id := cursorID(t, m)
		if !m.find.hits.Contains(id) || m.atNewest() {
			t.Fatalf("the jump put the cursor on event %d (a match: %v, the newest: %v)", id, m.find.hits.Contains(id), m.atNewest())
		}
		m = more(m, 300)
		if got := cursorID(t, m); got != id {
			t.Fatalf("a new result moved the cursor off the match %d to %d", id, got)
		}
	})
	t.Run("newest first: row 0 is the newest", func(t *testing.T) {
		m, more := liveModel(t)
		m = drive(t, m, keys("S", "g")...) // flip to newest first, to the top
		if !m.tables[tabEvents].Sort().desc || !m.atNewest() {
			t.Fatalf("desc %v, at newest %v", m.tables[tabEvents].Sort().desc, m.atNewest())
		}
		newest := func(m Model) store.ID { return store.ID(m.st.Len() - 1) }
		m = more(m, 300)
		if m.tables[tabEvents].Cursor() != 0 || cursorID(t, m) != newest(m) {
			t.Fatalf("cursor %d on %d, want row 0 on %d", m.tables[tabEvents].Cursor(), cursorID(t, m), newest(m))
		}
	})
}
