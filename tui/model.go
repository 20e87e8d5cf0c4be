// Package tui is kaudit's terminal browser: tabs of views over a live
// store, a filter bar, drill-down and an event detail page. It is the only
// package that imports bubbletea, bubbles and lipgloss (DESIGN.md §1).
//
// Data flow (DESIGN.md §2): the store's writer calls Signal.Notify; one
// re-armed listening Cmd turns that into changedMsgs; the model applies
// new data at most once per applyEvery (an apply is a background
// computation that folds only the new requests into the filter's result
// and the tabs' aggregates, see liveState), so ingest causes at most five
// redraws a second. A new filter starts a computation from scratch, tagged
// with a sequence number so a stale answer is dropped. View renders only
// the visible rows.
package tui

import (
	"context"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/kaudit/kaudit/query"
	"github.com/kaudit/kaudit/store"
	"github.com/kaudit/kaudit/views"
)

var tabs = []struct {
	name string
	view views.View
}{
	{"Events", views.ViewEvents}, {"Users", views.ViewUsers}, {"Verbs", views.ViewVerbs},
	{"Resources", views.ViewResources}, {"Namespaces", views.ViewNamespaces},
	{"Latency", views.ViewLatency}, {"Denials", views.ViewDenials},
}

const (
	tabEvents = 0
	numTabs   = 7 // len(tabs)
)

// Options configure a Model.
type Options struct {
	Store    *store.Store
	Signal   Signal          // raised by the store's writer; nil for a store that no longer changes
	Progress func() Progress // polled when changes are applied; may be nil
	// Filter is the initial filter (nil: none). Its time bounds
	// (query.Filter.Between) last until the filter is edited.
	Filter *query.Filter
	View   views.View // initial tab; "" for Events
	// Problems lists the skipped input as "file:line: why" (may be nil).
	Problems func() []string
	// WriteDir is where w writes the selection ("" for the working
	// directory).
	WriteDir string
	Now      func() time.Time
	// Suggest, when set, lets the Denials tab select rows (space) and
	// show the RBAC that would allow them (r; w writes it): see rbac.go.
	Suggest SuggestFunc
	// Policy, when set, lets P show what an audit policy would write for
	// the current filter's requests: see policy.go.
	Policy PolicyFunc
}

// backState is where esc returns to after a drill-down.
type backState struct {
	filter string
	tab    int
	cursor int
}

// Model is the root of the browser.
//
// Goroutines: bubbletea's event loop owns it (Update and View). The store
// it reads is shared with the writer goroutine and with the Cmd goroutines
// computing results, which receive their inputs by value and answer with
// messages; nothing else here is shared.
type Model struct {
	st       *store.Store
	sig      Signal
	progress func() Progress
	problems func() []string
	now      func() time.Time

	keys     KeyMap
	help     help.Model
	showHelp bool
	width    int
	height   int

	tab    int
	sorts  [numTabs]sortState
	cursor [numTabs]int
	offset [numTabs]int

	filter *query.Filter
	bar    filterBar
	back   []backState

	// The Events tab sorted by a column: a sorted index of its rows,
	// computed in the background (sort.go).
	order               *eventOrder
	sortSeq             uint64
	sortCancel          context.CancelFunc
	sorting, resortTick bool
	sortedAt            time.Time

	detail     *detailView
	detailWant store.ID

	seq     uint64
	initCmd tea.Cmd
	cancel  context.CancelFunc
	busy    bool       // a computation is running
	waiting bool       // it was asked for by a key (filter, tab): show "…"
	redo    bool       // the tab changed while it ran: compute again at once
	pending bool       // the store changed and is not applied yet
	live    *liveState // nil while lent to the running computation
	clock   func() time.Time
	// lastApply and nextApply space out applies of new data (clock time).
	lastApply, nextApply time.Time
	applies              int // applies of new data so far (tests)
	res                  resultMsg
	err                  string
	note                 string // the outcome of the last action (w)
	dir                  string // where w writes

	paused, follow bool
	rbac           rbacState
	policy         PolicyFunc // P: simulate an audit policy (nil: not given)
	prog           Progress
	progAt         time.Time
	byteRate       float64 // input bytes/s while loading, for the ETA
	rate           float64 // events/s, from store growth between wake-ups
	rateN          int
	rateAt         time.Time
	first, last    time.Time // time range of the data, from the first and last events
}

