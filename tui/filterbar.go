package tui

import (
	"errors"
	"strings"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/kaudit/kaudit/query"
)

// FilterKeyMap is the filter bar's keys; everything else is typed text.
type FilterKeyMap struct {
	Apply, Cancel, Prev, Next key.Binding
}

// DefaultFilterKeyMap returns the filter bar's bindings.
func DefaultFilterKeyMap() FilterKeyMap {
	return FilterKeyMap{
		Apply:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "apply")),
		Cancel: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
		Prev:   key.NewBinding(key.WithKeys("up"), key.WithHelp("↑", "older filter")),
		Next:   key.NewBinding(key.WithKeys("down"), key.WithHelp("↓", "newer filter")),
	}
}

// ShortHelp implements help.KeyMap.
func (k FilterKeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Apply, k.Cancel, k.Prev, k.Next}
}

// FullHelp implements help.KeyMap.
func (k FilterKeyMap) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// filterBar is the "/" line: a text input validated with query.Compile on
// every edit, with history. It lives inside Model (UI goroutine only).
type filterBar struct {
	input   textinput.Model
	keys    FilterKeyMap
	history []string // oldest first
	hpos    int      // index into history while browsing; len(history) when not
	err     error    // why the current text does not compile
}

// Messages the bar hands to its parent.
type (
	filterAppliedMsg  struct{ text string }
	filterCanceledMsg struct{}
)

func newFilterBar() filterBar {
	in := textinput.New()
	in.Prompt = "/ "
	in.Placeholder = "user:alice verb:delete,patch ns:prod-* code:5xx denied  or  .verb == \"delete\""
	in.CharLimit = 4096
	// A static cursor: blinking would redraw the screen twice a second
	// over SSH for nothing.
	in.Cursor.SetMode(cursor.CursorStatic)
	return filterBar{input: in, keys: DefaultFilterKeyMap()}
}

// Focus opens the bar on text.
func (b *filterBar) Focus(text string) tea.Cmd {
	b.input.SetValue(text)
	b.input.CursorEnd()
	b.hpos = len(b.history)
	b.validate()
	return b.input.Focus()
}

// Blur closes the bar.
func (b *filterBar) Blur() { b.input.Blur() }

// Focused reports whether the bar has the keyboard.
func (b filterBar) Focused() bool { return b.input.Focused() }

// SetWidth sets the input's width.
func (b *filterBar) SetWidth(w int) { b.input.Width = max(10, w-ansi.StringWidth(b.input.Prompt)-1) }

// SetValue shows text (e.g. a drill-down term) without focusing.
func (b *filterBar) SetValue(text string) { b.input.SetValue(text) }

// Value is the text typed.
func (b filterBar) Value() string { return b.input.Value() }

// Update handles a key while the bar is focused. Enter is refused while the
// text does not compile; the caret already shows why.
func (b filterBar) Update(msg tea.Msg) (filterBar, tea.Cmd) {
	if k, ok := msg.(tea.KeyMsg); ok {
		switch {
		case key.Matches(k, b.keys.Apply):
			if b.err != nil {
				return b, nil
			}
			text := b.input.Value()
			if strings.TrimSpace(text) != "" && (len(b.history) == 0 || b.history[len(b.history)-1] != text) {
				b.history = append(b.history, text)
			}
			b.input.Blur()
			return b, func() tea.Msg { return filterAppliedMsg{text} }
		case key.Matches(k, b.keys.Cancel):
			b.input.Blur()
			return b, func() tea.Msg { return filterCanceledMsg{} }
		case key.Matches(k, b.keys.Prev):
			if b.hpos > 0 {
				b.hpos--
				b.input.SetValue(b.history[b.hpos])
				b.input.CursorEnd()
				b.validate()
			}
			return b, nil
		case key.Matches(k, b.keys.Next):
			if b.hpos < len(b.history) {
				b.hpos++
				text := ""
				if b.hpos < len(b.history) {
					text = b.history[b.hpos]
				}
				b.input.SetValue(text)
				b.input.CursorEnd()
				b.validate()
			}
			return b, nil
		}
	}
	var cmd tea.Cmd
	b.input, cmd = b.input.Update(msg)
	b.validate()
	return b, cmd
}

func (b *filterBar) validate() {
	_, b.err = query.Compile(b.input.Value())
}

// View is the input line and, when the text does not compile, a caret under
// the offending column and the message.
func (b filterBar) View() string {
	if !b.input.Focused() {
		return ""
	}
	v := b.input.View()
	if b.err == nil {
		return v
	}
	msg := b.err.Error()
	caret := ""
	var se *query.SyntaxError
	if errors.As(b.err, &se) {
		msg = se.Msg
		if se.Column() > 0 {
			// In cells, as the input draws the text before it (CJK and
			// emoji take two). The input scrolls only past its width;
			// filters are shorter.
			before := se.Filter[:se.Offset]
			before = before[strings.LastIndexByte(before, '\n')+1:]
			caret = strings.Repeat(" ", ansi.StringWidth(b.input.Prompt)+ansi.StringWidth(before)) + "^"
		}
	}
	msg, _, _ = strings.Cut(msg, "\n")
	return v + "\n" + styleError.Render(caret) + "\n" + styleError.Render(printable(msg))
}

// lines is how many lines View takes.
func (b filterBar) lines() int {
	switch {
	case !b.input.Focused():
		return 0
	case b.err != nil:
		return 3
	}
	return 1
}
