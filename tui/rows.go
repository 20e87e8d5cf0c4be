package tui

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/kaudit/kaudit/store"
	"github.com/kaudit/kaudit/termsafe"
	"github.com/kaudit/kaudit/views"
)

// mark flags a row that must stand out without colour.
type mark uint8

const (
	markNone     mark = iota
	markDenied        // refused: "✗" and red
	mark5xx           // server error: "!" and yellow
	markSelected      // a selected denial: "●" and red
	markHit           // a detection rule fired on it (--detect): "◆"
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
//
// The IDs of set and order are of the ID base base (the result's): a row
// is read as the store numbers its event now (see rebase.go).
type eventRows struct {
	st      *store.Store
	set     *store.Set
	base    uint64                      // the ID base of set and order
	reverse bool                        // newest first, or the sort descending
	order   []store.ID                  // sorted by a column (nil: input order)
	sources bool                        // events come from more than one source: a SOURCE column
	hit     func(store.ID, uint64) bool // whether a detection rule flagged the request (nil: --detect is off)
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
func (r eventRows) Columns() []views.Column {
	if r.sources {
		return append(slices.Clone(eventColumns), views.Column{Header: "SOURCE"})
	}
	return eventColumns
}

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

// Window reads the rows' events in one ID base of the store, again should
// it rebase meanwhile: a row shows its own event or, when that is gone, a
// row saying so.
func (r eventRows) Window(from, n int, tf timeFormat) ([][]string, []mark) {
	type win struct {
		cells [][]string
		marks []mark
	}
	w, _ := stable(r.st, func(cur uint64) win {
		c, m := r.window(from, n, tf, cur)
		return win{c, m}
	})
	return w.cells, w.marks
}

// goneCells are the cells of a row whose event is no longer stored.
var goneCells = []string{"-", "(gone)", "-", "-", "-", "-", "-"}

// window is Window with the store in ID base cur.
func (r eventRows) window(from, n int, tf timeFormat, cur uint64) ([][]string, []mark) {
	first, ok := r.id(from)
	if !ok {
		return nil, nil
	}
	kept := r.st.First()
	var cells [][]string
	var marks []mark
	var read []store.ID // the rows' IDs in base cur
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
		held, ok := next()
		if !ok {
			break
		}
		id, ok := moveID(held, r.base, cur)
		if !ok || id < kept {
			cells, marks, read = append(cells, r.goneRow()), append(marks, markNone), append(read, 0)
			continue
		}
		read = append(read, id)
		e := r.st.Entry(id)
		cells = append(cells, []string{
			tf.format(e.Time), printable(orDash(userName(&e))), printable(orDash(e.Verb)), printable(orDash(views.ResourceKey(&e))),
			printable(orDash(objectName(&e))), codeText(e.Code), formatDuration(e.Latency),
		})
		if r.sources {
			cells[len(cells)-1] = append(cells[len(cells)-1], printable(orDash(e.Source)))
		}
		mk := markOf(e.Denied, e.Code)
		if mk == markNone && r.hit != nil && r.hit(id, cur) {
			mk = markHit
		}
		marks = append(marks, mk)
	}
	if now := r.st.First(); now > kept { // retention dropped some while they were read
		for i, id := range read {
			if id < now {
				cells[i], marks[i] = r.goneRow(), markNone
			}
		}
	}
	return cells, marks
}

// goneRow is a row whose event is no longer stored.
func (r eventRows) goneRow() []string {
	row := slices.Clone(goneCells)
	if r.sources {
		row = append(row, "-")
	}
	return row
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
		return printable(orDash(x))
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