// New returns a Model over o.Store.
func New(o Options) Model {
	m := Model{
		st: o.Store, sig: o.Signal, progress: o.Progress, problems: o.Problems, now: o.Now,
		keys: DefaultKeyMap(), help: help.New(), bar: newFilterBar(),
		width: 80, height: 24, follow: o.Signal != nil, dir: o.WriteDir, clock: time.Now,
	}
	if m.dir == "" {
		m.dir = "."
	}
	m.rbac.suggest, m.policy = o.Suggest, o.Policy
	// Keys of features not wired in neither match nor show in the help.
	m.keys.SelectDenial.SetEnabled(o.Suggest != nil)
	m.keys.SuggestRBAC.SetEnabled(o.Suggest != nil)
	m.keys.WriteYAML.SetEnabled(o.Suggest != nil)
	m.keys.Policy.SetEnabled(o.Policy != nil)
	for i := range m.sorts {
		m.sorts[i].col = -1
	}
	if m.now == nil {
		m.now = time.Now
	}
	f := o.Filter
	if f == nil {
		f, _ = query.Compile("")
	}
	m.filter = f
	for i, t := range tabs {
		if t.view == o.View {
			m.tab = i
		}
	}
	m.bar.SetValue(f.String())
	m.detailWant = noDetail
	m.pollProgress()
	// The first computation is started here, not in Init: Init cannot
	// record its sequence number in the model.
	m.initCmd = m.startCompute(true)
	return m
}

// Init starts listening for store changes and computes the first screen.
func (m Model) Init() tea.Cmd {
	return tea.Batch(listen(m.sig, time.Time{}, false), m.initCmd)
}

// Update is the dispatcher: data messages first, then the focused
// component (filter bar, detail page, help) gets the keys.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.bar.SetWidth(msg.Width)
		m.help.Width = msg.Width
		if m.detail != nil {
			m.detail.SetSize(m.width, m.bodyHeight())
		}
		m.clamp()
		if len(m.res.spark.counts) > 0 && len(m.res.spark.counts) != m.sparkWidth() {
			return m, m.refresh(false) // the sparkline's buckets follow the width
		}
		return m, nil
	case changedMsg:
		return m.onChanged()
	case resultMsg:
		return m.onResult(msg)
	case sortedMsg:
		return m.onSorted(msg)
	case resortMsg:
		m.resortTick = false
		return m, m.resortDue()
	case detailMsg:
		if msg.id == m.detailWant {
			d := newDetailView(msg.id, msg.body, m.width, m.bodyHeight())
			m.detail = &d
		}
		return m, nil
	case filterAppliedMsg:
		return m.applyFilter(msg.text, true)
	case writtenMsg:
		m.note = msg.note()
		return m, nil
	case suggestedMsg, rbacWrittenMsg:
		return m.onRBAC(msg), nil
	case policyMsg:
		return m.onPolicy(msg), nil
	case filterCanceledMsg:
		m.bar.SetValue(m.filter.String())
		return m, nil
	case tea.KeyMsg:
		return m.onKey(msg)
	case tea.ResumeMsg:
		// Back from ctrl+z: bubbletea repaints; the terminal may have been
		// resized meanwhile.
		return m, tea.WindowSize()
	case panicMsg:
		msg.repanic()
	}
	if m.bar.Focused() {
		var cmd tea.Cmd
		m.bar, cmd = m.bar.Update(msg)
		return m, cmd
	}
	return m, nil
}

func (m Model) onKey(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	if k.Type == tea.KeyRunes && len(k.Runes) > 1 && !k.Paste && !m.bar.Focused() {
		return m.splitKeys(k)
	}
	if k.Type == tea.KeyCtrlC {
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
	if m.showHelp {
		if key.Matches(k, m.keys.Quit) {
			return m.quit()
		}
		m.showHelp = false
		return m, nil
	}
	if nm, cmd, ok := m.rbacKey(k); ok {
		return nm, cmd
	}
	if nm, cmd, ok := m.policyKey(k); ok {
		return nm, cmd
	}
	if m.detail != nil || m.detailWant != noDetail {
		switch {
		case key.Matches(k, m.keys.Back):
			m.detail, m.detailWant = nil, noDetail
			return m, nil
		case key.Matches(k, m.keys.Quit):
			return m.quit()
		}
		if m.detail != nil {
			d, cmd := m.detail.Update(k)
			m.detail = &d
			return m, cmd
		}
		return m, nil
	}
	return m.tableKey(k)
}

// splitKeys handles runes that arrived together (fast typing, tmux
// send-keys j j j): bubbletea delivers them as one message, but each is a
// key press. Once one of them opens the filter bar, the rest are text.
func (m Model) splitKeys(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	var cmds []tea.Cmd
	for i, r := range k.Runes {
		if m.bar.Focused() {
			rest := tea.KeyMsg{Type: tea.KeyRunes, Runes: k.Runes[i:]}
			var cmd tea.Cmd
			m.bar, cmd = m.bar.Update(rest)
			return m, tea.Batch(append(cmds, cmd)...)
		}
		nm, cmd := m.onKey(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: k.Alt})
		m = nm.(Model)
		cmds = append(cmds, cmd)
	}
	return m, tea.Batch(cmds...)
}

