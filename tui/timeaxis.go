package tui

import (
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/kaudit/kaudit/query"
)

// The time axis: the sparkline spans the filter's since:/until: range
// (or the data's), an axis line under it labels that span, and keys zoom
// in and out or pick a range with a brush on the sparkline. A range is
// always written into the filter as since:/until: terms, so it is part of
// the filter's history and of drill-downs.

// span is the sparkline's time span, [from, to) in Unix nanoseconds.
type span struct{ from, to int64 }

func (s span) valid() bool { return s.to > s.from }

// at is the start of bucket i of n.
func (s span) at(i, n int) int64 {
	return s.from + int64(float64(s.to-s.from)*float64(i)/float64(n))
}

// sparkSpan is the span the sparkline draws: the filter's range where it
// has one, the data's elsewhere.
func sparkSpan(since, until time.Time, first, last time.Time) span {
	s := span{}
	if !first.IsZero() {
		s = span{first.UnixNano(), last.UnixNano() + 1}
	}
	if !since.IsZero() {
		s.from = since.UnixNano()
	}
	if !until.IsZero() {
		s.to = until.UnixNano()
	}
	return s
}

// axisSteps are the label spacings the axis picks from, each with the
// label formats that show it, longest first (a narrow axis takes the
// shorter: mm:ss for seconds).
var axisSteps = []struct {
	d       time.Duration
	layouts []string
}{
	{time.Millisecond, []string{"05.000"}}, {10 * time.Millisecond, []string{"05.000"}},
	{100 * time.Millisecond, []string{"05.000"}}, {250 * time.Millisecond, []string{"05.000"}},
	{500 * time.Millisecond, []string{"05.000"}},
	{time.Second, []string{"15:04:05", "04:05"}}, {5 * time.Second, []string{"15:04:05", "04:05"}},
	{15 * time.Second, []string{"15:04:05", "04:05"}}, {30 * time.Second, []string{"15:04:05", "04:05"}},
	{time.Minute, []string{"15:04"}}, {5 * time.Minute, []string{"15:04"}}, {15 * time.Minute, []string{"15:04"}},
	{30 * time.Minute, []string{"15:04"}}, {time.Hour, []string{"15:04"}}, {3 * time.Hour, []string{"15:04"}},
	{6 * time.Hour, []string{"15:04"}}, {12 * time.Hour, []string{"01-02 15h"}},
	{24 * time.Hour, []string{"01-02"}}, {7 * 24 * time.Hour, []string{"01-02"}}, {30 * 24 * time.Hour, []string{"2006-01-02"}},
}

// axis writes labels under a sparkline of width cells spanning s: ticks
// as far apart as their labels need, at round times of the span's scale.
func axis(s span, width int) string {
	if !s.valid() || width < 10 {
		return ""
	}
	nsPerCell := float64(s.to-s.from) / float64(width)
	step, layout := axisSteps[len(axisSteps)-1].d, "2006-01-02"
pick:
	for _, st := range axisSteps {
		for _, l := range st.layouts {
			if float64(st.d)/nsPerCell >= float64(len(l)+3) {
				step, layout = st.d, l
				break pick
			}
		}
	}
	line := []rune(strings.Repeat(" ", width))
	d := int64(step)
	for t := (s.from + d - 1) / d * d; t < s.to; t += d {
		col := int(float64(t-s.from) / nsPerCell)
		label := []rune("╵" + time.Unix(0, t).UTC().Format(layout))
		if col+len(label) > width {
			break
		}
		copy(line[col:], label)
	}
	return string(line)
}

// zoom narrows (factor < 1) or widens (factor > 1) the range around
// centre, and writes it into the filter. Widening past the data's span
// drops the range.
func (m Model) zoom(factor float64) (Model, tea.Cmd) {
	// The filter's range, not the last result's span: keys pressed
	// before the result arrives zoom further.
	s := m.res.span
	if since, until := m.filter.Range(); !since.IsZero() && !until.IsZero() {
		s = span{since.UnixNano(), until.UnixNano()}
	}
	if !s.valid() || m.hdr.first.IsZero() {
		return m, nil
	}
	data := span{m.hdr.first.UnixNano(), m.hdr.last.UnixNano() + 1}
	centre := s.from + (s.to-s.from)/2
	if t, ok := m.cursorTime(); ok && t >= s.from && t < s.to {
		centre = t
	}
	width := int64(float64(s.to-s.from) * factor)
	switch {
	case width < int64(time.Millisecond):
		return m, m.note("zoomed in as far as it goes")
	case width >= data.to-data.from:
		return m.setRange(time.Time{}, time.Time{}) // all of it
	}
	// Keep the range inside the data, so that the sparkline is full.
	from := min(max(centre-width/2, data.from), data.to-width)
	return m.setRange(time.Unix(0, from).UTC(), time.Unix(0, from+width).UTC())
}

