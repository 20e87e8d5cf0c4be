package e2e

import (
	"strings"
	"testing"
)

// TestE2EDetectionsTab: replay --detect on the real binary in tmux at
// 80x24. shift+tab reaches the Detections tab (D too), Enter on a rule
// filters Events with rule:NAME, esc comes back, and the tab bar fits.
func TestE2EDetectionsTab(t *testing.T) {
	bin, log := kauditBin(t), repoPath(t, "detect/testdata/handmade/events.jsonl")
	p := newPane(t, 80, 24, "env TERM=xterm-256color NO_COLOR=1 "+bin+" replay --detect "+log+"; echo KAUDIT-EXITED $?; sleep 30")
	p.waitFor("the marked events", func(s string) bool { return strings.Contains(s, "◆") && !strings.Contains(s, "loading") })
	p.keys("BTab")
	s := p.waitFor("the Detections tab", func(s string) bool { return strings.Contains(s, "[D Detections]") && strings.Contains(s, "RULE") })
	for _, l := range strings.Split(s, "\n") {
		if len([]rune(l)) > 80 {
			t.Errorf("a line wider than the pane: %q", l)
		}
	}
	rule := strings.Fields(strings.TrimPrefix(cursorRow(s), ">"))[0]
	p.keys("Enter")
	p.waitFor("the rule's requests", func(s string) bool {
		return strings.Contains(s, "filter: rule:"+rule) && strings.Contains(s, "[1 Events]") && rowCount(s) != ""
	})
	p.keys("Escape")
	p.waitFor("back on Detections", func(s string) bool {
		return strings.Contains(s, "[D Detections]") && !strings.Contains(s, "filter: rule:")
	})
	p.keys("1", "D")
	p.waitFor("D shows the tab", contains("[D Detections]"))
	p.keys("q")
	p.waitFor("exit", contains("KAUDIT-EXITED 0"))
}