// noDetail is detailWant when no detail page is open or loading.
const noDetail = ^store.ID(0)

func (m Model) quit() (tea.Model, tea.Cmd) {
	if m.cancel != nil {
		m.cancel()
	}
	if m.sortCancel != nil {
		m.sortCancel()
	}
	return m, tea.Quit
}

func (m Model) tableKey(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	km := m.keys
	page := max(1, m.tableHeight()-1)
	for i, b := range km.tabs() {
		if key.Matches(k, b) {
			return m.setTab(i)
		}
	}
	switch {
	case key.Matches(k, km.Quit):
		return m.quit()
	case key.Matches(k, km.Help):
		m.showHelp = true
	case key.Matches(k, km.Filter):
		return m, m.bar.Focus(m.filter.String())
	case key.Matches(k, km.NextTab):
		return m.setTab((m.tab + 1) % len(tabs))
	case key.Matches(k, km.PrevTab):
		return m.setTab((m.tab + len(tabs) - 1) % len(tabs))
	case key.Matches(k, km.Up):
		m.move(-1)
	case key.Matches(k, km.Down):
		m.move(1)
	case key.Matches(k, km.PageUp):
		m.move(-page)
	case key.Matches(k, km.PageDown):
		m.move(page)
	case key.Matches(k, km.Top):
		m.move(-m.rowCount())
	case key.Matches(k, km.Bottom):
		m.move(m.rowCount())
	case key.Matches(k, km.Follow):
		m.follow = !m.follow
		if m.follow {
			// The newest are at the end of time order only.
			m.sorts[tabEvents].col, m.order = -1, nil
			m.toNewest()
			m.clamp()
		}
	case key.Matches(k, km.Pause):
		m.paused = !m.paused
		if !m.paused && m.pending && !m.busy {
			return m, m.apply()
		}
	case key.Matches(k, km.Sort):
		return m, m.cycleSort()
	case key.Matches(k, km.SortDir):
		m.flipSort()
	case key.Matches(k, km.Problems):
		if m.problems != nil {
			var b strings.Builder
			b.WriteString("Skipped or unrecognised input (esc to go back)\n\n")
			for _, p := range m.problems() {
				b.WriteString(printable(p))
				b.WriteByte('\n')
			}
			d := newDetailView(noDetail, b.String(), m.width, m.bodyHeight())
			m.detail = &d
		}
	case key.Matches(k, km.Write):
		if m.res.set != nil {
			m.note = "writing…"
			return m, safe(writeSelection(m.st, m.res.set, m.dir, m.now()))
		}
	case key.Matches(k, km.Open):
		return m.open()
	case key.Matches(k, km.Back):
		return m.goBack()
	}
	return m, nil
}

func (m Model) setTab(t int) (tea.Model, tea.Cmd) {
	if t == m.tab {
		return m, nil
	}
	m.tab = t
	return m, m.refresh(true)
}

func (m *Model) move(d int) {
	m.cursor[m.tab] += d
	if m.tab == tabEvents && (d < 0) != m.sorts[tabEvents].desc {
		m.follow = false // reading back through history: stop jumping to the newest
	}
	m.clamp()
}

// toNewest puts the Events cursor on the newest row: the last, or the
// first when newest first.
func (m *Model) toNewest() {
	m.cursor[tabEvents] = max(0, m.rowCount()-1)
	if m.sorts[tabEvents].desc {
		m.cursor[tabEvents] = 0
	}
}

// clamp keeps the cursor on a row and the window around the cursor.
func (m *Model) clamp() {
	n, h := m.rowCount(), max(1, m.tableHeight()-1)
	c := &m.cursor[m.tab]
	*c = max(0, min(*c, n-1))
	o := &m.offset[m.tab]
	if *c < *o {
		*o = *c
	}
	if *c >= *o+h {
		*o = *c - h + 1
	}
	*o = max(0, min(*o, n-h))
}

// rows is what the current tab shows, or nil while its first result is
// being computed.
func (m Model) rows() rows {
	if m.res.set == nil {
		return nil
	}
	if m.tab == tabEvents {
		r := eventRows{st: m.st, set: m.res.set, reverse: m.sorts[tabEvents].desc}
		if m.order != nil && m.sorts[tabEvents].col >= 0 && m.order.filter == m.filter {
			r.order = m.order.ids
		}
		return r
	}
	if m.res.tab == m.tab && m.res.table != nil {
		return m.denialRows(tableRows{m.res.table})
	}
	return nil
}

func (m Model) rowCount() int {
	if r := m.rows(); r != nil {
		return r.Len()
	}
	return 0
}

func (m Model) timeFormat() timeFormat {
	return timeFormat{withDate: m.last.Sub(m.first) > 24*time.Hour}
}
