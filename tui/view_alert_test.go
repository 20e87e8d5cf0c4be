package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// TestStatusLineAlert: a condition the operator must see (positions that
// cannot be saved) comes first in the header, made printable.
func TestStatusLineAlert(t *testing.T) {
	m := New(Options{Store: genStore(t, 10), Now: fixedNow})
	m.hdr.prog = Progress{Source: "audit.log", Live: true, Alert: "positions not saved: disk full\x1b]2;x\a"}
	line := m.statusLine()
	if !strings.HasPrefix(line, "kaudit · ⚠ positions not saved: disk full") {
		t.Errorf("status line does not lead with the alert: %q", line)
	}
	if strings.ContainsAny(line, "\x1b\a") {
		t.Errorf("alert not made printable: %q", line)
	}
	m.hdr.prog.Alert = ""
	if strings.Contains(m.statusLine(), "⚠") {
		t.Errorf("alert shown without one: %q", m.statusLine())
	}
}

// TestStatusLineKeepsRange: at 80 columns a long source path is cut at
// its start so that the zoomed range, at the end of the line, stays whole.
func TestStatusLineKeepsRange(t *testing.T) {
	m := started(t, genStore(t, 3000), 80, 24)
	m.hdr.prog.Source = "/var/log/kubernetes/apiserver/some/long/dir/audit.log"
	m = drive(t, m, keys("G", "+")...)
	r := m.rangeText()
	line := m.statusLine()
	if r == "" || !strings.HasSuffix(line, r) {
		t.Errorf("range %q not whole at the end of %q", r, line)
	}
	if w := ansi.StringWidth(line); w > 80 || !strings.Contains(line, "…") || !strings.Contains(line, "dir/audit.log") {
		t.Errorf("status line %q (%d columns): want the source cut at its start to fit 80", line, w)
	}
}
