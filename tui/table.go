package tui

import (
	"slices"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/kaudit/kaudit/views"
)

// TableKeyMap is the keys a table moves its cursor with.
type TableKeyMap struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
}

// DefaultTableKeyMap returns the documented movement keys.
func DefaultTableKeyMap() TableKeyMap {
	return TableKeyMap{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+b"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+f"), key.WithHelp("pgdn", "page down")),
		Top:      key.NewBinding(key.WithKeys("g", "home"), key.WithHelp("g", "first")),
		Bottom:   key.NewBinding(key.WithKeys("G", "end"), key.WithHelp("G", "last")),
	}
}

// ShortHelp implements help.KeyMap.
func (k TableKeyMap) ShortHelp() []key.Binding { return []key.Binding{k.Up, k.Down} }

// FullHelp implements help.KeyMap.
func (k TableKeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}}
}

// backward reports whether k moves toward the first row.
func (k TableKeyMap) backward(msg tea.KeyMsg) bool { return key.Matches(msg, k.Up, k.PageUp, k.Top) }

// forward reports whether k moves toward the last row.
func (k TableKeyMap) forward(msg tea.KeyMsg) bool {
	return key.Matches(msg, k.Down, k.PageDown, k.Bottom)
}

// table is one tab's scrolling table, a component in the bubbles style:
// the root model owns one per tab, hands it its rows and size, and passes
// it the movement keys while it has the focus. It keeps the tab's cursor,
// the first visible row (offset) and the chosen sort; the rows come
// already in that order (the model sorts them, in the background for
// Events).
//
// Goroutines: a value of the UI goroutine's model.
type table struct {
	keys           TableKeyMap
	rows           rows // nil while the tab's first result is computed
	tf             timeFormat
	cursor, offset int
	width, height  int // height counts the header line
	sort           sortState
	focus          bool
	// grown is each column's widest cell seen since the rows' columns or
	// the table's width last changed: live data only ever widens a
	// column, so the layout does not jitter as rows scroll by.
	grown []int
}

// sortState is a tab's chosen order: a column (-1: the view's own order;
// on Events, input order, which is time order) and direction.
type sortState struct {
	col  int
	desc bool
}

// tableOption configures a new table.
type tableOption func(*table)

func withTableKeys(k TableKeyMap) tableOption { return func(t *table) { t.keys = k } }

func withTableSize(w, h int) tableOption { return func(t *table) { t.width, t.height = w, h } }

// newTable returns an empty, unfocused table in the view's own order.
func newTable(opts ...tableOption) table {
	t := table{keys: DefaultTableKeyMap(), sort: sortState{col: -1}, width: 80, height: 24}
	for _, o := range opts {
		o(&t)
	}
	return t
}

// Update moves the cursor for the movement keys, when focused.
func (t table) Update(msg tea.Msg) (table, tea.Cmd) {
	k, ok := msg.(tea.KeyMsg)
	if !ok || !t.focus {
		return t, nil
	}
	page := t.visible()
	switch {
	case key.Matches(k, t.keys.Up):
		t.MoveBy(-1)
	case key.Matches(k, t.keys.Down):
		t.MoveBy(1)
	case key.Matches(k, t.keys.PageUp):
		t.MoveBy(-page)
	case key.Matches(k, t.keys.PageDown):
		t.MoveBy(page)
	case key.Matches(k, t.keys.Top):
		t.MoveBy(-t.Len())
	case key.Matches(k, t.keys.Bottom):
		t.MoveBy(t.Len())
	}
	return t, nil
}

// View draws the visible rows under the header, the cursor row marked.
func (t table) View() string {
	if t.rows == nil {
		return ""
	}
	return renderTable(t.rows, t.offset, t.cursor, t.width, t.height, t.tf, t.grown)
}

// SetSize sets the room the table has, its header line included.
func (t *table) SetSize(w, h int) {
	if w != t.width {
		t.grown = nil
	}
	t.width, t.height = w, h
}

// SetRows shows r (nil: not computed yet, which keeps the cursor where it
// is for when they come) and keeps the cursor on a row.
func (t *table) SetRows(r rows, tf timeFormat) {
	t.rows, t.tf = r, tf
	if r == nil {
		return
	}
	t.clamp()
	w := naturalWidths(r, t.offset, t.visible(), tf)
	if len(w) != len(t.grown) {
		t.grown = w
		return
	}
	for i := range w {
		t.grown[i] = max(t.grown[i], w[i])
	}
}

// ResetWidths forgets the widths seen (a new filter or tab: new rows).
func (t *table) ResetWidths() { t.grown = nil }

// naturalWidths is each column's widest cell (header included) among the
// visible rows.
func naturalWidths(r rows, offset, n int, tf timeFormat) []int {
	cols := r.Columns()
	cells, _ := r.Window(offset, n, tf)
	widths := make([]int, len(cols))
	for i, c := range cols {
		widths[i] = ansi.StringWidth(c.Header)
	}
	for _, row := range cells {
		for i, s := range row {
			if i < len(widths) {
				widths[i] = max(widths[i], ansi.StringWidth(s))
			}
		}
	}
	return widths
}

// Focus gives the table the movement keys; Blur takes them away.
func (t *table) Focus() { t.focus = true }

// Blur takes the movement keys away.
func (t *table) Blur() { t.focus = false }

// Focused reports whether the table has the keys.
func (t table) Focused() bool { return t.focus }

