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
