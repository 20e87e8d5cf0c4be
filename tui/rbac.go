package tui

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"maps"
	"slices"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/kaudit/kaudit/views"
)

// DenialKey is one row of the Denials tab: who was refused what, where.
// Resource is written as views.ResourceKey writes it.
type DenialKey struct {
	Subject, Verb, Resource, Namespace string
}

// SuggestFunc turns selected denials into RBAC objects (YAML) and the
// warnings about them. The browser calls it in a Cmd, never in Update;
// cmd/kaudit wires the rbac package in (tui does not import it).
type SuggestFunc func(rows []DenialKey) (yaml string, warnings []string)

// RevokedFunc finds the denials whose request was allowed before: for
// each such row, "allowed until T by <reason>" (kaudit rbac's REVOKED?
// finding). The browser calls it in a Cmd; cmd/kaudit wires rbac in.
type RevokedFunc func() map[DenialKey]string

// rbacState is the Denials tab's selection, the last suggestion and the
// revoked-access findings (UI goroutine only).
type rbacState struct {
	suggest  SuggestFunc
	selected map[DenialKey]bool
	yaml     string

	revoked    RevokedFunc
	findings   map[DenialKey]string
	findingsAt time.Time // when the last finding started (clock time)
	finding    bool      // one is running
}

// findingsEvery spaces the revoked-access analysis (a walk of every
// request) while data arrives.
const findingsEvery = 10 * time.Second

// findingsMsg carries revoked-access findings.
type findingsMsg map[DenialKey]string

// findingsDue starts the revoked-access analysis for the Denials tab when
// it has never run or findingsEvery has passed.
func (m *Model) findingsDue() tea.Cmd {
	r := &m.rbac
	now := m.env.clock()
	if r.revoked == nil || m.tab != tabDenials || r.finding || !r.findingsAt.IsZero() && now.Sub(r.findingsAt) < findingsEvery {
		return nil
	}
	r.finding, r.findingsAt = true, now
	f, st := r.revoked, m.st
	return safe(func() tea.Msg {
		// In one ID base of the store (see rebase.go).
		found, _ := stable(st, func(uint64) map[DenialKey]string { return f() })
		return findingsMsg(found)
	})
}

// suggestedMsg carries a suggestion computed in a Cmd.
type suggestedMsg struct {
	yaml     string
	warnings []string
	n        int
}

// rbacWrittenMsg reports the YAML written to a file.
type rbacWrittenMsg struct {
	path string
	err  error
}

// rbacKey handles the Denials tab's selection and the suggestion pane's
// keys; ok is false when the key is not one of them.
func (m Model) rbacKey(k tea.KeyMsg) (Model, tea.Cmd, bool) {
	switch {
	case m.rbac.suggest == nil:
		return m, nil, false
	case m.over.pane == paneRBAC && key.Matches(k, m.keys.WriteYAML):
		return m, safe(writeYAML(m.rbac.yaml, m.env.dir, m.env.now())), true
	case m.over.pane != paneTable || m.tab != tabDenials:
		return m, nil, false
	case key.Matches(k, m.keys.SelectDenial):
		return m.toggleDenial(), nil, true
	case key.Matches(k, m.keys.SuggestRBAC):
		rows := m.selectedDenials()
		if len(rows) == 0 {
			if dk, ok := m.denialAt(m.cursor()); ok {
				rows = []DenialKey{dk}
			}
		}
		if len(rows) == 0 {
			return m, nil, true
		}
		m.status.note = "suggesting…"
		suggest, st := m.rbac.suggest, m.st
		return m, safe(func() tea.Msg {
			// In one ID base of the store (see rebase.go).
			msg, _ := stable(st, func(uint64) suggestedMsg {
				y, w := suggest(rows)
				return suggestedMsg{yaml: y, warnings: w, n: len(rows)}
			})
			return msg
		}), true
	}
	return m, nil, false
}

// toggleDenial selects or unselects the row under the cursor and moves on.
func (m Model) toggleDenial() Model {
	dk, ok := m.denialAt(m.cursor())
	if !ok {
		return m
	}
	sel := maps.Clone(m.rbac.selected) // models are values: never share a mutated map
	if sel == nil {
		sel = map[DenialKey]bool{}
	}
	if sel[dk] {
		delete(sel, dk)
	} else {
		sel[dk] = true
	}
	m.rbac.selected = sel
	m.status.note = fmt.Sprintf("%d selected · r: suggest RBAC", len(m.rbac.selected))
	m.tables[m.tab].MoveBy(1)
	return m
}