// cursorTime is the time of the Events tab's cursor row.
func (m Model) cursorTime() (int64, bool) {
	er, ok := m.rows().(eventRows)
	if !ok {
		return 0, false
	}
	id, ok := er.id(m.cursor())
	if !ok {
		return 0, false
	}
	t := m.st.Entry(id).Time
	return t.UnixNano(), !t.IsZero()
}

// setRange makes [since, until) the filter's range (zero: none). The
// filter before it is kept for esc.
func (m Model) setRange(since, until time.Time) (Model, tea.Cmd) {
	text, ok := query.WithRange(m.filter.String(), since, until)
	if !ok {
		return m, m.note("a jq filter takes no range: compare .stageTimestamp in it")
	}
	m.back = append(m.back, backState{m.filter.String(), m.tab, m.cursor()})
	m.fwd = nil
	return m.applyFilter(text, false)
}

// brush is the range being picked on the sparkline (t): a cursor bucket
// and, once space marked it, an anchor.
type brush struct {
	on       bool
	pos      int
	anchor   int
	anchored bool
}

// covers reports whether bucket i is highlighted.
func (b brush) covers(i int) bool {
	if !b.on {
		return false
	}
	if !b.anchored {
		return i == b.pos
	}
	return i >= min(b.pos, b.anchor) && i <= max(b.pos, b.anchor)
}

// BrushKeyMap is the keys of the range brush.
type BrushKeyMap struct {
	Left, Right, Mark, Apply, Cancel key.Binding
}

// DefaultBrushKeyMap returns the brush's bindings.
func DefaultBrushKeyMap() BrushKeyMap {
	return BrushKeyMap{
		Left:   key.NewBinding(key.WithKeys("left", "h"), key.WithHelp("←/h", "earlier")),
		Right:  key.NewBinding(key.WithKeys("right", "l"), key.WithHelp("→/l", "later")),
		Mark:   key.NewBinding(key.WithKeys(" "), key.WithHelp("space", "mark start")),
		Apply:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "zoom to range")),
		Cancel: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
	}
}

// ShortHelp implements help.KeyMap.
func (k BrushKeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Left, k.Right, k.Mark, k.Apply, k.Cancel}
}

// FullHelp implements help.KeyMap.
func (k BrushKeyMap) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// brushKey handles a key while the brush is on.
func (m Model) brushKey(k tea.KeyMsg) (Model, tea.Cmd) {
	km, n := DefaultBrushKeyMap(), len(m.res.spark.counts)
	fast := 1
	if k.Alt {
		fast = max(1, n/10)
	}
	switch {
	case key.Matches(k, km.Left):
		m.brush.pos = max(0, m.brush.pos-fast)
	case key.Matches(k, km.Right):
		m.brush.pos = min(n-1, m.brush.pos+fast)
	case key.Matches(k, km.Mark):
		m.brush.anchor, m.brush.anchored = m.brush.pos, true
	case key.Matches(k, km.Cancel):
		m.brush = brush{}
	case key.Matches(k, km.Apply):
		lo, hi := m.brush.pos, m.brush.pos
		if m.brush.anchored {
			lo, hi = min(m.brush.pos, m.brush.anchor), max(m.brush.pos, m.brush.anchor)
		}
		m.brush = brush{}
		s := m.res.span
		return m.setRange(time.Unix(0, s.at(lo, n)).UTC(), time.Unix(0, s.at(hi+1, n)).UTC())
	}
	return m, nil
}

// startBrush turns the brush on at the cursor row's time, or the middle.
func (m Model) startBrush() Model {
	n := len(m.res.spark.counts)
	if n == 0 || !m.res.span.valid() {
		return m
	}
	m.brush = brush{on: true, pos: n / 2}
	if t, ok := m.cursorTime(); ok {
		s := m.res.span
		if i := int(float64(t-s.from) / float64(s.to-s.from) * float64(n)); i >= 0 && i < n {
			m.brush.pos = i
		}
	}
	return m
}

// rangeText is the header's note of the active range.
func (m Model) rangeText() string {
	since, until := m.filter.Range()
	if since.IsZero() && until.IsZero() {
		return ""
	}
	tf := timeFormat{withDate: true}
	if s := m.res.span; s.valid() && s.to-s.from < int64(24*time.Hour) && !m.hdr.first.IsZero() &&
		m.hdr.last.Sub(m.hdr.first) < 24*time.Hour {
		tf.withDate = false
	}
	a, b := "…", "…"
	if !since.IsZero() {
		a = tf.format(since)
	}
	if !until.IsZero() {
		b = tf.format(until)
	}
	return "range " + a + "–" + b
}
