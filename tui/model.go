// Package tui is kaudit's terminal browser: tabs of views over a live
// store, a filter bar, drill-down and an event detail page. It is the only
// package that imports bubbletea, bubbles and lipgloss (docs/ARCHITECTURE.md).
//
// Data flow (docs/ARCHITECTURE.md): the store's writer calls Signal.Notify; one
// re-armed listening Cmd turns that into changedMsgs; the model applies
// new data at most once per applyEvery (an apply is a background
// computation that folds only the new requests into the filter's result
// and the tabs' aggregates, see liveState), so ingest causes at most five
// redraws a second. A new filter starts a computation from scratch, tagged
// with a sequence number so a stale answer is dropped. View renders only
// the visible rows.
//
// Layout of the code: Run (run.go) starts the program over a Model. The
// Model is a root that dispatches messages to its parts: one table
// component per tab (table.go: cursor, window, sort, keys; rows.go: what
// it draws), the filter bar (filterbar.go), and the pane shown over the
// table (pane.go: help, an event's page, the skipped input, an RBAC
// suggestion, a policy simulation). Each kind of background work keeps
// its own cancel and sequence number: the tab's result (apply.go), the
// Events tab's sort (sort.go), the policy simulation (policy.go) and find
// (find.go, find_first.go). Keys are dispatched in dispatch.go; the time
// axis, zoom and range brush are in timeaxis.go; colour profiles in
// colour.go; filter changes keep the cursor's event (drill.go). Event IDs
// the model holds carry the store's ID base they are of, and are moved
// where they are used when the store rebases (rebase.go).
package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/kaudit/kaudit/query"
	"github.com/kaudit/kaudit/store"
	"github.com/kaudit/kaudit/views"
)

// tabs are the browser's tabs, in tab/shift+tab order. The first
// numKeyed have the number keys 1–9, then 0; those past them are reached
// with tab/shift+tab (and Detections with D). A new view is one more line
// here (and in numTabs); short names are for screens too narrow for the
// full tab bar.
var tabs = [numTabs]struct {
	name, short string
	view        views.View
}{
	{"Events", "Ev", views.ViewEvents}, {"Users", "Usr", views.ViewUsers}, {"Verbs", "Vrb", views.ViewVerbs},
	{"Resources", "Res", views.ViewResources}, {"Namespaces", "NS", views.ViewNamespaces},
	{"Latency", "Lat", views.ViewLatency}, {"Denials", "Den", views.ViewDenials},
	{"Codes", "Cod", views.ViewCodes}, {"User agents", "UA", views.ViewUserAgents}, {"Source IPs", "IP", views.ViewSourceIPs},
	{"Sources", "Src", views.ViewSources}, {"Detections", "Det", viewDetections},
}

const (
	tabEvents     = 0
	tabDenials    = 6
	tabSources    = 10
	tabDetections = 11 // only with --detect (tabOn)
	numKeyed      = 10 // tabs with a number key
	numTabs       = 12
)

// viewDetections is the Detections tab's view: not one of package views'
// (the hits are the browser's, see detections.go).
const viewDetections views.View = "detections"

// tabOn reports whether tab t is shown: Detections needs --detect.
func (m Model) tabOn(t int) bool { return t != tabDetections || m.detections != nil }

// tabKey is the key that shows tab t directly ("" for none).
func tabKey(t int) string {
	switch {
	case t < numKeyed:
		return fmt.Sprint((t + 1) % 10)
	case t == tabDetections:
		return "D"
	}
	return ""
}

// Options configure a Model (New), and so the browser Run shows.
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
	// Revoked, when set, adds kaudit rbac's revoked-access finding to the
	// Denials tab ("allowed until T by RoleBinding X").
	Revoked RevokedFunc
	// Policy, when set, lets P show what an audit policy would write for
	// the current filter's requests: see policy.go.
	Policy PolicyFunc
	// History, when set, lets H show the history of the object behind
	// the cursor's event: see history.go.
	History HistoryFunc
	// Detections, when set (--detect), marks hits in the Events tab (◆)
	// and lets D show them by rule: see detections.go.
	Detections *DetectionLog
}

// backState is where esc returns to after a drill-down.
type backState struct {
	filter string
	tab    int
	cursor int
}

