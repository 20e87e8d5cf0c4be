package tui

import (
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// colourJSON only adds styling: stripped, the line is unchanged, and with
// colour on it styles keys and values.
func TestColourJSON(t *testing.T) {
	lipgloss.SetColorProfile(termenv.ANSI)
	defer lipgloss.SetColorProfile(termenv.Ascii)
	for _, line := range []string{
		`  "user": {`,
		`    "username": "a\"b\\x1b]0;t\\x07",`,
		`  "code": 403,`,
		`  "ok": true, "n": null, "f": -1.5e3`,
		`  ]`,
		`"unterminated`,
	} {
		got := colourJSON(line)
		if stripANSI(got) != line {
			t.Errorf("colourJSON(%q) changed the text: %q", line, stripANSI(got))
		}
	}
	if colourJSON(`"k": 1`) == `"k": 1` {
		t.Error("no colour with a colour profile")
	}
}
