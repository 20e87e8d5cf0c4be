package tui

import (
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// The Denials tab shows kaudit rbac's revoked-access finding for its rows,
// and a selected row keeps its columns in place (the mark has its own).
func TestDenialsFindingAndSelectionMark(t *testing.T) {
	st := genStore(t, 3000)
	var calls int
	m := New(Options{Store: st, Now: fixedNow, Suggest: fakeSuggest(new([][]DenialKey)), Revoked: func() map[DenialKey]string {
		calls++
		return map[DenialKey]string{{Subject: "bob", Verb: "list", Resource: "pods", Namespace: "prod"}: "allowed until 2026-01-15T08:00:00Z by RoleBinding \"x\""}
	}})
	m.env.clock = stepClock(time.Second)
	m = run(t, m, m.Init())
	m = drive(t, m, append([]tea.Msg{tea.WindowSizeMsg{Width: 160, Height: 45}}, keys("7")...)...)
	if calls != 1 {
		t.Fatalf("Revoked called %d times", calls)
	}
	if !strings.Contains(m.View(), "FINDING") {
		t.Errorf("no FINDING column:\n%s", m.View())
	}
	found := false
	for i, row := range m.res.table.Rows {
		if row[0] == "bob" && row[1] == "list" && row[2] == "pods" && row[3] == "prod" {
			m.tables[m.tab].SetCursor(i)
			found = true
		}
	}
	if !found {
		t.Fatal("no bob list pods prod row")
	}
	m.sync()
	before := cursorLine(m.View())
	if !strings.Contains(before, "allowed until") {
		t.Errorf("the row lacks its finding: %q", before)
	}
	m = drive(t, m, keys(" ", "k")...)
	after := cursorLine(m.View())
	if !strings.HasPrefix(after, ">●") || after[len(">●"):] != before[len(">✗"):] {
		t.Errorf("selecting moved the columns:\n%q\n%q", before, after)
	}
}

func cursorLine(screen string) string {
	for _, l := range strings.Split(screen, "\n") {
		if strings.HasPrefix(l, ">") {
			return l
		}
	}
	return ""
}