// Model is the root of the browser. It holds the tabs' tables, the filter
// bar, the pane shown over the table, and the state of each kind of
// background work in its own sub-struct.
//
// Goroutines: bubbletea's event loop owns it (Update and View). The store
// it reads is shared with the writer goroutine and with the Cmd goroutines
// computing results, which receive their inputs by value and answer with
// messages; nothing else here is shared.
type Model struct {
	st            *store.Store
	env           env
	keys          KeyMap
	help          help.Model
	width, height int

	tab    int
	tables [numTabs]table
	filter *query.Filter
	bar    filterBar
	back   []backState // esc: where drill-downs and zooms came from
	fwd    []backState // where esc came back from
	over   overlay
	brush  brush  // t: a range being picked on the sparkline
	find   finder // F: find in view

	work       work          // the current tab's result, computed in the background (apply.go)
	res        resultMsg     // the last result applied
	evsort     eventSort     // the Events tab sorted by a column (sort.go)
	sim        simulation    // P: an audit policy simulated over the filter (policy.go)
	history    HistoryFunc   // H: the object's history (history.go)
	detections *DetectionLog // --detect's hits (detections.go); nil without
	rbac       rbacState     // the Denials tab's selection and suggestion (rbac.go)
	hdr        header        // what the status line shows about the input
	status     status

	paused, follow bool
	nowrap         bool               // the event page scrolls sideways instead of wrapping (W)
	keep           keepCursor         // where a new filter's result puts the cursor
	clip           func([]byte) error // y: copies to the terminal's clipboard (OSC 52)
}

// env is what the model was given to work with.
type env struct {
	sig      Signal
	progress func() Progress
	problems func() []string
	now      func() time.Time // wall time: file names, rates
	clock    func() time.Time // spaces applies (tests step it)
	dir      string           // where w writes
}

// status is the outcome of the last action and the last error, shown on
// the filter line. A note expires after statusTTL (seq tells which note
// an expiry is for).
type status struct {
	note, err string
	seq       int
}

// statusTTL is how long a note stays (0: for ever; tests).
var statusTTL = 5 * time.Second

// statusExpiredMsg ends note seq.
type statusExpiredMsg struct{ seq int }

// note shows s on the status line (Update arms its expiry).
func (m *Model) note(s string) tea.Cmd {
	m.status.note = s
	return nil
}

// expireNote arms the expiry of a new note. A note of work under way
// ("writing…") stays until the outcome replaces it.
func (m *Model) expireNote(before string) tea.Cmd {
	s := m.status.note
	if s == before || s == "" || strings.HasSuffix(s, "…") || statusTTL <= 0 {
		return nil
	}
	m.status.seq++
	seq := m.status.seq
	return tea.Tick(statusTTL, func(time.Time) tea.Msg { return statusExpiredMsg{seq} })
}

// header is the input's progress and the data's rate and time range.
type header struct {
	prog     Progress
	progAt   time.Time
	byteRate float64 // input bytes/s while loading, for the ETA
	rate     float64 // events/s, from store growth between wake-ups
	rateN    int
	rateAt   time.Time
	first    time.Time // time range of the data, from the first and last events
	last     time.Time
}

// New returns a Model over o.Store.
func New(o Options) Model {
	m := Model{
		st:   o.Store,
		env:  env{sig: o.Signal, progress: o.Progress, problems: o.Problems, now: o.Now, clock: time.Now, dir: o.WriteDir},
		keys: DefaultKeyMap(), help: help.New(), bar: newFilterBar(), find: newFinder(),
		width: 80, height: 24, follow: o.Signal != nil,
	}
	m.plainComponents()
	if m.env.dir == "" {
		m.env.dir = "."
	}
	if m.env.now == nil {
		m.env.now = time.Now
	}
	m.rbac.suggest, m.rbac.revoked, m.sim.run = o.Suggest, o.Revoked, o.Policy
	// Keys of features not wired in neither match nor show in the help.
	m.keys.SelectDenial.SetEnabled(o.Suggest != nil)
	m.keys.SuggestRBAC.SetEnabled(o.Suggest != nil)
	m.keys.WriteYAML.SetEnabled(o.Suggest != nil)
	m.keys.Policy.SetEnabled(o.Policy != nil)
	m.history = o.History
	m.detections = o.Detections
	m.keys.History.SetEnabled(o.History != nil)
	m.keys.Detections.SetEnabled(o.Detections != nil)
	for i := range m.tables {
		m.tables[i] = newTable(withTableKeys(m.keys.Table), withTableSize(m.width, m.bodyHeight()))
	}
	f := o.Filter
	if f == nil {
		f, _ = query.Compile("")
	}
	m.filter = f
	for i, t := range tabs {
		if t.view == o.View && m.tabOn(i) {
			m.tab = i
		}
	}
	m.bar.SetValue(f.String())
	m.pollProgress()
	// The first computation is started here, not in Init: Init cannot
	// record its sequence number in the model.
	m.work.initCmd = m.startCompute(true)
	m.sync()
	return m
}

// Init starts listening for store changes and computes the first screen.
func (m Model) Init() tea.Cmd {
	return tea.Batch(listen(m.env.sig, time.Time{}, false), m.work.initCmd)
}

// Update is the dispatcher: data messages first, then the focused
// component (filter bar, pane, table) gets the keys. Afterwards the
// current table is given its rows, size and focus (sync).
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	before := m.status.note
	m, cmd := m.update(msg)
	if exp := m.expireNote(before); exp != nil {
		cmd = tea.Batch(cmd, exp)
	}
	m.sync()
	return m, cmd
}

