package tui

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/kaudit/kaudit/store"
	"github.com/kaudit/kaudit/views"
)

// cycleSort moves the tab's sort to the next column (s). On Events it
// starts sorting the rows in the background.
func (m *Model) cycleSort() tea.Cmd {
	t := &m.tables[m.tab]
	s := t.Sort()
	if m.tab == tabEvents {
		i := slices.Index(eventSortCols, s.col)
		s.col = eventSortCols[(i+1)%len(eventSortCols)]
		t.SetSort(s)
		t.Reset()
		m.evsort.order = nil
		return m.startSort()
	}
	if m.res.table == nil || m.res.tab != m.tab {
		return nil
	}
	s.col++
	if s.col >= len(m.res.table.Columns) {
		s.col = -1
	}
	t.SetSort(s)
	m.applySort()
	return nil
}

// flipSort reverses the tab's direction (S).
func (m *Model) flipSort() {
	t := &m.tables[m.tab]
	s := t.Sort()
	s.desc = !s.desc
	t.SetSort(s)
	if m.tab != tabEvents {
		m.applySort()
	}
}

// applySort orders the current table's rows (a copy: the result may be
// shared with an older model value).
func (m *Model) applySort() {
	t := m.res.table
	s := m.tables[m.tab].Sort()
	if t == nil || m.res.tab != m.tab || (s.col < 0 && !s.desc) {
		return
	}
	if m.res.unsorted == nil {
		m.res.unsorted, m.res.unsortedIDs = t.Rows, t.IDs
	}
	// Sort positions, so that the rows' IDs (Latency) follow their rows.
	un := m.res.unsorted
	perm := make([]int, len(un))
	for i := range perm {
		perm[i] = i
	}
	if s.col >= 0 {
		slices.SortStableFunc(perm, func(a, b int) int { return compareCells(un[a][s.col], un[b][s.col]) })
	}
	if s.desc {
		slices.Reverse(perm)
	}
	nt := *t
	nt.Rows = make([][]any, len(perm))
	if m.res.unsortedIDs != nil {
		nt.IDs = make([]store.ID, len(perm))
	}
	for i, p := range perm {
		nt.Rows[i] = un[p]
		if nt.IDs != nil {
			nt.IDs[i] = m.res.unsortedIDs[p]
		}
	}
	m.res.table = &nt
}

func compareCells(a, b any) int {
	switch x := a.(type) {
	case string:
		return strings.Compare(x, b.(string))
	case int:
		return x - b.(int)
	case float64:
		y := b.(float64)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case time.Duration:
		return compareCells(float64(x), float64(b.(time.Duration)))
	case time.Time:
		return x.Compare(b.(time.Time))
	}
	return 0
}

// sortLabel tells the filter line how the tab is ordered.
func (m Model) sortLabel() string {
	s := m.tables[m.tab].Sort()
	dir := "↑"
	if s.desc {
		dir = "↓"
	}
	switch {
	case m.tab == tabEvents && s.col >= 0:
		l := "by " + eventColumns[s.col].Header + " " + dir
		if m.evsort.running && m.evsort.order == nil {
			l += " (sorting…)"
		}
		return l
	case m.tab == tabEvents && s.desc:
		return "newest first"
	case m.tab == tabEvents || s.col < 0 && !s.desc:
		return ""
	case s.col < 0:
		return "reversed"
	case m.res.table != nil && s.col < len(m.res.table.Columns):
		return "by " + m.res.table.Columns[s.col].Header + " " + dir
	}
	return ""
}

// writtenMsg reports a selection written to a file (w).
type writtenMsg struct {
	path string
	n    uint64
	err  error
}

// writeSelection writes the original bytes of the requests the filter
// keeps, as JSON lines, to a new file in dir. It runs in a Cmd: the store
// may have to read the bytes back from disk or a spool. set is of ID base
// base: the file is written in one base of the store, and written again
// should it rebase meanwhile (see rebase.go).
func writeSelection(st *store.Store, set *store.Set, base uint64, dir string, now time.Time) tea.Cmd {
	return func() tea.Msg {
		path := filepath.Join(dir, "kaudit-selection-"+now.UTC().Format("20060102-150405")+".jsonl")
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return writtenMsg{path: path, err: err}
		}
		err, _ = stable(st, func(cur uint64) error {
			if err := f.Truncate(0); err != nil {
				return err
			}
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return err
			}
			return views.WriteRaw(f, st, moveSet(set, base, cur), false)
		})
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return writtenMsg{path: path, n: set.GetCardinality(), err: err}
	}
}

func (w writtenMsg) note() string {
	if w.err != nil {
		return "write failed: " + w.err.Error()
	}
	return fmt.Sprintf("wrote %d events to %s", w.n, w.path)
}
