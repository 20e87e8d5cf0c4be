package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"github.com/kaudit/kaudit/store"
)

// fakeHistory is a deployment's timeline as cmd/kaudit's historyFor
// builds it from package history (diffs copied from kaudit history's
// output), with every kind of revision.
func fakeHistory(calls *int) ObjectHistory {
	at := func(s int) time.Time { return time.Date(2026, 3, 1, 10, 0, s, 0, time.UTC) }
	diff := func(quiet, noisy string) func(bool) string {
		return func(noise bool) string {
			if calls != nil {
				*calls++
			}
			if noise {
				return noisy
			}
			return quiet
		}
	}
	created := "--- (none)\n+++ #1 exact\n@@ -0,0 +1,5 @@\n+apiVersion: apps/v1\n+kind: Deployment\n+metadata:\n+  name: web\n+spec: {replicas: 1}"
	scaled := "--- #1 exact\n+++ #2 approximate\n@@ -4,2 +4,2 @@\n   name: web\n-spec: {replicas: 1}\n+spec: {replicas: 3}"
	scaledNoisy := "--- #1 exact\n+++ #2 approximate\n@@ -3,3 +3,3 @@\n metadata:\n+  generation: 2\n   name: web\n-spec: {replicas: 1}\n+spec: {replicas: 3}"
	return ObjectHistory{Title: "deployments.apps/prod/web: 6 requests, 4 revisions", Entries: []HistoryEntry{
		{Time: at(1), Verb: "create", Stage: "ResponseComplete", User: "alice", Code: 201, Revision: "#1 exact", Quality: "exact", Note: "created", Diff: diff(created, created)},
		{Time: at(2), Verb: "get", Stage: "ResponseComplete", User: "bob", Code: 200},
		{Time: at(3), Verb: "patch", Stage: "ResponseComplete", User: "bob", Code: 200, Revision: "#2 approximate", Quality: "approximate", Note: "strategic merge patch applied to the previous revision", Diff: diff(scaled, scaledNoisy)},
		{Time: at(4), Verb: "update status", Stage: "ResponseComplete", User: "system:serviceaccount:kube-system:deployment-controller", Code: 200, Revision: "#3 exact", Quality: "exact", Diff: diff("", "--- #2 approximate\n+++ #3 exact\n@@ -3,1 +3,1 @@\n-  generation: 2\n+  generation: 3")},
		{Time: at(5), Verb: "update", Stage: "ResponseComplete", User: "carol", Code: 200, Revision: "#4 unavailable", Quality: "unavailable", Note: "no body at this audit level"},
		{Time: at(6), Verb: "delete", Stage: "ResponseComplete", User: "dave", Code: 200, Revision: "(gone)", Note: "deleted \x1b]0;pwned\x07"},
	}}
}

// historyOpen is a started model at w×h with the fake history's pane open.
func historyOpen(t *testing.T, w, h int, hist ObjectHistory) Model {
	t.Helper()
	m := New(Options{Store: genStore(t, 200), Now: fixedNow, History: func(*store.Store, store.ID) (ObjectHistory, error) { return hist, nil }})
	m = run(t, m, m.Init())
	m = drive(t, m, tea.WindowSizeMsg{Width: w, Height: h})
	m = drive(t, m, keys("H")...)
	if m.over.pane != paneHistory {
		t.Fatal("H opened no history pane")
	}
	return m
}

// TestHistoryPane: H reads the history of the cursor's event and opens
// the pane; esc goes back. Without a history reader, H does nothing and
// the help does not offer it.
func TestHistoryPane(t *testing.T) {
	var asked []store.ID
	read := func(_ *store.Store, id store.ID) (ObjectHistory, error) {
		asked = append(asked, id)
		return fakeHistory(nil), nil
	}
	st := genStore(t, 500)
	m := New(Options{Store: st, Now: fixedNow, History: read})
	m = run(t, m, m.Init())
	want, ok := m.eventAt(m.cursor())
	if !ok {
		t.Fatal("no event under the cursor")
	}
	m = drive(t, m, keys("H")...)
	if len(asked) != 1 || asked[0] != want.id {
		t.Fatalf("history read for %v; want the cursor's event %d", asked, want)
	}
	if m.over.pane != paneHistory {
		t.Fatal("H opened no pane")
	}
	screen := m.View()
	if !strings.Contains(screen, "deployments.apps/prod/web: 6 requests, 4 revisions") {
		t.Errorf("pane:\n%s", screen)
	}
	if strings.Contains(screen, "\x1b]0;") || strings.ContainsRune(screen, '\x07') {
		t.Error("an escape sequence from the history reached the screen")
	}
	if m = drive(t, m, keys("esc")...); m.over.pane != paneTable {
		t.Error("esc did not close the pane")
	}
	if !strings.Contains(drive(t, m, keys("?")...).View(), "object history") {
		t.Error("help does not list H")
	}

	plain := New(Options{Store: st, Now: fixedNow})
	plain = run(t, plain, plain.Init())
	if plain = drive(t, plain, keys("H")...); plain.over.pane != paneTable {
		t.Error("H opened a pane without a history reader")
	}
	if strings.Contains(drive(t, plain, keys("?")...).View(), "object history") {
		t.Error("help offers H without a history reader")
	}
}

