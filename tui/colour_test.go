package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
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
		if ansi.Strip(got) != line {
			t.Errorf("colourJSON(%q) changed the text: %q", line, ansi.Strip(got))
		}
	}
	if colourJSON(`"k": 1`) == `"k": 1` {
		t.Error("no colour with a colour profile")
	}
}

// Under NO_COLOR (the Ascii profile, which termenv picks when NO_COLOR is
// set and TestMain pins) the sparkline still tells denials and 5xx apart:
// a marker row says ✗ under every bucket holding denials and ! under the
// others holding 5xx.
func TestSparklineNoColor(t *testing.T) {
	m := started(t, genStore(t, 3000), 80, 24)
	spark, marks := m.sparkline()
	if strings.Contains(spark+marks, "\x1b") {
		t.Fatalf("escape sequences under NO_COLOR: %q", spark+marks)
	}
	h := m.res.spark
	row := []rune(marks)
	seen := map[rune]bool{}
	for i := range h.counts[:min(len(h.counts), m.sparkWidth())] {
		want := ' '
		switch {
		case h.denied[i] > 0:
			want = '✗'
		case h.errors[i] > 0:
			want = '!'
		}
		if row[i] != want {
			t.Fatalf("bucket %d (denied %d, 5xx %d): marker %q", i, h.denied[i], h.errors[i], row[i])
		}
		seen[want] = true
	}
	if !seen['✗'] || !seen['!'] {
		t.Fatalf("the data marks no denials or no 5xx buckets: %q", marks)
	}
	golden(t, "sparkline_nocolor_80x24.golden", spark+"\n"+marks)
}

func TestColourProfile(t *testing.T) {
	tests := []struct {
		detected termenv.Profile
		term     string
		want     termenv.Profile
	}{
		{termenv.Ascii, "screen", termenv.ANSI},
		{termenv.Ascii, "tmux", termenv.ANSI},
		{termenv.Ascii, "vt100", termenv.ANSI},
		{termenv.Ascii, "dumb", termenv.Ascii},
		{termenv.Ascii, "", termenv.Ascii},
		{termenv.ANSI256, "screen-256color", termenv.ANSI256},
	}
	for _, tt := range tests {
		if got := colourProfile(tt.detected, tt.term); got != tt.want {
			t.Errorf("colourProfile(%v, %q) = %v, want %v", tt.detected, tt.term, got, tt.want)
		}
	}
}

// Under NO_COLOR the cursor row is still reverse video, and nothing is
// coloured.
func TestNoColourKeepsReverse(t *testing.T) {
	saved := []lipgloss.Style{styleDenied, style5xx, styleError, styleKey, styleString, styleLit}
	defer func() {
		styleDenied, style5xx, styleError, styleKey, styleString, styleLit = saved[0], saved[1], saved[2], saved[3], saved[4], saved[5]
		colourOff = false
		lipgloss.SetColorProfile(termenv.Ascii)
	}()
	lipgloss.SetColorProfile(termenv.ANSI)
	noColour()
	m := started(t, genStore(t, 500), 80, 24)
	screen := m.View()
	if !strings.Contains(screen, "\x1b[7m") {
		t.Error("no reverse video under NO_COLOR")
	}
	for _, sgr := range []string{"\x1b[31", "\x1b[33", "\x1b[91", "\x1b[93", "\x1b[9", ";9"} {
		if strings.Contains(screen, sgr) {
			t.Errorf("a colour (%q) under NO_COLOR", sgr)
		}
	}
}
