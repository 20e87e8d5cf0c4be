package tui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"

	"github.com/kaudit/kaudit/store"
	"github.com/kaudit/kaudit/termsafe"
	"github.com/kaudit/kaudit/views"
)

// mark flags a row that must stand out without colour.
type mark uint8

const (
	markNone   mark = iota
	markDenied      // refused: "✗" and red
	mark5xx         // server error: "!" and yellow
)

// rows is what the table renders: only rows [from, from+n) are ever asked
// for, so a million-event tab costs what its visible window costs.
type rows interface {
	Len() int
	Columns() []views.Column
	// Window returns the cells of rows [from, from+n) (fewer at the end),
	// already made printable, with their marks.
	Window(from, n int, tf timeFormat) ([][]string, []mark)
}

// eventRows is the Events tab: the requests kept by the filter, in input
// order, read from the store per visible row.
type eventRows struct {
	st      *store.Store
	set     *store.Set
	reverse bool       // newest first, or the sort descending
	order   []store.ID // sorted by a column (nil: input order)
}

var eventColumns = []views.Column{
	{Header: "TIME", Kind: views.KindTime}, {Header: "USER"}, {Header: "VERB"}, {Header: "RESOURCE"},
	{Header: "NAMESPACE/NAME"}, {Header: "CODE", Kind: views.KindInt}, {Header: "LATENCY", Kind: views.KindDuration},
}

func (r eventRows) Len() int {
	if r.order != nil {
		return len(r.order)
	}
	return int(r.set.GetCardinality())
}
func (r eventRows) Columns() []views.Column { return eventColumns }

// id returns the ID of row i (Select walks containers, not events).
func (r eventRows) id(i int) (store.ID, bool) {
	n := r.Len()
	if i < 0 || i >= n {
		return 0, false
	}
	if r.reverse {
		i = n - 1 - i
	}
	if r.order != nil {
		return r.order[i], true
	}
	id, err := r.set.Select(uint32(i))
	return id, err == nil
}

func (r eventRows) Window(from, n int, tf timeFormat) ([][]string, []mark) {
	first, ok := r.id(from)
	if !ok {
		return nil, nil
	}
	var cells [][]string
	var marks []mark
	it := r.set.Iterator()
	it.AdvanceIfNeeded(first)
	next := func() (store.ID, bool) {
		if r.reverse || r.order != nil {
			// Newest first or sorted: one lookup per visible row
			// (Select walks containers, not events).
			return r.id(from + len(cells))
		}
		if !it.HasNext() {
			return 0, false
		}
		return it.Next(), true
	}
	for len(cells) < n {
		id, ok := next()
		if !ok {
			break
		}
		e := r.st.Entry(id)
		cells = append(cells, []string{
			tf.format(e.Time), printable(userName(&e)), printable(e.Verb), printable(views.ResourceKey(&e)),
			printable(objectName(&e)), codeText(e.Code), formatDuration(e.Latency),
		})
		marks = append(marks, markOf(e.Denied, e.Code))
	}
	return cells, marks
}

func userName(e *store.Entry) string {
	if e.Impersonated.Name != "" {
		return e.User.Name + " (as " + e.Impersonated.Name + ")"
	}
	return e.User.Name
}

func objectName(e *store.Entry) string {
	switch {
	case e.Object.Namespace == "":
		return e.Object.Name
	case e.Object.Name == "":
		return e.Object.Namespace + "/"
	}
	return e.Object.Namespace + "/" + e.Object.Name
}

func markOf(denied bool, code int32) mark {
	switch {
	case denied:
		return markDenied
	case code >= 500 && code < 600:
		return mark5xx
	}
	return markNone
}

// tableRows is a built view (Users, Verbs, …): already small, or capped.
type tableRows struct{ t *views.Table }

func (r tableRows) Len() int                { return len(r.t.Rows) }
func (r tableRows) Columns() []views.Column { return r.t.Columns }

func (r tableRows) Window(from, n int, tf timeFormat) ([][]string, []mark) {
	if from < 0 || from >= len(r.t.Rows) {
		return nil, nil
	}
	end := min(from+n, len(r.t.Rows))
	cells := make([][]string, 0, end-from)
	marks := make([]mark, 0, end-from)
	codeCol := -1
	for i, c := range r.t.Columns {
		if c.Header == "CODE" {
			codeCol = i
		}
	}
	for _, row := range r.t.Rows[from:end] {
		out := make([]string, len(row))
		for i, v := range row {
			out[i] = cellText(r.t.Columns[i].Kind, v, tf)
		}
		cells = append(cells, out)
		m := markNone
		switch {
		case r.t.View == views.ViewDenials:
			m = markDenied
		case codeCol >= 0:
			code, _ := row[codeCol].(int)
			m = markOf(code == 403, int32(code))
		}
		marks = append(marks, m)
	}
	return cells, marks
}

