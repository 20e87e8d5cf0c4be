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
	if id, ok := m.eventAt(cur); ok {
		// An event, or a Latency row: that request.
		return m.openEvent(id)
	}
	if _, ok := r.(eventRows); ok {
		return m, nil
	}
	row := m.res.table.Rows[cur]
	term := drillTerm(m.res.table.View, row)
	if term == "" {
		return m, nil
	}
	m.back = append(m.back, backState{m.filter.String(), m.tab, cur})
	m.fwd = nil
	text := term
	if f := strings.TrimSpace(m.filter.String()); f != "" && !m.filter.IsJQ() {
		text = f + " " + term
	}
	m.tables[m.tab].SetRows(nil, timeFormat{})
	m.tab = tabEvents
	m.tables[tabEvents].Reset()
	return m.applyFilter(text, false)
}

// goBack undoes the last drill-down.
func (m Model) goBack() (Model, tea.Cmd) {
	if len(m.back) == 0 {
		return m, nil
	}
	b := m.back[len(m.back)-1]
	m.back = m.back[:len(m.back)-1]
	m.fwd = append(m.fwd, backState{m.filter.String(), m.tab, m.cursor()})
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
	m.tables[m.tab].ResetWidths()
	if fromBar {
		m.keep = m.anchor()
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
	case views.ViewCodes:
		if s(0) == "" {
			return "code:0"
		}
		return "code:" + s(0)
	case views.ViewUserAgents:
		return "ua:" + quoteValue(s(0))
	case views.ViewSourceIPs:
		return "ip:" + quoteValue(s(0))
	case views.ViewSources:
		return "source:" + quoteValue(s(0))
	case viewDetections:
		// The requests the rule flagged: an ordinary filter, so that
		// back, forward and the filter history work on it.
		return "rule:" + quoteValue(s(0))
	case views.ViewResources:
		return resourceTerm(s(0))
	case views.ViewDenials:
		// The row's SUBJECT is whose permissions were checked.
		// An admission refusal is a 403 after an allow: not "denied".
		t := "denied subject:" + quoteValue(s(0)) + " verb:" + quoteValue(s(1))
		if s(7) == "admission" {
			t = "code:403 decision:allow subject:" + quoteValue(s(0)) + " verb:" + quoteValue(s(1))
		}
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

// goForward redoes what the last esc undid.
func (m Model) goForward() (Model, tea.Cmd) {
	if len(m.fwd) == 0 {
		return m, nil
	}
	f := m.fwd[len(m.fwd)-1]
	m.fwd = m.fwd[:len(m.fwd)-1]
	m.back = append(m.back, backState{m.filter.String(), m.tab, m.cursor()})
	m.tables[m.tab].SetRows(nil, timeFormat{})
	m.tab = f.tab
	m.tables[f.tab].SetCursor(f.cursor)
	return m.applyFilter(f.filter, false)
}

// keepCursor is the row a new filter's result puts the cursor back on:
// the same event (or, when the filter drops it, the nearest kept one), or
// a grouped tab's row with the same key.
type keepCursor struct {
	on  bool
	ev  eventRef
	key string
}

// anchor is what the cursor is on now.
func (m Model) anchor() keepCursor {
	if m.follow && m.tab == tabEvents && m.atNewest() {
		return keepCursor{} // following the newest: stay on the newest
	}
	if id, ok := m.eventAt(m.cursor()); ok && m.tab == tabEvents {
		return keepCursor{on: true, ev: id}
	}
	if r, ok := m.rows().(tableRows); ok && m.cursor() < r.Len() {
		if s, ok := r.t.Rows[m.cursor()][0].(string); ok {
			return keepCursor{on: true, key: s}
		}
	}
	return keepCursor{}
}

// restore puts the cursor back where keep says, once the rows are in.
func (m *Model) restore() {
	k := m.keep
	m.keep = keepCursor{}
	if !k.on {
		return
	}
	t := &m.tables[m.tab]
	switch r := m.rows().(type) {
	case eventRows:
		if r.Len() > 0 {
			// The result may be of a later ID base than the anchor: an
			// event gone since sorts before every kept one.
			id, _ := moveID(k.ev.id, k.ev.base, r.base)
			t.SetCursor(r.nearestRow(id))
		}
	case tableRows:
		t.SetCursor(0)
		for i, row := range r.t.Rows {
			if s, _ := row[0].(string); s == k.key {
				t.SetCursor(i)
				break
			}
		}
	}
	// Put the row in the middle of the window: its context shows.
	t.offset = max(0, t.cursor-t.visible()/2)
	t.clamp()
}
