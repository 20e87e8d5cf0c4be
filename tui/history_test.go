package tui

import (
	"strings"
	"testing"

	"github.com/kaudit/kaudit/store"
)

// TestHistoryPane: with a history reader wired in, H reads the history of
// the cursor's event and shows it (escapes neutralised) in a pane; esc
// goes back. Without one, H does nothing and the help does not offer it.
func TestHistoryPane(t *testing.T) {
	var asked []store.ID
	read := func(_ *store.Store, id store.ID) (string, error) {
		asked = append(asked, id)
		return "pods/ns/x: 2 requests, 1 revisions\n\x1b]0;pwned\x07", nil
	}
	st := genStore(t, 500)
	m := New(Options{Store: st, Now: fixedNow, History: read})
	m = run(t, m, m.Init())
	want, ok := m.eventAt(m.cursor())
	if !ok {
		t.Fatal("no event under the cursor")
	}
	m = drive(t, m, keys("H")...)
	if len(asked) != 1 || asked[0] != want {
		t.Fatalf("history read for %v; want the cursor's event %d", asked, want)
	}
	if m.over.pane != paneHistory || !m.over.paged() {
		t.Fatal("H opened no pane")
	}
	screen := m.View()
	if !strings.Contains(screen, "pods/ns/x: 2 requests, 1 revisions") {
		t.Errorf("pane:\n%s", screen)
	}
	if strings.Contains(screen, "\x1b]0;") || strings.ContainsRune(screen, '\x07') {
		t.Error("an escape sequence from the history reached the screen")
	}
	if m = drive(t, m, keys("esc")...); m.over.paged() {
		t.Error("esc did not close the pane")
	}
	if !strings.Contains(drive(t, m, keys("?")...).View(), "object history") {
		t.Error("help does not list H")
	}

	plain := New(Options{Store: st, Now: fixedNow})
	plain = run(t, plain, plain.Init())
	if plain = drive(t, plain, keys("H")...); plain.over.paged() {
		t.Error("H opened a pane without a history reader")
	}
	if strings.Contains(drive(t, plain, keys("?")...).View(), "object history") {
		t.Error("help offers H without a history reader")
	}
}
