package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// historyView is the H pane: one row per request, each write's diff
// folded under its row (UI goroutine only). It is a value like the other
// components; the diff cache is shared between copies, which only ever
// fills it with the same text.
//
// The view never lays out the whole history: it keeps the line at its top
// as (entry, line within the entry) and draws from there, so a 100k-request
// history scrolls as fast as a short one.
type historyView struct {
	h      ObjectHistory
	keys   HistoryKeyMap
	tf     timeFormat
	open   []bool // entry i's diff is unfolded
	noise  bool
	help   bool // ? lists the pane's keys in place of the history
	cursor int  // the entry enter/space folds
	top    pos  // the first line shown under the column headers
	width  int
	height int // the whole pane's: title, hint and headers included
	cols   historyCols
	diffs  *diffCache
}

// pos is a line of the laid-out history: line 0 of an entry is its row,
// the next ones its diff's lines when it is unfolded.
type pos struct{ entry, line int }

// diffCache holds each entry's diff, split into lines, once computed.
type diffCache struct{ lines [2]map[int][]string }

// historyHeader is the title, the hint and the column headers.
const historyHeader = 3

// unfoldAtMost: a history with at most this many diffs opens unfolded.
const unfoldAtMost = 10

func newHistoryView(h ObjectHistory, tf timeFormat, w, ht int) historyView {
	v := historyView{h: h, keys: DefaultHistoryKeyMap(), tf: tf, open: make([]bool, len(h.Entries)),
		diffs: &diffCache{lines: [2]map[int][]string{{}, {}}}}
	n := 0
	for _, e := range h.Entries {
		if e.Diff != nil {
			n++
		}
	}
	for i, e := range h.Entries {
		v.open[i] = e.Diff != nil && n <= unfoldAtMost
	}
	v.cols = historyColumns(h.Entries, tf)
	v.SetSize(w, ht)
	return v
}

// SetSize sets the pane's size.
func (v *historyView) SetSize(w, h int) {
	v.width, v.height = w, h
	v.clampTop()
}

func (v historyView) rows() int { return max(1, v.height-historyHeader) }

// diff is entry i's diff lines (nil: none), computed once per noise
// setting.
func (v historyView) diff(i int) []string {
	e := v.h.Entries[i]
	if e.Diff == nil {
		return nil
	}
	k := 0
	if v.noise {
		k = 1
	}
	if l, ok := v.diffs.lines[k][i]; ok {
		return l
	}
	d := e.Diff(v.noise)
	var lines []string
	if d == "" {
		lines = []string{"(only managedFields, resourceVersion or generation changed: n shows them)"}
		if v.noise {
			lines = []string{"(no change the log shows)"}
		}
	} else {
		lines = strings.Split(d, "\n")
	}
	v.diffs.lines[k][i] = lines
	return lines
}

// lines is how many lines entry i takes.
func (v historyView) lines(i int) int {
	if !v.open[i] {
		return 1
	}
	return 1 + len(v.diff(i))
}

// Update moves the cursor, scrolls and folds.
func (v historyView) Update(k tea.KeyMsg) historyView {
	n := len(v.h.Entries)
	if n == 0 {
		return v
	}
	switch {
	case key.Matches(k, v.keys.Up):
		v.cursor = max(0, v.cursor-1)
		v.show(v.cursor)
	case key.Matches(k, v.keys.Down):
		v.cursor = min(n-1, v.cursor+1)
		v.show(v.cursor)
	case key.Matches(k, v.keys.PageDown):
		v.top = v.move(v.top, v.rows())
		v.clampTop()
		v.cursor = v.top.entry
	case key.Matches(k, v.keys.PageUp):
		v.top = v.move(v.top, -v.rows())
		v.cursor = v.top.entry
	case key.Matches(k, v.keys.Top):
		v.cursor, v.top = 0, pos{}
	case key.Matches(k, v.keys.Bottom):
		v.cursor = n - 1
		v.top = v.move(pos{entry: n}, -(v.rows() - 1))
	case key.Matches(k, v.keys.Fold):
		if v.h.Entries[v.cursor].Diff != nil {
			v.open = append([]bool(nil), v.open...)
			v.open[v.cursor] = !v.open[v.cursor]
			v.show(v.cursor)
		}
	case key.Matches(k, v.keys.FoldAll):
		v.foldAll()
	case key.Matches(k, v.keys.Noise):
		v.noise = !v.noise
		v.top.line = 0
		v.show(v.cursor)
	}
	v.clampTop() // folding near the end must not leave the last page half empty
	return v
}

