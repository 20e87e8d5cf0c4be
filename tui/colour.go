package tui

import (
	"io"
	"os"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/term"
	"github.com/muesli/termenv"
)

// Colour on a real terminal. termenv reads TERM=screen (tmux's and
// screen's default, common over SSH) and vt100-likes as no colour at all,
// which also drops the cursor row's reverse video. Every terminal that
// names itself (not "dumb") takes SGR attributes and the 16 ANSI colours,
// so those get the ANSI profile. NO_COLOR forbids colour, not attributes:
// the colour styles become plain and the cursor stays reverse video.

// colourProfile picks the profile for a terminal: detected is termenv's
// reading (without NO_COLOR), term the TERM variable.
func colourProfile(detected termenv.Profile, term string) termenv.Profile {
	if detected == termenv.Ascii && term != "" && term != "dumb" {
		return termenv.ANSI
	}
	return detected
}

// setColour sets lipgloss's profile for out and, under NO_COLOR, takes the
// colour out of the styles (bold, faint, underline and reverse stay).
func setColour(out io.Writer, getenv func(string) string) {
	f, ok := out.(*os.File)
	if !ok || !term.IsTerminal(f.Fd()) {
		return // not a terminal: lipgloss's own choice (plain)
	}
	lipgloss.SetColorProfile(colourProfile(termenv.NewOutput(out).ColorProfile(), getenv("TERM")))
	if getenv("NO_COLOR") != "" {
		noColour()
	}
}

// colourOff is set under NO_COLOR: New gives the bubbles components
// (help, inputs) faint styles instead of their grey colours.
var colourOff bool

// noColour makes every colour style plain.
func noColour() {
	colourOff = true
	plain := lipgloss.NewStyle()
	styleDenied, style5xx, styleError = plain, plain, lipgloss.NewStyle().Bold(true)
	styleKey, styleString, styleLit = plain, plain, plain
}

// plainComponents takes the colour out of m's bubbles components.
func (m *Model) plainComponents() {
	if !colourOff {
		return
	}
	faint := lipgloss.NewStyle().Faint(true)
	s := &m.help.Styles
	s.ShortKey, s.ShortDesc, s.ShortSeparator, s.Ellipsis = lipgloss.NewStyle(), faint, faint, faint
	s.FullKey, s.FullDesc, s.FullSeparator = lipgloss.NewStyle(), faint, faint
	m.bar.input.PlaceholderStyle, m.find.input.PlaceholderStyle = faint, faint
	m.bar.input.Cursor.Style, m.find.input.Cursor.Style = lipgloss.NewStyle(), lipgloss.NewStyle()
}
