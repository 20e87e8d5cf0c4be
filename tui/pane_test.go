package tui

import (
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

// The panes over the table, driven through Update: each opens on its key,
// esc goes back to the table, and an event page that arrives after esc
// stays closed.
func TestPanes(t *testing.T) {
	st := genStore(t, 300)
	m := New(Options{Store: st, Now: fixedNow, Problems: func() []string { return []string{"a.log:3: not JSON"} }})
	m = run(t, m, m.Init())
	step := func(m Model, k string) (Model, tea.Cmd) {
		nm, cmd := m.Update(keys(k)[0])
		return nm.(Model), cmd
	}
	for _, c := range []struct {
		key  string
		want pane
	}{{"?", paneHelp}, {"p", paneProblems}} {
		m, _ = step(m, c.key)
		if m.over.pane != c.want || m.tables[m.tab].Focused() {
			t.Fatalf("%s: pane %d (table focused %v), want %d", c.key, m.over.pane, m.tables[m.tab].Focused(), c.want)
		}
		m, _ = step(m, "esc")
		if m.over.pane != paneTable || !m.tables[m.tab].Focused() {
			t.Fatalf("esc after %s: pane %d", c.key, m.over.pane)
		}
	}

	m, load := step(m, "enter")
	if m.over.pane != paneLoading || load == nil {
		t.Fatalf("enter: pane %d", m.over.pane)
	}
	page := load()
	m, _ = step(m, "esc")
	nm, _ := m.Update(page)
	if m = nm.(Model); m.over.pane != paneTable {
		t.Fatalf("an event page read after esc opened pane %d", m.over.pane)
	}
	m, load = step(m, "enter")
	if m = run(t, m, load); m.over.pane != paneEvent {
		t.Fatalf("enter: pane %d, want the event's page", m.over.pane)
	}
}