// TestHistoryGolden pins the pane at three sizes: unfolded (a short
// history opens so), then with the noise shown, folded, and its key list.
func TestHistoryGolden(t *testing.T) {
	for _, size := range [][2]int{{60, 20}, {80, 24}, {160, 45}} {
		w, h := size[0], size[1]
		t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
			m := historyOpen(t, w, h, fakeHistory(nil))
			golden(t, fmt.Sprintf("history_%dx%d.golden", w, h), m.View())
			m = drive(t, m, keys("n")...)
			golden(t, fmt.Sprintf("history_noise_%dx%d.golden", w, h), m.View())
			m = drive(t, m, keys("a", "j", "j")...)
			golden(t, fmt.Sprintf("history_folded_%dx%d.golden", w, h), m.View())
			m = drive(t, m, keys("?")...)
			golden(t, fmt.Sprintf("history_help_%dx%d.golden", w, h), m.View())
		})
	}
}

// TestHistoryHelp: the pane's footer and ? list the pane's own keys, not
// the table's; any key closes the list and the pane is as it was; esc
// then goes back to the table.
func TestHistoryHelp(t *testing.T) {
	m := historyOpen(t, 100, 30, fakeHistory(nil))
	lines := strings.Split(m.View(), "\n")
	footer := lines[len(lines)-1]
	for _, want := range []string{"enter/space fold diff", "a fold all", "n noise", "esc back", "? help", "q quit"} {
		if !strings.Contains(footer, want) {
			t.Errorf("footer %q lacks %q", footer, want)
		}
	}
	if strings.Contains(footer, "filter") || strings.Contains(footer, "zoom") {
		t.Errorf("footer %q shows the table's keys", footer)
	}
	m = drive(t, m, keys("n")...) // noise shown: kept across the help
	before := m.View()
	m = drive(t, m, keys("?")...)
	help := m.View()
	if m.over.pane != paneHistory {
		t.Fatal("? left the history pane")
	}
	for _, want := range []string{"page up", "first", "last", "fold diff", "fold all", "noise", "back", "quit"} {
		if !strings.Contains(help, want) {
			t.Errorf("? lacks %q:\n%s", want, help)
		}
	}
	if strings.Contains(help, "History of") || strings.Contains(help, "open/drill") || strings.Contains(help, "zoom in") {
		t.Errorf("? shows the history or the table's keys:\n%s", help)
	}
	if m = drive(t, m, keys("j")...); m.View() != before {
		t.Errorf("a key after ? did not bring the pane back as it was:\n%s", m.View())
	}
	if m = drive(t, m, keys("?", "esc")...); m.over.pane != paneHistory {
		t.Error("esc on the key list closed the pane, not the list")
	}
	if m = drive(t, m, keys("esc")...); m.over.pane != paneTable {
		t.Error("esc did not close the pane")
	}
}

// TestHistoryToggles: each key changes what the pane shows, and only the
// diffs on screen are computed.
func TestHistoryToggles(t *testing.T) {
	calls := 0
	m := historyOpen(t, 100, 40, fakeHistory(&calls))
	body := func() string { return ansi.Strip(m.over.hist.View()) }
	open := body()
	for _, want := range []string{"▾", "+spec: {replicas: 3}", "#2 approximate", "#4 unavailable", "(gone)", "n shows them"} {
		if !strings.Contains(open, want) {
			t.Errorf("unfolded pane lacks %q:\n%s", want, open)
		}
	}
	if strings.Contains(open, "+  generation") {
		t.Errorf("noise shown by default:\n%s", open)
	}

	m = drive(t, m, keys("n")...) // noise on
	if noisy := body(); !strings.Contains(noisy, "+  generation: 2") || !strings.Contains(noisy, "n noise: shown") {
		t.Errorf("n did not show the noise:\n%s", noisy)
	}
	m = drive(t, m, keys("n")...)
	if body() != open {
		t.Errorf("n twice is not the first screen:\n%s", body())
	}

	m = drive(t, m, keys("enter")...) // the cursor is on the creation
	folded := body()
	if strings.Contains(folded, "+kind: Deployment") || !strings.Contains(folded, "+spec: {replicas: 3}") || !strings.Contains(folded, "▸ ") {
		t.Errorf("enter did not fold the cursor's diff alone:\n%s", folded)
	}
	m = drive(t, m, keys(" ")...)
	if body() != open {
		t.Errorf("space did not unfold it again:\n%s", body())
	}

	m = drive(t, m, keys("a")...)
	if all := body(); strings.Contains(all, "@@") || strings.Contains(all, "▾") {
		t.Errorf("a did not fold every diff:\n%s", all)
	}
	m = drive(t, m, keys("a")...)
	if body() != open {
		t.Errorf("a twice is not the first screen:\n%s", body())
	}

	// The cursor moves by request; enter on a request without a diff does
	// nothing.
	m = drive(t, m, keys("j")...)
	if m.over.hist.cursor != 1 {
		t.Fatalf("j: cursor on %d", m.over.hist.cursor)
	}
	if m = drive(t, m, keys("enter")...); body() != open {
		t.Errorf("enter on a read changed the pane:\n%s", body())
	}
}

