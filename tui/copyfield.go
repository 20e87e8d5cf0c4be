package tui

import (
	"encoding/json"
	"fmt"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/kaudit/kaudit/store"
)

// Y on an event's page copies one field's value rather than the whole
// JSON: the first press asks which, listing the fields' keys in the
// footer; the next key picks one. The value goes through the same OSC 52 write as y, on that key
// press only and base64-encoded, so nothing in an event can emit the
// sequence. The fields are outside the bodies, which redaction never
// touches: each is copied as the page shows it, control characters
// escaped (a pasted value must not act on the terminal it is pasted in).

// copyField is one field Y offers.
type copyField struct {
	key, name string
	short     string // its name in the footer
	value     func(st *store.Store, e *store.Entry) string
}

var copyFields = []copyField{
	{"u", "user", "user", func(_ *store.Store, e *store.Entry) string { return e.User.Name }},
	{"v", "verb", "verb", func(_ *store.Store, e *store.Entry) string { return e.Verb }},
	{"p", "URI", "URI", requestURI},
	{"n", "name", "name", func(_ *store.Store, e *store.Entry) string { return e.Object.Name }},
	{"s", "namespace", "ns", func(_ *store.Store, e *store.Entry) string { return e.Object.Namespace }},
	{"a", "auditID", "id", func(_ *store.Store, e *store.Entry) string { return e.AuditID }},
	{"r", "reason", "reason", func(_ *store.Store, e *store.Entry) string {
		if e.Reason != "" {
			return e.Reason
		}
		return e.Message // as the page's denial line: the reason, else the message
	}},
}

// copyFieldQuestion is what the status line says when Y asks (a note: it
// expires); the footer lists the keys for as long as Y waits
// (copyFieldKeys).
const copyFieldQuestion = "copy which field? (other keys: none)"

// copyFieldKeys are the footer's keys while Y waits.
func copyFieldKeys() []key.Binding {
	var out []key.Binding
	for _, f := range copyFields {
		out = append(out, key.NewBinding(key.WithKeys(f.key), key.WithHelp(f.key, f.short)))
	}
	return out
}

// requestURI is the event's requestURI (with its query), read from its
// JSON: the store keeps only the path of non-resource requests.
func requestURI(st *store.Store, e *store.Entry) string {
	raw, err := st.Raw(e.ID, nil)
	if err != nil {
		return ""
	}
	var v struct {
		RequestURI string `json:"requestURI"`
	}
	if json.Unmarshal(raw, &v) != nil {
		return e.Path
	}
	return v.RequestURI
}

// pickFieldKey handles Y on an event's page and the key after it. ok is
// false when the key is not for it (any other key drops the question).
func (m Model) pickFieldKey(k tea.KeyMsg) (Model, tea.Cmd, bool) {
	if m.over.pane != paneEvent {
		return m, nil, false
	}
	if !m.over.pick {
		if !key.Matches(k, m.keys.CopyField) {
			return m, nil, false
		}
		m.over.pick = true
		m.status.note = copyFieldQuestion
		return m, nil, true
	}
	m.over.pick = false
	m.status.note = ""
	for _, f := range copyFields {
		if k.String() == f.key {
			return m, m.copyFieldOf(m.over.want, f), true
		}
	}
	return m, nil, true // the answer "none" is used up, not passed on
}

// copyFieldOf puts field f of event ref on the terminal's clipboard.
func (m Model) copyFieldOf(ref eventRef, f copyField) tea.Cmd {
	if m.clip == nil {
		return m.note("no terminal to copy to")
	}
	st, clip := m.st, m.clip
	return safe(func() tea.Msg {
		v, ok := readEvent(st, ref.id, ref.base, func(id store.ID) string {
			e := st.Entry(id)
			return printable(f.value(st, &e))
		})
		switch {
		case !ok:
			return noteMsg("copy failed: " + errGone.Error())
		case v == "":
			return noteMsg("this event has no " + f.name)
		case len(v) > copyLimit:
			return noteMsg(fmt.Sprintf("the %s is %s: too large for the clipboard (OSC 52)", f.name, byteSize(int64(len(v)))))
		}
		if err := clip([]byte(v)); err != nil {
			return noteMsg("copy failed: " + err.Error())
		}
		return noteMsg(fmt.Sprintf("copied the %s (%s) with OSC 52", f.name, byteSize(int64(len(v)))))
	})
}
