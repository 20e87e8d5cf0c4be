package tui

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/kaudit/kaudit/redact"
	"github.com/kaudit/kaudit/store"
)

// secretsKey handles X on an event's page: the first press asks, the
// second re-reads the page with the event's secrets shown. Any other key
// drops the question (the model returned is to be kept either way). ok is
// false when the key is not for it.
func (m Model) secretsKey(k tea.KeyMsg) (Model, tea.Cmd, bool) {
	if m.over.pane != paneEvent {
		return m, nil, false
	}
	if !key.Matches(k, m.keys.ShowSecrets) {
		if m.over.confirm {
			m.over.confirm = false
			m.status.note = ""
		}
		return m, nil, false
	}
	if redact.ShowSecrets() {
		m.status.note = "secrets are shown (--show-secrets)"
		return m, nil, true
	}
	if !m.over.confirm {
		m.over.confirm = true
		m.status.note = "show this event's secrets (Secret data, tokens, passwords)? press X again to confirm"
		return m, nil, true
	}
	ref := m.over.want
	m.over = overlay{pane: paneLoading, want: ref}
	m.status.note = "secrets shown for this event"
	return m, safe(loadDetailSecrets(m.st, ref, m.timeFormat())), true
}

// loadDetailSecrets is loadDetail with the event's secrets shown.
func loadDetailSecrets(st *store.Store, ref eventRef, tf timeFormat) tea.Cmd {
	return loadPage(st, ref, tf, true)
}
