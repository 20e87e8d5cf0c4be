package tui

import (
	"fmt"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// TestGolden renders every tab and the detail page at 80×24 and 120×40
// over a generated store (fixed seed and clock).
func TestGolden(t *testing.T) {
	st := genStore(t, 3000)
	for _, size := range [][2]int{{60, 20}, {80, 24}, {160, 45}} {
		w, h := size[0], size[1]
		for i, tab := range tabs[:tabDetections] { // Detections: TestGoldenDetections
			t.Run(fmt.Sprintf("%s_%dx%d", tab.name, w, h), func(t *testing.T) {
				m := started(t, st, w, h)
				m = drive(t, m, toTab(i)...)
				golden(t, fmt.Sprintf("%s_%dx%d.golden", strings.ReplaceAll(strings.ToLower(tab.name), " ", ""), w, h), m.View())
			})
		}
		t.Run(fmt.Sprintf("detail_%dx%d", w, h), func(t *testing.T) {
			m := started(t, st, w, h)
			// A denied request: its page shows the reason too.
			m = drive(t, m, keys("/")...)
			m = drive(t, m, typed("denied")...)
			m = drive(t, m, keys("enter", "enter")...)
			if !m.over.paged() {
				t.Fatal("enter on an event opened no detail page")
			}
			golden(t, fmt.Sprintf("detail_%dx%d.golden", w, h), m.View())
		})
	}
}

// toTab is the keys that show tab i from any tab: its number key, or 0
// and then tab (Sources, and Detections with --detect).
func toTab(i int) []tea.Msg {
	if i < numKeyed {
		return keys(tabKey(i))
	}
	out := keys("0")
	for range i - numKeyed + 1 {
		out = append(out, keys("tab")...)
	}
	return out
}

// typed is text typed key by key.
func typed(s string) []tea.Msg {
	var out []tea.Msg
	for _, r := range s {
		out = append(out, keys(string(r))[0])
	}
	return out
}

// Y on an event's page: the question on the status line, the fields'
// keys in the footer, all of them at 60 columns.
func TestGoldenCopyField(t *testing.T) {
	m := started(t, genStore(t, 300), 60, 20)
	m = drive(t, m, keys("j", "enter", "Y")...)
	golden(t, "detail_copyfield_60x20.golden", m.View())
	if !strings.Contains(m.View(), "r reason") {
		t.Error("the footer does not show every field at 60 columns")
	}
}

func TestGoldenHelp(t *testing.T) {
	m := started(t, genStore(t, 100), 80, 24)
	m = drive(t, m, keys("?")...)
	golden(t, "help_80x24.golden", m.View())
}

// Below 80×24 the screen is cut, never wrapped or broken: no line is wider
// than the terminal and there are never more lines than rows.
func TestSmallTerminals(t *testing.T) {
	st := genStore(t, 500)
	for _, size := range [][2]int{{1, 1}, {20, 5}, {40, 10}, {79, 23}} {
		w, h := size[0], size[1]
		m := started(t, st, w, h)
		check := func(where string) {
			t.Helper()
			v := ansi.Strip(m.View())
			lines := strings.Split(v, "\n")
			if len(lines) > h {
				t.Errorf("%dx%d %s: %d lines", w, h, where, len(lines))
			}
			for _, l := range lines {
				if lipgloss.Width(l) > w {
					t.Errorf("%dx%d %s: line wider than the screen: %q", w, h, where, l)
				}
			}
		}
		for i := range tabs[:tabDetections] {
			m = drive(t, m, toTab(i)...)
			m = drive(t, m, keys("j", "G")...)
			check(tabs[i].name)
		}
		m = drive(t, m, keys("1", "enter")...)
		check("detail")
		m = drive(t, m, keys("Y")...)
		check("detail, copy which field")
		m = drive(t, m, keys("x", "esc", "?")...)
		check("help")
		m = drive(t, m, keys("x", "/")...)
		m = drive(t, m, typed("usr:x")...)
		check("filter error")
	}
}
