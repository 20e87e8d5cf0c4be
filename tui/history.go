package tui

import (
	"fmt"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/kaudit/kaudit/store"
)

// HistoryFunc reads the history of the object event id touched (kaudit
// history's timeline). cmd/kaudit wires package history in; it runs in a
// Cmd goroutine.
type HistoryFunc func(st *store.Store, id store.ID) (ObjectHistory, error)

// ObjectHistory is an object's timeline as the H pane shows it.
type ObjectHistory struct {
	Title   string // "deployments.apps/prod/web: 12 requests, 4 revisions"
	Entries []HistoryEntry
}

// HistoryEntry is one request that touched the object.
type HistoryEntry struct {
	Time                    time.Time
	Verb, Stage, User, Note string // Verb with its subresource: "update status"
	Code                    int32
	// Revision is "#3 approximate", "(gone)", "(maybe gone)" or "";
	// Quality is exact, approximate, unavailable or "".
	Revision, Quality string
	// Diff is the unified diff against the previous known revision, with
	// or without the noise fields (managedFields, resourceVersion,
	// generation); nil when the request changed nothing the log shows. The
	// pane calls it (on the UI goroutine) when the entry is unfolded, so a
	// long history costs only the diffs looked at.
	Diff func(noise bool) string
}

// historyMsg is a history read in the background.
type historyMsg struct {
	h   ObjectHistory
	err error
}

// historyKey reads the history of the object behind the cursor's row or
// the open event's page (H); ok is false when the key is not that one.
func (m Model) historyKey(k tea.KeyMsg) (Model, tea.Cmd, bool) {
	if m.history == nil || !key.Matches(k, m.keys.History) {
		return m, nil, false
	}
	var ref eventRef
	var ok bool
	switch m.over.pane {
	case paneEvent:
		ref, ok = m.over.want, true
	case paneTable:
		ref, ok = m.eventAt(m.cursor())
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
		msg, ok := readEvent(st, ref.id, ref.base, func(id store.ID) historyMsg {
			h, err := fn(st, id)
			return historyMsg{h: h, err: err}
		})
		if !ok {
			return historyMsg{err: errGone}
		}
		return msg
	}), true
}

// onHistory opens the history pane, unless the user has opened another
// pane since.
func (m Model) onHistory(msg historyMsg) Model {
	if m.over.pane != paneTable && m.over.pane != paneEvent {
		return m
	}
	if msg.err != nil {
		m.status.note = "history: " + msg.err.Error()
		return m
	}
	hv := newHistoryView(msg.h, m.timeFormat(), m.width, m.bodyHeight())
	hv.keys.Back, hv.keys.Help, hv.keys.Quit = m.keys.Back, m.keys.Help, m.keys.Quit
	m.over = overlay{pane: paneHistory, hist: hv}
	m.status.note = ""
	return m
}

// historyPaneKey: esc closes the pane, q quits, ? lists the pane's keys
// (any key closes that list), the rest go to the view.
func (m Model) historyPaneKey(k tea.KeyMsg) (Model, tea.Cmd) {
	switch {
	case m.over.hist.help && !key.Matches(k, m.keys.Quit):
		m.over.hist.help = false
		return m, nil
	case key.Matches(k, m.keys.Help):
		m.over.hist.help = true
		return m, nil
	case key.Matches(k, m.keys.Back):
		m.over = overlay{}
		return m, nil
	case key.Matches(k, m.keys.Quit):
		return m.quit()
	}
	m.over.hist = m.over.hist.Update(k)
	return m, nil
}

// HistoryKeyMap is the history pane's keys. Back, Help and Quit are the
// browser's (KeyMap), here so the pane's footer and ? list them.
type HistoryKeyMap struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	Fold, FoldAll, Noise                    key.Binding
	Back, Help, Quit                        key.Binding
}

// ShortHelp is the pane's footer (help.KeyMap).
func (k HistoryKeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Fold, k.FoldAll, k.Noise, k.Back, k.Help, k.Quit}
}

// FullHelp is the pane's ? list (help.KeyMap): moving, then the rest.
func (k HistoryKeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom},
		{k.Fold, k.FoldAll, k.Noise, k.Back, k.Help, k.Quit},
	}
}

// DefaultHistoryKeyMap returns the pane's bindings: enter or space folds
// the cursor's diff, a folds or unfolds them all, n shows the noise.
func DefaultHistoryKeyMap() HistoryKeyMap {
	return HistoryKeyMap{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "b", "ctrl+u"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "f", "ctrl+d"), key.WithHelp("pgdn", "page down")),
		Top:      key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g", "first")),
		Bottom:   key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G", "last")),
		Fold:     key.NewBinding(key.WithKeys("enter", " "), key.WithHelp("enter/space", "fold diff")),
		FoldAll:  key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "fold all")),
		Noise:    key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "noise")),
		Back:     DefaultKeyMap().Back,
		Help:     DefaultKeyMap().Help,
		Quit:     DefaultKeyMap().Quit,
	}
}

// hint is the pane's second line.
func (v historyView) hint() string {
	noise := "hidden"
	if v.noise {
		noise = "shown"
	}
	return fmt.Sprintf("enter/space fold · a fold all · n noise: %s · ↑↓ pgup/pgdn g/G · esc back", noise)
}