// TestHistoryScroll: a long history opens folded, scrolls with the
// cursor and by page, and computes no diff it does not show.
func TestHistoryScroll(t *testing.T) {
	calls := 0
	base := fakeHistory(&calls)
	var long ObjectHistory
	long.Title = "leases.coordination.k8s.io/kube-system/x: 3000 requests"
	for i := range 500 {
		for _, e := range base.Entries {
			e.Note = fmt.Sprintf("request %d", len(long.Entries))
			e.Time = e.Time.Add(time.Duration(i) * time.Minute)
			long.Entries = append(long.Entries, e)
		}
	}
	m := historyOpen(t, 80, 24, long)
	v := m.over.hist
	if strings.Contains(ansi.Strip(v.View()), "@@") || calls != 0 {
		t.Fatalf("a long history opened unfolded (%d diffs computed):\n%s", calls, v.View())
	}
	rows := v.rows()
	m = drive(t, m, keys("G")...)
	at := func(i int) string { return m.over.hist.tf.format(long.Entries[i].Time) }
	if last := ansi.Strip(m.over.hist.View()); !strings.Contains(last, at(2999)) {
		t.Errorf("G does not show the last request:\n%s", last)
	}
	m = drive(t, m, keys("g", "a")...) // unfold all: only the screen's diffs are computed
	if calls == 0 || calls > 2*rows {
		t.Errorf("%d diffs computed for a screen of %d lines", calls, rows)
	}
	for range 3 {
		m = drive(t, m, keys("pgdown")...)
	}
	screen := ansi.Strip(m.over.hist.View())
	if strings.Contains(screen, at(0)) || !strings.Contains(screen, "@@") {
		t.Errorf("pgdown did not scroll through the unfolded diffs:\n%s", screen)
	}
	for i := 0; i < 40; i++ {
		m = drive(t, m, keys("j")...)
		if !strings.Contains(m.over.hist.View(), at(m.over.hist.cursor)) {
			t.Fatalf("the cursor's row %d is off screen:\n%s", m.over.hist.cursor, ansi.Strip(m.over.hist.View()))
		}
	}
	// Unfolding then folding everything at the end keeps the last page full.
	m = drive(t, m, keys("G", "a", "a")...)
	if got := strings.Count(m.over.hist.View(), "\n") + 1; got != historyHeader+rows {
		t.Errorf("last page after folding: %d lines, want %d", got, historyHeader+rows)
	}
	for _, l := range strings.Split(ansi.Strip(m.View()), "\n") {
		if lipgloss.Width(l) > 80 {
			t.Errorf("line wider than the screen: %q", l)
		}
	}
}

// TestHistoryColour: on a colour terminal added lines are green, removed
// red, and revision kinds coloured; under NO_COLOR no colour is left but
// the cursor stays reverse video.
func TestHistoryColour(t *testing.T) {
	lipgloss.SetColorProfile(termenv.ANSI)
	defer lipgloss.SetColorProfile(termenv.Ascii)
	m := historyOpen(t, 100, 40, fakeHistory(nil))
	screen := m.over.hist.View()
	for _, want := range []string{"\x1b[32m+spec: {replicas: 3}", "\x1b[31m-spec: {replicas: 1}", "\x1b[36m    @@", "\x1b[33m#2 approximate", "\x1b[7m"} {
		if !strings.Contains(screen, want) && !strings.Contains(screen, strings.Replace(want, "m+", "m    +", 1)) && !strings.Contains(screen, strings.Replace(want, "m-", "m    -", 1)) {
			t.Errorf("no %q in\n%q", want, screen)
		}
	}
	colourOff = true
	defer func() { colourOff = false }()
	plain := m.over.hist.View()
	for _, c := range []string{"\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[36m"} {
		if strings.Contains(plain, c) {
			t.Errorf("NO_COLOR: colour %q left", c)
		}
	}
	if !strings.Contains(plain, "\x1b[7m") {
		t.Error("NO_COLOR: the cursor lost its reverse video")
	}
}