// Len is the number of rows (0 while not computed).
func (t table) Len() int {
	if t.rows == nil {
		return 0
	}
	return t.rows.Len()
}

// Cursor is the selected row.
func (t table) Cursor() int { return t.cursor }

// SetCursor selects row i; it is kept on a row when rows are set.
func (t *table) SetCursor(i int) { t.cursor = i }

// Offset is the first visible row.
func (t table) Offset() int { return t.offset }

// Sort is the tab's chosen order.
func (t table) Sort() sortState { return t.sort }

// SetSort chooses the order (the rows set next must be in it).
func (t *table) SetSort(s sortState) { t.sort = s }

// MoveBy moves the cursor d rows (down when positive), within the rows.
func (t *table) MoveBy(d int) {
	t.cursor += d
	t.clamp()
}

// Reset puts the cursor and window back on the first row.
func (t *table) Reset() { t.cursor, t.offset = 0, 0 }

// visible is how many rows fit under the header.
func (t table) visible() int { return max(1, t.height-1) }

// clamp keeps the cursor on a row and the window around the cursor.
func (t *table) clamp() {
	n, h := t.Len(), t.visible()
	t.cursor = max(0, min(t.cursor, n-1))
	if t.cursor < t.offset {
		t.offset = t.cursor
	}
	if t.cursor >= t.offset+h {
		t.offset = t.cursor - h + 1
	}
	t.offset = max(0, min(t.offset, n-h))
}

// renderTable draws rows [offset, offset+height-1) of r under a header line,
// fitted to width, with the cursor row highlighted.
func renderTable(r rows, offset, cursor, width, height int, tf timeFormat, grown []int) string {
	if height < 2 || width < 8 {
		return ""
	}
	cols := r.Columns()
	cells, marks := r.Window(offset, height-1, tf)
	widths := naturalWidths(r, offset, height-1, tf)
	if len(grown) == len(widths) {
		for i := range widths {
			widths[i] = max(widths[i], grown[i])
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
		case markSelected:
			mk, line = "●", styleDenied.Render(line)
		case markHit:
			mk, line = hitRune, style5xx.Render(line)
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

// fit makes the row fit in width (one space between columns), in order
// of what matters least: a table's second and later time columns hide
// (Denials' FIRST, then LAST), then its detail text columns (those after
// the first four text columns: BY, REASON, FINDING) shrink, down to 8
// cells, then every text column is levelled down together so that no one
// is squeezed to nothing while another stays wide, never below 3 cells.
// A hidden column has width -1.
//
// Only text columns shrink: a cut time, count or code would be misread.
func fit(widths []int, cols []views.Column, width int) {
	total := func() int {
		n := -1
		for _, w := range widths {
			if w >= 0 {
				n += w + 1
			}
		}
		return n
	}
	var times, text []int
	for i, c := range cols {
		switch c.Kind {
		case views.KindTime:
			times = append(times, i)
		case views.KindText:
			text = append(text, i)
		}
	}
	for i := 0; i < len(times)-1 && total() > width; i++ {
		widths[times[i]] = -1
	}
	if len(times) > 1 && total() > width {
		widths[times[len(times)-1]] = -1
	}
	if len(text) > 4 {
		detail := text[4:]
		for total() > width {
			widest := -1
			for _, i := range detail {
				if widths[i] > 8 && (widest < 0 || widths[i] > widths[widest]) {
					widest = i
				}
			}
			if widest < 0 {
				break
			}
			widths[widest] -= max(1, min(total()-width, widths[widest]-8))
		}
		// Still too wide: hide detail columns, the last first, rather
		// than level the first four below 8 cells (60 columns).
		for j := len(text) - 1; j >= 4 && cutsCore(widths, cols, text[:4], width); j-- {
			widths[text[j]] = -1
		}
	}
	level(widths, cols, width)
}

// cutsCore reports whether levelling widths would leave one of the core
// text columns narrower than 8 cells (or than it is, when narrower).
func cutsCore(widths []int, cols []views.Column, core []int, width int) bool {
	w := slices.Clone(widths)
	level(w, cols, width)
	for _, i := range core {
		if w[i] < min(8, widths[i]) {
			return true
		}
	}
	return false
}

// level shrinks the widest text columns together until the row fits.
func level(widths []int, cols []views.Column, width int) {
	for {
		total, widest, second := -1, -1, 0
		for i, w := range widths {
			if w < 0 {
				continue
			}
			total += w + 1
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

// joinCells lays cells out in their columns: cut to the column's width,
// padded (numbers on the right). Widths are in terminal cells, counted
// per grapheme, so CJK and emoji line up.
func joinCells(cells []string, widths []int, cols []views.Column) string {
	var b strings.Builder
	first := true
	for i, s := range cells {
		if i >= len(widths) || widths[i] < 0 {
			continue // hidden
		}
		if !first {
			b.WriteByte(' ')
		}
		first = false
		s = truncate(s, widths[i])
		pad := strings.Repeat(" ", max(0, widths[i]-ansi.StringWidth(s)))
		if cols[i].Kind == views.KindInt || cols[i].Kind == views.KindPercent || cols[i].Kind == views.KindDuration {
			b.WriteString(pad + s)
		} else {
			b.WriteString(s + pad)
		}
	}
	return b.String()
}

// truncate cuts s to at most w cells, ending with "…" when it cut. Escape
// sequences (styling) are kept whole, so a cut styled line keeps its style.
func truncate(s string, w int) string { return ansi.Truncate(s, w, "…") }

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
