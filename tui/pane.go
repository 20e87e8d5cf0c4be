package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/kaudit/kaudit/store"
)

// pane is what the body shows: the tab's table or a pane over it.
type pane int

const (
	paneTable    pane = iota // the current tab's table
	paneHelp                 // every key (?)
	paneLoading              // an event's page, being read
	paneEvent                // an event's page
	paneProblems             // the skipped input (p)
	paneRBAC                 // an RBAC suggestion (r)
	panePolicy               // an audit policy simulation (P)
)

// overlay is the pane over the table and, for the panes of text, its
// scrollable page.
type overlay struct {
	pane pane
	want store.ID   // the event paneLoading waits for, and paneEvent shows
	page detailView // the text of the panes from paneEvent on
	// confirm is set by a first X on an event's page: a second shows its
	// secrets.
	confirm bool
}

// paged reports whether a scrollable page is shown.
func (o overlay) paged() bool { return o.pane >= paneEvent }

// show opens a pane of text.
func (m *Model) show(p pane, text string) {
	m.over = overlay{pane: p, page: newDetailView(text, m.width, m.bodyHeight())}
}

// paneKey handles a key while a pane is over the table: esc closes it, q
// quits, the rest scroll its page.
func (m Model) paneKey(k tea.KeyMsg) (Model, tea.Cmd) {
	switch {
	case key.Matches(k, m.keys.Back):
		m.over = overlay{}
		return m, nil
	case key.Matches(k, m.keys.Quit):
		return m.quit()
	}
	if !m.over.paged() {
		return m, nil
	}
	var cmd tea.Cmd
	m.over.page, cmd = m.over.page.Update(k)
	return m, cmd
}

// showProblems opens the pane of skipped input (p).
func (m *Model) showProblems() {
	if m.env.problems == nil {
		return
	}
	var b strings.Builder
	b.WriteString("Skipped or unrecognised input (esc to go back)\n\n")
	for _, p := range m.env.problems() {
		b.WriteString(printable(p))
		b.WriteByte('\n')
	}
	m.show(paneProblems, b.String())
}