func cellText(k views.Kind, v any, tf timeFormat) string {
	switch x := v.(type) {
	case string:
		return printable(x)
	case int:
		if k == views.KindInt {
			return codeTextInt(x)
		}
		return strconv.Itoa(x)
	case float64:
		return fmt.Sprintf("%.1f%%", x)
	case time.Duration:
		return formatDuration(x)
	case time.Time:
		return tf.format(x)
	}
	return printable(fmt.Sprint(v))
}

func codeText(c int32) string { return codeTextInt(int(c)) }

func codeTextInt(c int) string {
	if c == 0 {
		return "-"
	}
	return strconv.Itoa(c)
}

// printable is termsafe.Printable: every event-derived string passes here
// before it is measured or drawn.
func printable(s string) string { return termsafe.Printable(s) }

// formatDuration matches the CLI tables.
func formatDuration(d time.Duration) string { return views.FormatDuration(d) }

// timeFormat writes times with the date only when the data spans more
// than a day (issue 4), always in UTC, like the log.
type timeFormat struct{ withDate bool }

func (tf timeFormat) format(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	if tf.withDate {
		return t.UTC().Format("01-02 15:04:05")
	}
	return t.UTC().Format("15:04:05.000")
}

// Styles. Colour is a second channel only: marks and the cursor column say
// the same in NO_COLOR and in golden files.
var (
	styleHeader   = lipgloss.NewStyle().Bold(true)
	styleSelected = lipgloss.NewStyle().Reverse(true)
	styleDenied   = lipgloss.NewStyle().Foreground(lipgloss.Color("9"))
	style5xx      = lipgloss.NewStyle().Foreground(lipgloss.Color("11"))
	styleDim      = lipgloss.NewStyle().Faint(true)
	styleActive   = lipgloss.NewStyle().Bold(true).Underline(true)
	styleError    = lipgloss.NewStyle().Foreground(lipgloss.Color("9"))
)

// renderTable draws rows [offset, offset+height-1) of r under a header line,
// fitted to width, with the cursor row highlighted.
func renderTable(r rows, offset, cursor, width, height int, tf timeFormat) string {
	if height < 2 || width < 8 {
		return ""
	}
	cols := r.Columns()
	cells, marks := r.Window(offset, height-1, tf)
	widths := make([]int, len(cols))
	for i, c := range cols {
		widths[i] = lipgloss.Width(c.Header)
	}
	for _, row := range cells {
		for i, s := range row {
			widths[i] = max(widths[i], lipgloss.Width(s))
		}
	}
	fit(widths, cols, width-2) // two columns for the cursor and the mark
	var b strings.Builder
	b.WriteString("  ")
	b.WriteString(styleHeader.Render(joinCells(headers(cols), widths, cols)))
	for i, row := range cells {
		b.WriteByte('\n')
		cur, mk := " ", " "
		if offset+i == cursor {
			cur = ">"
		}
		line := joinCells(row, widths, cols)
		switch marks[i] {
		case markDenied:
			mk, line = "✗", styleDenied.Render(line)
		case mark5xx:
			mk, line = "!", style5xx.Render(line)
		}
		if offset+i == cursor {
			line = styleSelected.Render(line)
		}
		b.WriteString(cur + mk + line)
	}
	return b.String()
}

func headers(cols []views.Column) []string {
	h := make([]string, len(cols))
	for i, c := range cols {
		h[i] = c.Header
	}
	return h
}

// fit shrinks the widest columns until the row fits in width (one space
// between columns), levelling them down together so that no one column
// is squeezed to nothing while another stays wide; never below 3 cells.
//
// Only text columns shrink: a cut time, count or code would be misread.
func fit(widths []int, cols []views.Column, width int) {
	for {
		total := len(widths) - 1
		widest, second := -1, 0
		for i, w := range widths {
			total += w
			if cols[i].Kind == views.KindText && (widest < 0 || w > widths[widest]) {
				widest = i
			}
		}
		if widest < 0 {
			return
		}
		for i, w := range widths {
			if i != widest && cols[i].Kind == views.KindText && w > second {
				second = w
			}
		}
		if total <= width || widths[widest] <= 3 {
			return
		}
		cut := max(1, min(total-width, widths[widest]-max(second, 3)))
		widths[widest] -= cut
	}
}

func joinCells(cells []string, widths []int, cols []views.Column) string {
	var b strings.Builder
	for i, s := range cells {
		if i > 0 {
			b.WriteByte(' ')
		}
		s = truncate(s, widths[i])
		pad := strings.Repeat(" ", widths[i]-lipgloss.Width(s))
		if cols[i].Kind == views.KindInt || cols[i].Kind == views.KindPercent || cols[i].Kind == views.KindDuration {
			b.WriteString(pad + s)
		} else {
			b.WriteString(s + pad)
		}
	}
	return b.String()
}

// truncate cuts s to at most w cells, ending with "…" when it cut.
func truncate(s string, w int) string {
	if lipgloss.Width(s) <= w {
		return s
	}
	var b strings.Builder
	used := 0
	for _, r := range s {
		rw := lipgloss.Width(string(r))
		if used+rw > w-1 {
			break
		}
		b.WriteRune(r)
		used += rw
	}
	b.WriteString("…")
	return b.String()
}
