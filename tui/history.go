package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/kaudit/kaudit/store"
)

// HistoryFunc renders the history of the object event id touched (kaudit
// history's timeline and diffs). cmd/kaudit wires package history in; it
// runs in a Cmd goroutine.
type HistoryFunc func(st *store.Store, id store.ID) (string, error)

// historyMsg is a history read in the background.
type historyMsg struct {
	text string
	err  error
}

// historyKey reads the history of the object behind the cursor's row or
// the open event's page (H); ok is false when the key is not that one.
func (m Model) historyKey(k tea.KeyMsg) (Model, tea.Cmd, bool) {
	if m.history == nil || !key.Matches(k, m.keys.History) {
		return m, nil, false
	}
	var id store.ID
	var ok bool
	switch m.over.pane {
	case paneEvent:
		id, ok = m.over.want, true
	case paneTable:
		id, ok = m.eventAt(m.cursor())
	default:
		return m, nil, false
	}
	if !ok {
		m.status.note = "no event here to show the history of"
		return m, nil, true
	}
	m.status.note = "reading the object's history…"
	st, fn := m.st, m.history
	return m, safe(func() tea.Msg {
		text, err := fn(st, id)
		return historyMsg{text: text, err: err}
	}), true
}

// onHistory shows the history in a scrollable pane, unless the user has
// opened another pane since.
func (m Model) onHistory(msg historyMsg) Model {
	if m.over.pane != paneTable && m.over.pane != paneEvent {
		return m
	}
	if msg.err != nil {
		m.status.note = "history: " + msg.err.Error()
		return m
	}
	var b strings.Builder
	b.WriteString("History of the object · esc: back\n\n")
	for line := range strings.SplitSeq(strings.TrimRight(msg.text, "\n"), "\n") {
		b.WriteString(printable(line))
		b.WriteByte('\n')
	}
	m.show(paneHistory, b.String())
	m.status.note = ""
	return m
}
