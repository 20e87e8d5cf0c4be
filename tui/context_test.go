package tui

import (
	"strings"
	"testing"
	"time"
)

// Changing and clearing the filter keeps the cursor on the same event,
// or the nearest one the new filter keeps.
func TestFilterKeepsCursor(t *testing.T) {
	m := started(t, genStore(t, 3000), 100, 30)
	m = drive(t, m, keys("/")...)
	m = drive(t, m, typed("denied")...)
	m = drive(t, m, keys("enter", "j", "j", "j")...)
	er := m.rows().(eventRows)
	id, _ := er.id(m.cursor())
	m = drive(t, m, keys("/", "backspace", "backspace", "backspace", "backspace", "backspace", "backspace", "enter")...)
	if m.filter.String() != "" {
		t.Fatalf("filter %q", m.filter.String())
	}
	er = m.rows().(eventRows)
	if got, _ := er.id(m.cursor()); got != id {
		t.Errorf("after clearing the filter the cursor is on %d, want %d", got, id)
	}
	if m.cursor() < 100 {
		t.Errorf("cursor %d: the denial is not at the top", m.cursor())
	}
	// A filter that drops the event: the nearest kept one.
	m = drive(t, m, keys("/")...)
	m = drive(t, m, typed("verb:get")...)
	m = drive(t, m, keys("enter")...)
	got, _ := m.rows().(eventRows).id(m.cursor())
	if d := int(got) - int(id); d < -50 || d > 50 {
		t.Errorf("nearest kept event %d is far from %d", got, id)
	}
	// A grouped tab keeps the same key.
	m = drive(t, m, keys("3", "j", "j")...)
	key := m.res.table.Rows[m.cursor()][0].(string)
	m = drive(t, m, keys("/", "backspace", "backspace", "backspace", "backspace", "backspace", "backspace", "backspace", "backspace", "enter")...)
	if k := m.res.table.Rows[m.cursor()][0].(string); k != key {
		t.Errorf("Verbs cursor on %q, want %q", k, key)
	}
}

// [ and ] walk the rows inside the event page; W toggles wrapping and
// the title names the request; y copies the event with OSC 52.
func TestDetailPrevNextWrapCopy(t *testing.T) {
	st := genStore(t, 300)
	m := started(t, st, 80, 24)
	var copied []byte
	m.clip = func(b []byte) error { copied = b; return nil }
	m = drive(t, m, keys("j", "j", "enter")...)
	if m.over.pane != paneEvent {
		t.Fatal("no page")
	}
	e := st.Entry(m.over.want.id)
	if title := m.over.page.title; !strings.HasPrefix(title, e.Verb+" ") || !strings.Contains(title, "3/") {
		t.Errorf("title %q", title)
	}
	m = drive(t, m, keys("]", "]")...)
	if m.cursor() != 4 {
		t.Errorf("] ] cursor %d, want 4", m.cursor())
	}
	id4, _ := m.rows().(eventRows).id(4)
	if m.over.want.id != id4 || m.over.pane != paneEvent {
		t.Errorf("page of %d, want %d", m.over.want.id, id4)
	}
	m = drive(t, m, keys("[")...)
	if m.cursor() != 3 {
		t.Errorf("[ cursor %d", m.cursor())
	}
	if !m.over.page.wrap {
		t.Error("the page does not wrap by default")
	}
	m = drive(t, m, keys("W")...)
	if m.over.page.wrap {
		t.Error("W did not turn wrapping off")
	}
	m = drive(t, m, keys("]")...)
	if m.over.page.wrap {
		t.Error("wrapping came back on the next event")
	}
	for _, l := range strings.Split(m.View(), "\n") {
		if len([]rune(l)) > 80 {
			t.Errorf("line wider than the screen: %q", l)
		}
	}
	m = drive(t, m, keys("y")...)
	raw, _ := st.Raw(m.over.want.id, nil)
	if string(copied) != string(raw) || !strings.Contains(m.status.note, "OSC 52") {
		t.Errorf("y copied %d bytes (want %d), note %q", len(copied), len(raw), m.status.note)
	}
}

func TestOSC52(t *testing.T) {
	var b strings.Builder
	if err := osc52Clip(&b, "xterm", false)([]byte("hi")); err != nil {
		t.Fatal(err)
	}
	if b.String() != "\x1b]52;c;aGk=\x07" {
		t.Errorf("sequence %q", b.String())
	}
	b.Reset()
	_ = osc52Clip(&b, "screen", true)([]byte("hi"))
	if !strings.HasPrefix(b.String(), "\x1bPtmux;") {
		t.Errorf("tmux sequence %q", b.String())
	}
}

// A note ("wrote … to …") goes after statusTTL; work under way ("…")
// stays until its outcome replaces it.
func TestNotesExpire(t *testing.T) {
	defer func(d time.Duration) { statusTTL = d }(statusTTL)
	statusTTL = 5 * time.Millisecond
	m := started(t, genStore(t, 100), 80, 24)
	nm, cmd := m.Update(noteMsg("copied"))
	m = nm.(Model)
	if m.status.note != "copied" || cmd == nil {
		t.Fatalf("note %q, expiry %v", m.status.note, cmd != nil)
	}
	if m = run(t, m, cmd); m.status.note != "" {
		t.Errorf("the note stayed: %q", m.status.note)
	}
	m.status.note = ""
	nm, cmd = m.Update(noteMsg("writing…"))
	if cmd != nil || nm.(Model).status.note != "writing…" {
		t.Errorf("a note of work under way expires")
	}
}