// foldAll unfolds every diff, or folds them all when all are unfolded.
func (v *historyView) foldAll() {
	all := true
	for i, e := range v.h.Entries {
		if e.Diff != nil && !v.open[i] {
			all = false
			break
		}
	}
	v.open = make([]bool, len(v.open))
	for i, e := range v.h.Entries {
		v.open[i] = e.Diff != nil && !all
	}
	v.top.line = 0
	v.show(v.cursor)
}

// move is p moved by d lines (negative: up), within the history.
func (v historyView) move(p pos, d int) pos {
	n := len(v.h.Entries)
	for d > 0 && p.entry < n {
		if step := min(d, v.lines(p.entry)-1-p.line); step > 0 {
			p.line += step
			d -= step
			continue
		}
		p = pos{entry: p.entry + 1}
		d--
	}
	if p.entry >= n {
		p = pos{entry: n - 1, line: v.lines(n-1) - 1}
	}
	for d < 0 && (p.entry > 0 || p.line > 0) {
		if p.line > 0 {
			step := min(-d, p.line)
			p.line -= step
			d += step
			continue
		}
		p.entry--
		p.line = v.lines(p.entry) - 1
		d++
	}
	return p
}

// clampTop keeps the last page full: the top is at most a page above the
// history's last line.
func (v *historyView) clampTop() {
	n := len(v.h.Entries)
	if n == 0 {
		v.top = pos{}
		return
	}
	v.top.entry = min(v.top.entry, n-1)
	v.top.line = min(v.top.line, v.lines(v.top.entry)-1)
	if last := v.move(pos{entry: n}, -(v.rows() - 1)); v.after(v.top, last) {
		v.top = last
	}
}

func (v historyView) after(a, b pos) bool {
	return a.entry > b.entry || a.entry == b.entry && a.line > b.line
}

// show scrolls so that entry i's row is on screen.
func (v *historyView) show(i int) {
	if i < v.top.entry || i == v.top.entry && v.top.line > 0 {
		v.top = pos{entry: i}
		return
	}
	// The row is below the screen when more than rows()-1 lines separate it
	// from the top.
	if d := v.distance(v.top, i, v.rows()); d >= v.rows() {
		v.top = v.move(pos{entry: i}, -(v.rows() - 1))
	}
}

// distance is the number of lines from p to entry i's row, counting at
// most limit.
func (v historyView) distance(p pos, i, limit int) int {
	d := v.lines(p.entry) - p.line
	for e := p.entry + 1; e < i && d < limit; e++ {
		d += v.lines(e)
	}
	return d
}

// View draws the pane: title, hint, column headers, and the lines from
// the top on.
func (v historyView) View() string {
	var b strings.Builder
	b.WriteString(styleHeader.Render(truncate("History of "+printable(v.h.Title), v.width)))
	b.WriteByte('\n')
	b.WriteString(styleDim.Render(truncate(v.hint(), v.width)))
	b.WriteByte('\n')
	b.WriteString(styleHeader.Render(truncate(v.cols.fit(v.width).header(), v.width)))
	if len(v.h.Entries) == 0 {
		b.WriteString("\n" + styleDim.Render("  no request touched it"))
		return b.String()
	}
	p := v.top
	for shown := 0; shown < v.rows() && p.entry < len(v.h.Entries); shown++ {
		b.WriteByte('\n')
		b.WriteString(v.line(p))
		if p.line+1 < v.lines(p.entry) {
			p.line++
		} else {
			p = pos{entry: p.entry + 1}
		}
	}
	return b.String()
}

// line draws one line: an entry's row or a line of its diff.
func (v historyView) line(p pos) string {
	e := v.h.Entries[p.entry]
	if p.line > 0 {
		return paintDiff(truncate("    "+printable(v.diff(p.entry)[p.line-1]), v.width))
	}
	mark := "  "
	switch {
	case e.Diff != nil && v.open[p.entry]:
		mark = "▾ "
	case e.Diff != nil:
		mark = "▸ "
	}
	row := mark + v.cols.fit(v.width).row(e, v.tf)
	if p.entry == v.cursor {
		return styleSelected.Render(truncate(row, v.width))
	}
	return v.cols.paintRevision(truncate(row, v.width), e)
}

// The diff's colours; under NO_COLOR (colourOff) only bold stays.
var (
	styleAdded   = lipgloss.NewStyle().Foreground(lipgloss.Color("2"))
	styleRemoved = lipgloss.NewStyle().Foreground(lipgloss.Color("1"))
	styleHunk    = lipgloss.NewStyle().Foreground(lipgloss.Color("6"))
	styleExact   = lipgloss.NewStyle().Foreground(lipgloss.Color("2"))
	styleApprox  = lipgloss.NewStyle().Foreground(lipgloss.Color("3"))
	styleUnavail = lipgloss.NewStyle().Faint(true)
)

