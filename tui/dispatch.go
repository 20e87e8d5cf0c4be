package tui

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// Keys: the root model hands each key to whoever has the focus (filter
// bar, find bar, range brush, pane, table), and the table's keys to the
// actions they name.

func (m Model) onKey(k tea.KeyMsg) (Model, tea.Cmd) {
	if k.Type == tea.KeyRunes && len(k.Runes) > 1 && !k.Paste && !m.bar.Focused() && !m.find.input.Focused() {
		return m.splitKeys(k)
	}
	if key.Matches(k, m.keys.Interrupt) {
		return m.quit()
	}
	if key.Matches(k, m.keys.Suspend) {
		return m, tea.Suspend // wherever the focus is, as a shell would
	}
	if testPanic != "" && !m.bar.Focused() && k.Type == tea.KeyRunes && string(k.Runes) == "!" {
		return m, testPanicKey(testPanic)
	}
	if m.bar.Focused() {
		var cmd tea.Cmd
		m.bar, cmd = m.bar.Update(k)
		return m, cmd
	}
	if m.find.input.Focused() {
		return m.findKey(k)
	}
	if key.Matches(k, m.keys.Back) {
		m.stopSimulation() // a late report must not open a pane after esc
	}
	if m.brush.on && m.over.pane == paneTable {
		return m.brushKey(k)
	}
	if m.over.pane == paneHelp {
		if key.Matches(k, m.keys.Quit) {
			return m.quit()
		}
		m.over = overlay{}
		return m, nil
	}
	if nm, cmd, ok := m.rbacKey(k); ok {
		return nm, cmd
	}
	if nm, cmd, ok := m.policyKey(k); ok {
		return nm, cmd
	}
	if nm, cmd, ok := m.historyKey(k); ok {
		return nm, cmd
	}
	if nm, cmd, ok := m.pickFieldKey(k); ok {
		return nm, cmd
	}
	nm, cmd, ok := m.secretsKey(k)
	if m = nm; ok {
		return m, cmd
	}
	if m.over.pane != paneTable {
		return m.paneKey(k)
	}
	return m.tableKey(k)
}

// splitKeys handles runes that arrived together (fast typing, tmux
// send-keys j j j): bubbletea delivers them as one message, but each is a
// key press. Once one of them opens the filter bar, the rest are text.
func (m Model) splitKeys(k tea.KeyMsg) (Model, tea.Cmd) {
	var cmds []tea.Cmd
	for i, r := range k.Runes {
		if m.find.input.Focused() {
			rest := tea.KeyMsg{Type: tea.KeyRunes, Runes: k.Runes[i:]}
			var cmd tea.Cmd
			m.find.input, cmd = m.find.input.Update(rest)
			return m, tea.Batch(append(cmds, cmd)...)
		}
		if m.bar.Focused() {
			rest := tea.KeyMsg{Type: tea.KeyRunes, Runes: k.Runes[i:]}
			var cmd tea.Cmd
			m.bar, cmd = m.bar.Update(rest)
			return m, tea.Batch(append(cmds, cmd)...)
		}
		nm, cmd := m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: k.Alt})
		m = nm.(Model)
		cmds = append(cmds, cmd)
	}
	return m, tea.Batch(cmds...)
}

func (m Model) tableKey(k tea.KeyMsg) (Model, tea.Cmd) {
	km := m.keys
	for i, b := range km.tabs() {
		if key.Matches(k, b) {
			return m.setTab(i)
		}
	}
	switch {
	case key.Matches(k, km.Quit):
		return m.quit()
	case key.Matches(k, km.Help):
		m.over = overlay{pane: paneHelp}
	case key.Matches(k, km.Filter):
		return m, m.bar.Focus(m.filter.String())
	case key.Matches(k, km.NextTab):
		return m.setTab(m.stepTab(1))
	case key.Matches(k, km.PrevTab):
		return m.setTab(m.stepTab(-1))
	case key.Matches(k, km.Detections):
		return m.setTab(tabDetections) // enabled with --detect only
	case km.Table.backward(k) || km.Table.forward(k):
		return m.moveKey(k)
	case key.Matches(k, km.Follow):
		m.follow = !m.follow
		if m.follow {
			// The newest are at the end of time order only.
			m.tables[tabEvents].SetSort(sortState{col: -1, desc: m.tables[tabEvents].Sort().desc})
			m.evsort.order = nil
			m.toNewest()
		}
	case key.Matches(k, km.Pause):
		m.paused = !m.paused
		if !m.paused && m.work.pending && !m.work.busy {
			return m, m.apply()
		}
	case key.Matches(k, km.Sort):
		return m, m.cycleSort()
	case key.Matches(k, km.SortDir):
		m.flipSort()
	case key.Matches(k, km.Problems):
		m.showProblems()
	case key.Matches(k, km.Write):
		if m.res.set != nil {
			m.status.note = "writing…"
			return m, safe(writeSelection(m.st, m.res.set, m.res.base, m.env.dir, m.env.now()))
		}
	case key.Matches(k, km.Open):
		return m.open()
	case key.Matches(k, km.Back):
		return m.goBack()
	case key.Matches(k, km.Find):
		m.find.input.SetValue(m.find.text)
		m.find.input.CursorEnd()
		return m, m.find.input.Focus()
	case key.Matches(k, km.FindNext):
		return m.nextMatch(1)
	case key.Matches(k, km.FindPrev):
		return m.nextMatch(-1)
	case key.Matches(k, km.Forward):
		return m.goForward()
	case key.Matches(k, km.ZoomIn):
		return m.zoom(0.5)
	case key.Matches(k, km.ZoomOut):
		return m.zoom(2)
	case key.Matches(k, km.TimeRange):
		return m.startBrush(), nil
	}
	return m, nil
}

// moveKey hands a movement key to the table. (Moving off the newest row
// stops following it: see atNewest.)
func (m Model) moveKey(k tea.KeyMsg) (Model, tea.Cmd) {
	var cmd tea.Cmd
	m.tables[m.tab], cmd = m.tables[m.tab].Update(k)
	return m, cmd
}

// stepTab is the next shown tab after the current one in direction d
// (1 or -1), wrapping around.
func (m Model) stepTab(d int) int {
	t := m.tab
	for range numTabs {
		if t = (t + d + numTabs) % numTabs; m.tabOn(t) {
			break
		}
	}
	return t
}