func (m Model) update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		return m.resize(msg)
	case changedMsg:
		return m.onChanged()
	case resultMsg:
		return m.onResult(msg)
	case sortedMsg:
		return m.onSorted(msg), nil
	case resortMsg:
		m.evsort.tick = false
		return m, m.resortDue()
	case detailMsg:
		if m.over.pane == paneLoading && msg.ref == m.over.want {
			m.show(paneEvent, msg.body)
			m.over.want = msg.ref
			m.over.page.SetWrap(!m.nowrap)
			m.over.page.SetTitle(msg.title + m.eventPosition())
		}
		return m, nil
	case filterAppliedMsg:
		return m.applyFilter(msg.text, true)
	case noteMsg:
		return m, m.note(string(msg))
	case writtenMsg:
		return m, m.note(msg.note())
	case statusExpiredMsg:
		if msg.seq == m.status.seq {
			m.status.note = ""
		}
		return m, nil
	case suggestedMsg, rbacWrittenMsg:
		return m.onRBAC(msg), nil
	case policyMsg:
		return m.onPolicy(msg), nil
	case historyMsg:
		return m.onHistory(msg), nil
	case foundMsg:
		return m.onFound(msg)
	case firstHitMsg:
		return m.onFirstHit(msg), nil
	case findingsMsg:
		m.rbac.finding, m.rbac.findings = false, msg
		return m, nil
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

func (m Model) resize(msg tea.WindowSizeMsg) (Model, tea.Cmd) {
	m.width, m.height = msg.Width, msg.Height
	m.bar.SetWidth(msg.Width)
	m.find.input.Width = max(10, msg.Width-8)
	m.help.Width = msg.Width
	m.over.page.SetSize(m.width, m.bodyHeight())
	m.over.hist.SetSize(m.width, m.bodyHeight())
	m.sync()
	if len(m.res.spark.counts) > 0 && len(m.res.spark.counts) != m.sparkWidth() {
		return m, m.refresh(false) // the sparkline's buckets follow the width
	}
	return m, nil
}

// sync gives the current tab's table its rows, size and focus, which
// keeps its cursor on a row.
func (m *Model) sync() {
	t := &m.tables[m.tab]
	t.SetSize(m.width, m.tableHeight())
	t.SetRows(m.rows(), m.timeFormat())
	if m.over.pane == paneTable && !m.bar.Focused() && !m.find.input.Focused() {
		t.Focus()
	} else {
		t.Blur()
	}
}

func (m Model) quit() (Model, tea.Cmd) {
	if m.work.cancel != nil {
		m.work.cancel()
	}
	if m.evsort.cancel != nil {
		m.evsort.cancel()
	}
	if m.find.cancel != nil {
		m.find.cancel()
	}
	m.stopSimulation()
	return m, tea.Quit
}

func (m Model) setTab(t int) (Model, tea.Cmd) {
	if t == m.tab {
		return m, nil
	}
	m.tables[m.tab].SetRows(nil, timeFormat{}) // let go of the old result
	m.tab = t
	return m, m.refresh(true)
}

// toNewest puts the Events cursor on the newest row: the last, or the
// first when newest first.
func (m *Model) toNewest() {
	t := &m.tables[tabEvents]
	t.SetCursor(max(0, m.eventsLen()-1))
	if t.Sort().desc {
		t.SetCursor(0)
	}
}

// atNewest reports whether the Events cursor is on the newest row (in
// time order; with no rows yet, it is). Following is this one rule: with
// f on, a new result moves the cursor to the newest row only if it was on
// the newest row before the result arrived. So moving up, a drill-down,
// a find's jump, a kept event or a sort by a column stop following, and
// going back to the newest row follows again.
func (m Model) atNewest() bool {
	t := m.tables[tabEvents]
	switch s := t.Sort(); {
	case s.col >= 0:
		return false // sorted by a column: no row is the newest
	case s.desc:
		return t.Cursor() == 0
	}
	return t.Cursor() >= m.eventsLen()-1
}

// eventsLen is how many rows the Events tab has in time order.
func (m Model) eventsLen() int {
	if m.res.set == nil {
		return 0
	}
	return int(m.res.set.GetCardinality())
}

// rows is what the current tab shows, or nil while its first result is
// being computed.
func (m Model) rows() rows {
	if m.res.set == nil {
		return nil
	}
	if m.tab == tabEvents {
		s := m.tables[tabEvents].Sort()
		r := eventRows{st: m.st, set: m.res.set, base: m.res.base, reverse: s.desc, sources: len(m.st.Values(store.FieldSource)) > 1, hit: m.hitCheck()}
		if o := m.evsort.order; o != nil && s.col >= 0 && o.filter == m.filter && o.base == m.res.base {
			r.order = o.ids
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

// cursor is the current tab's selected row.
func (m Model) cursor() int { return m.tables[m.tab].Cursor() }

func (m Model) timeFormat() timeFormat {
	return timeFormat{withDate: m.hdr.last.Sub(m.hdr.first) > 24*time.Hour}
}
