package tui

import (
	"testing"
)

// TestDetectionLogRebased: a rebase moves the kept hits' IDs as the store
// moved its events'; a hit on an event the rebase dropped flags nothing,
// and dropping it later unflags no other event.
func TestDetectionLogRebased(t *testing.T) {
	l := NewDetectionLog()
	l.max = 3
	l.Add([]Detection{{Rule: "a", ID: 10}, {Rule: "a", ID: 100}, {Rule: "b", ID: 150}})
	l.Rebased(64)
	if got := l.Flagged(func(string) bool { return true }).ToArray(); len(got) != 2 || got[0] != 36 || got[1] != 86 {
		t.Fatalf("flagged after rebase: %v, want [36 86]", got)
	}
	l.Add([]Detection{{Rule: "b", ID: 10}}) // drops the hit on old 10 (gone)
	if !l.flaggedEvent(10, l.base) || !l.flaggedEvent(36, l.base) || l.flaggedEvent(100, l.base) {
		t.Fatal("flags wrong after the gone hit was dropped")
	}
	if k := l.Kept(); len(k) != 3 || k[0].ID != 36 {
		t.Fatalf("kept %+v", k)
	}
}
