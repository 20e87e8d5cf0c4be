package tui

import (
	"context"
	"regexp"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/kaudit/kaudit/query"
	"github.com/kaudit/kaudit/store"
)

// The first match: walking all the JSON of a million events takes a
// second or more, but the next match is usually a few rows away. So a find
// also walks the rows from the cursor, in display order, and jumps as soon
// as one matches; the full count follows when the walk over every event is
// done.

// firstHitMsg is the first match found from the cursor.
type firstHitMsg struct {
	seq uint64
	id  store.ID
}

// firstHitLimit bounds the walk: past it the full find answers.
const firstHitLimit = 200_000

// firstHitCmd walks er's rows from row cur (included) in direction dir.
func firstHitCmd(ctx context.Context, st *store.Store, er eventRows, cur, dir int, text string, re *regexp.Regexp, seq uint64) tea.Cmd {
	fields, raw := query.TextMatch(text), newRawMatch(text, re)
	return safe(func() tea.Msg {
		n := er.Len()
		var buf []byte
		for i := range min(n, firstHitLimit) {
			if i%1024 == 0 && ctx.Err() != nil {
				return nil
			}
			id, ok := er.id(((cur+dir*i)%n + n) % n)
			if !ok {
				continue
			}
			if re == nil && fieldsHold(st.Entry(id), fields) {
				return firstHitMsg{seq, id}
			}
			var err error
			if buf, err = st.Raw(id, buf[:0]); err != nil {
				continue
			}
			if raw.match(buf) {
				return firstHitMsg{seq, id}
			}
		}
		return nil
	})
}

// fieldsHold is free text's test (query.Text) on one event's user,
// impersonated user, verb, resource, name, path and reason.
func fieldsHold(e store.Entry, match func(string) bool) bool {
	for _, s := range []string{e.User.Name, e.Impersonated.Name, e.Verb, e.Object.Resource, e.Object.Name, e.Path, e.Reason} {
		if match(s) {
			return true
		}
	}
	return false
}

// onFirstHit makes the pending jump, unless the full find made it.
func (m Model) onFirstHit(msg firstHitMsg) Model {
	if msg.seq != m.find.seq || m.find.jump == 0 {
		return m
	}
	er, ok := m.rows().(eventRows)
	if !ok {
		return m
	}
	if row, ok := er.rowOf(msg.id); ok {
		m.find.jump = 0
		t := &m.tables[m.tab]
		t.SetCursor(row)
		t.clamp()
	}
	return m
}