// colour is s styled with st, or plain under NO_COLOR.
func colour(st lipgloss.Style, s string) string {
	if colourOff {
		return s
	}
	return st.Render(s)
}

// paintDiff colours one (already safe) line of a unified diff.
func paintDiff(l string) string {
	t := strings.TrimLeft(l, " ")
	switch {
	case strings.HasPrefix(t, "+++"), strings.HasPrefix(t, "---"):
		return styleHeader.Render(l)
	case strings.HasPrefix(t, "+"):
		return colour(styleAdded, l)
	case strings.HasPrefix(t, "-"):
		return colour(styleRemoved, l)
	case strings.HasPrefix(t, "@@"):
		return colour(styleHunk, l)
	}
	return l
}

// historyCols are the widths of the row's columns, fitted once to the
// history's values (capped, so one long user name does not push the
// revision off a narrow screen).
type historyCols struct{ time, verb, code, stage, user, rev int }

func historyColumns(es []HistoryEntry, tf timeFormat) historyCols {
	c := historyCols{time: 4, verb: 4, code: 4, stage: 5, user: 4, rev: 8}
	for i, e := range es {
		if i == 0 {
			c.time = max(c.time, ansi.StringWidth(tf.format(e.Time)))
		}
		c.verb = max(c.verb, min(18, ansi.StringWidth(printable(e.Verb))))
		c.stage = max(c.stage, ansi.StringWidth(shortStage(e.Stage)))
		c.user = max(c.user, min(24, ansi.StringWidth(printable(e.User))))
		c.rev = max(c.rev, min(18, ansi.StringWidth(e.Revision)))
	}
	return c
}

// noteRoom is the room the NOTE column should keep on the screen.
const noteRoom = 24

// fit narrows the user and verb columns (to 8 each at least) until the
// row leaves noteRoom for the note, or they can narrow no more: the time,
// code, stage and revision kind always fit in 60 columns.
func (c historyCols) fit(width int) historyCols {
	total := func() int { return 2 + c.time + c.verb + c.code + c.stage + c.user + c.rev + 6 }
	for over := total() + noteRoom - width; over > 0; over = total() + noteRoom - width {
		switch {
		case c.user > 8:
			c.user--
		case c.verb > 8:
			c.verb--
		default:
			return c
		}
	}
	return c
}

func (c historyCols) header() string {
	return "  " + c.cells("TIME", "VERB", "CODE", "STAGE", "REVISION", "USER", "NOTE")
}

func (c historyCols) row(e HistoryEntry, tf timeFormat) string {
	code := "-"
	if e.Code != 0 {
		code = fmt.Sprint(e.Code)
	}
	return c.cells(tf.format(e.Time), printable(e.Verb), code, shortStage(e.Stage), printable(e.Revision), printable(e.User), printable(e.Note))
}

// cells lays a row out; the revision comes before the user so that its
// kind stays on a 60-column screen.
func (c historyCols) cells(time, verb, code, stage, rev, user, note string) string {
	pad := func(s string, w int) string {
		s = truncate(s, w)
		return s + strings.Repeat(" ", max(0, w-ansi.StringWidth(s))) + " "
	}
	return strings.TrimRight(pad(time, c.time)+pad(verb, c.verb)+pad(code, c.code)+pad(stage, c.stage)+pad(rev, c.rev)+pad(user, c.user)+note, " ")
}

// paintRevision colours the revision cell by its kind (the text says the
// kind too, so nothing is lost without colour).
func (c historyCols) paintRevision(row string, e HistoryEntry) string {
	st := map[string]lipgloss.Style{"exact": styleExact, "approximate": styleApprox, "unavailable": styleUnavail}[e.Quality]
	if e.Quality == "" || e.Revision == "" {
		return row
	}
	i := strings.Index(row, printable(e.Revision))
	if i < 0 {
		return row
	}
	j := i + len(printable(e.Revision))
	return row[:i] + colour(st, row[i:j]) + row[j:]
}

// shortStage is the stage as the narrow pane writes it.
func shortStage(s string) string {
	switch s {
	case "ResponseComplete":
		return "complete"
	case "ResponseStarted":
		return "started"
	case "RequestReceived":
		return "received"
	}
	return strings.ToLower(s)
}