// onRBAC applies a suggestion or a write's outcome.
func (m Model) onRBAC(msg tea.Msg) Model {
	switch msg := msg.(type) {
	case suggestedMsg:
		m.rbac.yaml = msg.yaml
		m.show(paneRBAC, renderSuggestion(msg))
		m.status.note = ""
	case rbacWrittenMsg:
		if msg.err != nil {
			m.status.note = "write failed: " + msg.err.Error()
		} else {
			m.status.note = "wrote RBAC YAML to " + msg.path
		}
	}
	return m
}

// renderSuggestion is the pane: what to do, the warnings first, then the YAML.
func renderSuggestion(s suggestedMsg) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Suggested RBAC for %d denial(s) · w: write to a file · esc: back\n\n", s.n)
	if len(s.warnings) > 0 {
		fmt.Fprintf(&b, "⚠ %d WARNING(S)\n", len(s.warnings))
		for _, w := range s.warnings {
			b.WriteString("  ⚠ " + printable(w) + "\n")
		}
		b.WriteString("\n")
	}
	for line := range strings.SplitSeq(strings.TrimRight(s.yaml, "\n"), "\n") {
		b.WriteString(printable(line))
		b.WriteByte('\n')
	}
	return b.String()
}

// denialAt is the Denials tab's row i as a key.
func (m Model) denialAt(i int) (DenialKey, bool) {
	if m.res.tab != tabDenials {
		return DenialKey{}, false
	}
	return denialOf(m.res.table, i)
}

// denialOf is row i of a Denials table as a key.
func denialOf(t *views.Table, i int) (DenialKey, bool) {
	if t == nil || i < 0 || i >= len(t.Rows) || len(t.Columns) < 4 {
		return DenialKey{}, false
	}
	row := t.Rows[i]
	s := func(j int) string { v, _ := row[j].(string); return v }
	return DenialKey{Subject: s(0), Verb: s(1), Resource: s(2), Namespace: s(3)}, true
}

func (m Model) selectedDenials() []DenialKey {
	rows := make([]DenialKey, 0, len(m.rbac.selected))
	for k := range m.rbac.selected {
		rows = append(rows, k)
	}
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		return a.Subject+"\x00"+a.Verb+"\x00"+a.Resource+"\x00"+a.Namespace < b.Subject+"\x00"+b.Verb+"\x00"+b.Resource+"\x00"+b.Namespace
	})
	return rows
}

// denialTableRows marks the selected rows of the Denials tab with "●"
// and adds the revoked-access finding of each row.
type denialTableRows struct {
	tableRows
	selected map[DenialKey]bool
	findings map[DenialKey]string
}

var findingColumn = views.Column{Header: "FINDING"}

func (r denialTableRows) Columns() []views.Column {
	if len(r.findings) == 0 {
		return r.tableRows.Columns()
	}
	return append(slices.Clone(r.tableRows.Columns()), findingColumn)
}

func (r denialTableRows) Window(from, n int, tf timeFormat) ([][]string, []mark) {
	cells, marks := r.tableRows.Window(from, n, tf)
	for i := range cells {
		dk, ok := denialOf(r.t, from+i)
		if ok && r.selected[dk] {
			marks[i] = markSelected // in the mark column: the cells stay put
		}
		if len(r.findings) > 0 {
			cells[i] = append(cells[i], printable(orDash(r.findings[dk])))
		}
	}
	return cells, marks
}

// denialRows wraps the Denials tab's rows when some are selected or have
// findings.
func (m Model) denialRows(r tableRows) rows {
	if m.tab == tabDenials && (len(m.rbac.selected) > 0 || len(m.rbac.findings) > 0) {
		return denialTableRows{r, m.rbac.selected, m.rbac.findings}
	}
	return r
}

// writeYAML writes the suggestion to a new file in dir.
func writeYAML(yaml, dir string, now time.Time) tea.Cmd {
	return func() tea.Msg {
		path := filepath.Join(dir, "kaudit-rbac-"+now.UTC().Format("20060102-150405")+".yaml")
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return rbacWrittenMsg{path: path, err: err}
		}
		_, err = f.WriteString(yaml)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return rbacWrittenMsg{path: path, err: err}
	}
}
