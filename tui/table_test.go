package tui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/kaudit/kaudit/views"
)

// countTable is a Users-like table of n rows.
func countTable(n int) tableRows {
	t := &views.Table{View: views.ViewUsers, Columns: []views.Column{{Header: "USER"}, {Header: "REQUESTS", Kind: views.KindInt}}}
	for i := range n {
		t.Rows = append(t.Rows, []any{fmt.Sprintf("user-%d", i), i})
	}
	return tableRows{t}
}

// The table component alone: keys move it only while it has the focus,
// the window follows the cursor, and rows not computed yet keep the cursor.
func TestTableComponent(t *testing.T) {
	tb := newTable(withTableSize(80, 11)) // a header and 10 rows
	tb.SetRows(countTable(100), timeFormat{})
	press := func(k ...string) {
		t.Helper()
		for _, msg := range keys(k...) {
			tb, _ = tb.Update(msg)
		}
	}
	press("j")
	if tb.Cursor() != 0 {
		t.Fatalf("an unfocused table moved to %d", tb.Cursor())
	}
	tb.Focus()
	steps := []struct {
		keys           []string
		cursor, offset int
	}{
		{[]string{"j", "down"}, 2, 0},
		{[]string{"pgdown"}, 12, 3},
		{[]string{"end"}, 99, 90},
		{[]string{"k"}, 98, 90},
		{[]string{"g"}, 0, 0},
	}
	for _, s := range steps {
		press(s.keys...)
		if tb.Cursor() != s.cursor || tb.Offset() != s.offset {
			t.Fatalf("after %v: cursor %d offset %d, want %d %d", s.keys, tb.Cursor(), tb.Offset(), s.cursor, s.offset)
		}
	}
	if v := tb.View(); strings.Count(v, "\n") != 10 || !strings.Contains(v, "> user-0") {
		t.Errorf("view:\n%s", v)
	}

	tb.SetCursor(50)
	tb.SetRows(nil, timeFormat{})
	if tb.Cursor() != 50 || tb.View() != "" {
		t.Fatalf("rows not computed yet: cursor %d", tb.Cursor())
	}
	tb.SetRows(countTable(5), timeFormat{})
	if tb.Cursor() != 4 || tb.Offset() != 0 {
		t.Fatalf("fewer rows: cursor %d offset %d, want 4 0", tb.Cursor(), tb.Offset())
	}
}

// Keys are matched through the KeyMap only: rebinding one moves both
// behaviour and help.
func TestTableKeyMap(t *testing.T) {
	km := DefaultTableKeyMap()
	km.Down = key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "next"))
	tb := newTable(withTableKeys(km), withTableSize(80, 11))
	tb.SetRows(countTable(10), timeFormat{})
	tb.Focus()
	tb, _ = tb.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("j")})
	if tb.Cursor() != 0 {
		t.Fatal("j still moves after Down was rebound")
	}
	tb, _ = tb.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("n")})
	if tb.Cursor() != 1 {
		t.Fatal("the rebound key does not move")
	}
	if h := km.FullHelp(); len(h) != 1 || h[0][1].Help().Key != "n" {
		t.Errorf("help does not show the rebound key: %v", h)
	}
}

// Wide characters: CJK and emoji take two cells. Columns stay aligned
// whether a value fits or is cut, and a cut value never overflows its
// column (a heart with its emoji selector, cut rune by rune, used to come
// out four cells too wide and crash the padding).
func TestTableWideCharacters(t *testing.T) {
	tab := &views.Table{View: views.ViewUsers, Columns: []views.Column{{Header: "USER"}, {Header: "VERB"}, {Header: "REQUESTS", Kind: views.KindInt}}}
	for i, u := range []string{
		"alice", "日本語のユーザー名前", "❤️❤️❤️❤️❤️❤️❤️❤️", "🇩🇪🇫🇷🇯🇵🇰🇷🇧🇷", "😀 grinning dev", "한국어 사용자 이름", "ｆｕｌｌｗｉｄｔｈ", "e\u0301le\u0300ve",
	} {
		tab.Rows = append(tab.Rows, []any{u, "取得", 1000 * (i + 1)})
	}
	var out strings.Builder
	for _, w := range []int{80, 30, 22} {
		v := renderTable(tableRows{tab}, 0, 2, w, len(tab.Rows)+1, timeFormat{}, nil)
		lines := strings.Split(v, "\n")
		want := ansi.StringWidth(lines[0])
		for _, l := range lines {
			if got := ansi.StringWidth(l); got != want || got > w {
				t.Errorf("width %d: line %q is %d cells, header %d", w, l, got, want)
			}
		}
		// The numbers stay right-aligned under their header.
		end := strings.Index(lines[0], "REQUESTS") + len("REQUESTS")
		for _, l := range lines[1:] {
			if !strings.HasSuffix(l, "0") || ansi.StringWidth(l) != ansi.StringWidth(lines[0][:end]) {
				t.Errorf("width %d: count not aligned: %q", w, l)
			}
		}
		fmt.Fprintf(&out, "width %d\n%s\n", w, v)
	}
	golden(t, "table_wide.golden", out.String())
}

// A cut line keeps its styling: the cursor row stays highlighted when the
// screen is narrower than it (the old cut dropped every escape sequence).
func TestClipKeepsStyle(t *testing.T) {
	const rev, reset = "\x1b[7m", "\x1b[0m"
	line := "  " + rev + ">✗ alice get pods default/web-0 403 12ms" + reset
	got := clip(line+"\nsecond line", 20, 1)
	if !strings.Contains(got, rev) || !strings.HasSuffix(got, reset) {
		t.Errorf("styling lost: %q", got)
	}
	if w := ansi.StringWidth(got); w != 20 || !strings.HasSuffix(ansi.Strip(got), "…") || strings.Contains(got, "second") {
		t.Errorf("clip: %q (%d cells)", got, w)
	}
}
