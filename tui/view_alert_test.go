package tui

import (
	"strings"
	"testing"
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
