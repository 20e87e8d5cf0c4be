package e2e

import (
	"regexp"
	"strings"
	"testing"
)

// The investigation keys of issue 15 on the real binary in tmux: zoom,
// find with n/N, previous/next inside an event's page, the cursor kept
// when the filter is cleared, colour under TERM=screen and reverse video
// under NO_COLOR.

// replayPane runs kaudit replay over the sample logs in a tmux pane.
func replayPane(t *testing.T, env string, w, h int) *pane {
	t.Helper()
	bin, sample := kauditBin(t), repoPath(t, "testdata/sample")
	p := newPane(t, w, h, "env "+env+" "+bin+" replay "+sample+"; echo KAUDIT-EXITED $?; sleep 30")
	p.waitFor("the loaded sample", func(s string) bool { return strings.Contains(s, "4200 events") && !strings.Contains(s, "loading") })
	return p
}

var rowsShown = regexp.MustCompile(`\((\d+) rows\)`)

func rowCount(s string) string {
	if m := rowsShown.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return ""
}

// cursorRow is the table line under the cursor.
func cursorRow(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, ">") {
			return strings.TrimRight(l, " ")
		}
	}
	return ""
}

// header is the status line (the footer's help says "range" too).
func header(s string) string { return strings.SplitN(s, "\n", 2)[0] }

func contains(sub string) func(string) bool {
	return func(s string) bool { return strings.Contains(s, sub) }
}

func TestE2EZoom(t *testing.T) {
	p := replayPane(t, "TERM=xterm-256color NO_COLOR=1", 120, 40)
	all := rowCount(p.waitFor("rows", func(s string) bool { return rowCount(s) != "" }))
	p.keys("+")
	s := p.waitFor("the zoomed range", func(s string) bool {
		return strings.Contains(header(s), "range ") && strings.Contains(s, "filter: since:")
	})
	if n := rowCount(p.waitFor("rows", func(s string) bool { return rowCount(s) != "" && rowCount(s) != all })); n == "" {
		t.Errorf("zoom kept every row:\n%s", s)
	}
	p.keys("t", "Left", "Left", "Space", "Right", "Enter")
	p.waitFor("a picked range", func(s string) bool { return strings.Contains(s, "filter: since:") && rowCount(s) != all })
	// One - at a time (tmux may take a lone "-" argument for a flag):
	// each doubles the range, until it covers the data and goes.
	for i := 0; i < 10; i++ {
		before := strings.SplitN(p.screen(), "\n", 2)[0]
		if !strings.Contains(before, "range ") {
			break
		}
		p.tmux("send-keys", "-t", p.name, "-l", "-")
		p.waitFor("a wider range", func(s string) bool { return strings.SplitN(s, "\n", 2)[0] != before })
	}
	p.waitFor("zoomed out to everything", func(s string) bool { return !strings.Contains(header(s), "range ") && rowCount(s) == all })
	p.keys("q")
	p.waitFor("exit", contains("KAUDIT-EXITED 0"))
}

func TestE2EFindNext(t *testing.T) {
	p := replayPane(t, "TERM=xterm-256color NO_COLOR=1", 120, 40)
	p.keys("F", "secrets", "Enter")
	s := p.waitFor("the first match", contains("find secrets: 1/"))
	if !strings.Contains(cursorRow(s), "secrets") {
		t.Errorf("the cursor is not on a match: %q", cursorRow(s))
	}
	p.keys("n")
	p.waitFor("the second match", contains("find secrets: 2/"))
	p.keys("N", "N")
	s = p.waitFor("wrapped to the last match", func(s string) bool {
		m := regexp.MustCompile(`find secrets: (\d+)/(\d+)`).FindStringSubmatch(s)
		return m != nil && m[1] == m[2]
	})
	if !strings.Contains(cursorRow(s), "secrets") {
		t.Errorf("the cursor is not on a match: %q", cursorRow(s))
	}
	p.keys("q")
	p.waitFor("exit", contains("KAUDIT-EXITED 0"))
}

func TestE2EDetailPrevNext(t *testing.T) {
	p := replayPane(t, "TERM=xterm-256color NO_COLOR=1", 120, 40)
	p.keys("g", "Enter")
	p.waitFor("the first event's page", contains(" 1/"))
	p.keys("]")
	p.waitFor("the next event", contains(" 2/"))
	p.keys("]", "[")
	p.waitFor("back to the second", contains(" 2/"))
	// Y asks which field, v copies the verb (OSC 52, through tmux).
	p.keys("Y")
	p.waitFor("the field question", contains("copy which field?"))
	p.keys("v")
	p.waitFor("the verb copied", contains("copied the verb"))
	p.keys("Escape")
	s := p.waitFor("the table", contains("LATENCY"))
	if !strings.HasPrefix(strings.Split(s, "\n")[8], ">") {
		t.Errorf("the cursor is not on the second row:\n%s", s)
	}
	p.keys("q")
	p.waitFor("exit", contains("KAUDIT-EXITED 0"))
}

func TestE2ECursorKeptClearingFilter(t *testing.T) {
	p := replayPane(t, "TERM=xterm-256color NO_COLOR=1", 120, 40)
	p.keys("/", "denied", "Enter")
	p.waitFor("the denials", contains("filter: denied"))
	p.keys("g", "j", "j", "j") // g: off the newest, which follow keeps
	// The table starts on line 8: the fourth row is line 11.
	before := cursorRow(p.waitFor("the cursor on the fourth denial", func(s string) bool {
		l := strings.Split(s, "\n")
		return len(l) > 10 && strings.HasPrefix(l[10], ">")
	}))
	p.keys("/", "C-u", "Enter")
	s := p.waitFor("the filter cleared", contains("filter: none"))
	if after := cursorRow(s); after != before || !strings.HasPrefix(after, ">✗") {
		t.Errorf("cursor row after clearing the filter:\n%q\nwant\n%q", after, before)
	}
	p.keys("q")
	p.waitFor("exit", contains("KAUDIT-EXITED 0"))
}

// capture is the pane with its escape sequences (tmux capture-pane -e).
func (p *pane) capture() string { return p.tmux("capture-pane", "-p", "-e", "-t", p.name) }

func TestE2EColourScreenTerm(t *testing.T) {
	p := replayPane(t, "TERM=screen", 120, 40)
	s := p.capture()
	if !strings.Contains(s, "\x1b[7m") {
		t.Errorf("no reverse-video cursor under TERM=screen:\n%q", s)
	}
	if !regexp.MustCompile(`\x1b\[[0-9;]*9[1-6]m`).MatchString(s) {
		t.Errorf("no colour under TERM=screen:\n%q", s)
	}
	p.keys("q")
	p.waitFor("exit", contains("KAUDIT-EXITED 0"))
}

func TestE2ENoColorReverse(t *testing.T) {
	p := replayPane(t, "TERM=xterm-256color NO_COLOR=1", 120, 40)
	s := p.capture()
	if !strings.Contains(s, "\x1b[7m") {
		t.Errorf("no reverse-video cursor under NO_COLOR:\n%q", s)
	}
	if m := regexp.MustCompile(`\x1b\[[0-9;]*(3[0-7]|9[0-7]|38;[0-9;]+)m`).FindString(s); m != "" {
		t.Errorf("a colour (%q) under NO_COLOR", m)
	}
	p.keys("q")
	p.waitFor("exit", contains("KAUDIT-EXITED 0"))
}
