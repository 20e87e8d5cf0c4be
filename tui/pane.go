package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/kaudit/kaudit/redact"
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
	paneHistory              // an object's history (H)
)

// overlay is the pane over the table and, for the panes of text, its
// scrollable page.
type overlay struct {
	pane pane
	want eventRef    // the event paneLoading waits for, and paneEvent shows
	page detailView  // the text of the panes from paneEvent on
	hist historyView // paneHistory's timeline (history_view.go)
	// confirm is set by a first X on an event's page: a second shows its
	// secrets.
	confirm bool
	pick    bool // a Y on an event's page waits for the field to copy (copyfield.go)
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
	case m.over.pane == paneHistory:
		return m.historyPaneKey(k)
	case key.Matches(k, m.keys.Back):
		m.over = overlay{}
		return m, nil
	case key.Matches(k, m.keys.Quit):
		return m.quit()
	}
	if m.over.pane == paneEvent || m.over.pane == paneLoading {
		switch {
		case key.Matches(k, m.keys.PrevEvent):
			return m.stepEvent(-1)
		case key.Matches(k, m.keys.NextEvent):
			return m.stepEvent(1)
		case key.Matches(k, m.keys.Wrap) && m.over.pane == paneEvent:
			m.nowrap = !m.nowrap
			m.over.page.SetWrap(!m.nowrap)
			return m, nil
		case key.Matches(k, m.keys.Copy):
			return m, m.copyEvent(m.over.want)
		}
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

// eventAt is the event behind row i of the current tab: an Events row,
// or a Latency row's request.
func (m Model) eventAt(i int) (eventRef, bool) {
	switch r := m.rows().(type) {
	case eventRows:
		id, ok := r.id(i)
		return eventRef{id, r.base}, ok
	case tableRows:
		if ids := m.res.table.IDs; i >= 0 && i < len(ids) {
			return eventRef{ids[i], m.res.base}, true
		}
	}
	return eventRef{}, false
}

// openEvent opens event ref's page (read in the background).
func (m Model) openEvent(ref eventRef) (Model, tea.Cmd) {
	m.over = overlay{pane: paneLoading, want: ref}
	return m, safe(loadDetail(m.st, ref, m.timeFormat()))
}

// stepEvent opens the page of the row before (-1) or after (1) the
// cursor's, moving the cursor with it.
func (m Model) stepEvent(d int) (Model, tea.Cmd) {
	t := &m.tables[m.tab]
	next := t.Cursor() + d
	id, ok := m.eventAt(next)
	if !ok {
		return m, m.note("no more events this way")
	}
	t.SetCursor(next)
	t.clamp()
	return m.openEvent(id)
}

// eventPosition is " · k/N" for the cursor's row.
func (m Model) eventPosition() string {
	if n := m.rowCount(); n > 0 {
		return fmt.Sprintf("  ·  %d/%d  ·  [ ] prev/next  W wrap  y copy  Y field", m.cursor()+1, n)
	}
	return ""
}

// copyLimit bounds what y puts on the clipboard: terminals cap OSC 52.
const copyLimit = 100 << 10

// copyEvent puts event ref's JSON on the terminal's clipboard with OSC 52.
// Only this key press writes the sequence, and its content is base64:
// nothing in an event can emit it.
func (m Model) copyEvent(ref eventRef) tea.Cmd {
	if m.clip == nil {
		return m.note("no terminal to copy to")
	}
	st, clip := m.st, m.clip
	return safe(func() tea.Msg {
		type got struct {
			raw []byte
			err error
		}
		g, ok := readEvent(st, ref.id, ref.base, func(id store.ID) got {
			raw, err := st.Raw(id, nil)
			return got{raw, err}
		})
		if !ok {
			return noteMsg("copy failed: " + errGone.Error())
		}
		raw, err := redact.Output(g.raw), g.err // the clipboard is an output too
		switch {
		case err != nil:
			return noteMsg("copy failed: " + err.Error())
		case len(raw) > copyLimit:
			return noteMsg(fmt.Sprintf("event is %s: too large for the clipboard (OSC 52); use w", byteSize(int64(len(raw)))))
		}
		if err := clip(raw); err != nil {
			return noteMsg("copy failed: " + err.Error())
		}
		return noteMsg(fmt.Sprintf("copied the event JSON (%s) with OSC 52", byteSize(int64(len(raw)))))
	})
}

// noteMsg shows a note.
type noteMsg string
