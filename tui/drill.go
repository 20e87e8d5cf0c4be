package tui

import (
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/kaudit/kaudit/query"
	"github.com/kaudit/kaudit/views"
)

// open shows the detail page of an event, or drills from a grouped or
// Latency row into the Events tab filtered by it.
func (m Model) open() (Model, tea.Cmd) {
	r := m.rows()
	if r == nil || r.Len() == 0 {
		return m, nil
	}
	cur := m.cursor()
	if er, ok := r.(eventRows); ok {
		id, ok := er.id(cur)
		if !ok {
			return m, nil
		}
		m.over = overlay{pane: paneLoading, want: id}
		return m, safe(loadDetail(m.st, id, m.timeFormat()))
	}
	row := m.res.table.Rows[cur]
	term := drillTerm(m.res.table.View, row)
	if term == "" {
		return m, nil
	}
	m.back = append(m.back, backState{m.filter.String(), m.tab, cur})
	text := term
	if f := strings.TrimSpace(m.filter.String()); f != "" && !m.filter.IsJQ() {
		text = f + " " + term
	}
	m.tables[m.tab].SetRows(nil, timeFormat{})
	m.tab = tabEvents
	m.tables[tabEvents].Reset()
	m.follow = false
	return m.applyFilter(text, false)
}

// goBack undoes the last drill-down.
func (m Model) goBack() (Model, tea.Cmd) {
	if len(m.back) == 0 {
		return m, nil
	}
	b := m.back[len(m.back)-1]
	m.back = m.back[:len(m.back)-1]
	m.tables[m.tab].SetRows(nil, timeFormat{})
	m.tab = b.tab
	m.tables[b.tab].SetCursor(b.cursor)
	return m.applyFilter(b.filter, false)
}

// applyFilter makes text the filter and recomputes in the background.
func (m Model) applyFilter(text string, fromBar bool) (Model, tea.Cmd) {
	f, err := query.Compile(text)
	if err != nil {
		m.status.err = err.Error()
		return m, nil
	}
	m.filter = f
	m.bar.SetValue(text)
	if fromBar {
		m.tables[m.tab].Reset()
	}
	return m, m.startCompute(true)
}

// drillTerm is the quick term selecting a grouped row's requests.
func drillTerm(v views.View, row []any) string {
	s := func(i int) string { x, _ := row[i].(string); return x }
	switch v {
	case views.ViewUsers:
		return userTerm(s(0))
	case views.ViewVerbs:
		return "verb:" + quoteValue(s(0))
	case views.ViewNamespaces:
		return "ns:" + quoteValue(s(0))
	case views.ViewResources:
		return resourceTerm(s(0))
	case views.ViewDenials:
		// The row's SUBJECT is whose permissions were checked.
		t := "denied subject:" + quoteValue(s(0)) + " verb:" + quoteValue(s(1))
		if r := resourceTerm(s(2)); r != "" {
			t += " " + r
		}
		return t + " ns:" + quoteValue(s(3))
	case views.ViewLatency:
		// TIME USER VERB RESOURCE …: the requests of that kind.
		t := "verb:" + quoteValue(s(2))
		if r := resourceTerm(s(3)); r != "" {
			t += " " + r
		}
		return t
	}
	return ""
}

// userTerm selects a Users row's requests: "admin" is admin acting as
// themself, "admin (as bob)" admin impersonating bob (user:X alone would
// also match whoever impersonated X).
func userTerm(key string) string {
	user, as, ok := strings.Cut(key, " (as ")
	if !ok {
		return "user:" + quoteValue(user) + ` as:""`
	}
	return "user:" + quoteValue(user) + " as:" + quoteValue(strings.TrimSuffix(as, ")"))
}

// resourceTerm turns views.ResourceKey's resource[.group][/subresource]
// back into terms; a non-resource path has no quick term.
func resourceTerm(k string) string {
	if strings.HasPrefix(k, "/") || k == "" {
		return ""
	}
	k, sub, hasSub := strings.Cut(k, "/")
	res, group, hasGroup := strings.Cut(k, ".")
	t := "resource:" + quoteValue(res)
	if hasGroup {
		t += " apigroup:" + quoteValue(group)
	} else {
		t += ` apigroup:""`
	}
	if hasSub {
		t += " subresource:" + quoteValue(sub)
	} else {
		t += ` subresource:""`
	}
	return t
}

// quoteValue writes v as one quick-term value: exact, so quoted when it
// holds a space, comma, quote or *, or is empty.
func quoteValue(v string) string {
	if v != "" && !strings.ContainsAny(v, " \t,\"*\\") {
		return v
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
}
