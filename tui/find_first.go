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
	ev  eventRef
}

// firstHitLimit bounds the walk: past it the full find answers.
const firstHitLimit = 200_000

// firstHitCmd walks er's rows from row cur (included) in direction dir,
// a block of rows at a time, each read in one ID base of the store (see
// rebase.go).
func firstHitCmd(ctx context.Context, st *store.Store, er eventRows, cur, dir int, text string, re *regexp.Regexp, seq uint64) tea.Cmd {
	fields, raw := query.TextMatch(text), newRawMatch(text, re)
	return safe(func() tea.Msg {
		n := er.Len()
		var buf []byte
		for from := 0; from < min(n, firstHitLimit); from += firstHitBlock {
			if ctx.Err() != nil {
				return nil
			}
			to := min(n, firstHitLimit, from+firstHitBlock)
			hit, _ := stable(st, func(base uint64) int {
				for i := from; i < to; i++ {
					held, ok := er.id(((cur+dir*i)%n + n) % n)
					id, in := moveID(held, er.base, base)
					if !ok || !in {
						continue
					}
					if re == nil && fieldsHold(st.Entry(id), fields) {
						return i
					}
					var err error
					if buf, err = st.Raw(id, buf[:0]); err == nil && raw.match(buf) {
						return i
					}
				}
				return -1
			})
			if hit >= 0 {
				id, _ := er.id(((cur+dir*hit)%n + n) % n)
				return firstHitMsg{seq, eventRef{id, er.base}}
			}
		}
		return nil
	})
}

// firstHitBlock is how many rows firstHitCmd reads between looks at its
// context and at the store's ID base.
const firstHitBlock = 1024

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
	id, ok := moveID(msg.ev.id, msg.ev.base, er.base) // a result may have come since
	if !ok {
		return m
	}
	if row, ok := er.rowOf(id); ok {
		m.find.jump = 0
		t := &m.tables[m.tab]
		t.SetCursor(row)
		t.clamp()
	}
	return m
}
