package tui

import (
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/kaudit/kaudit/gen"
	"github.com/kaudit/kaudit/store"
)

// A slow computation with more data waiting is followed by a pause as
// long as it took, not at once.
func TestSlowRecomputeSpaced(t *testing.T) {
	m := started(t, genStore(t, 100), 80, 24)
	now := gen.DefaultStart.Add(time.Hour)
	m.env.clock = func() time.Time { return now }
	nm, cmd := m.Update(changedMsg{})
	m = nm.(Model)
	if !m.work.busy || cmd == nil || m.work.applies != 1 {
		t.Fatal("changedMsg started no computation")
	}
	nm, _ = m.Update(changedMsg{}) // more data while busy
	m = nm.(Model)
	now = now.Add(applyEvery + time.Millisecond)
	nm, _ = m.Update(resultMsg{seq: m.work.seq, set: m.res.set, took: 2 * applyEvery})
	m = nm.(Model)
	if m.work.busy || !m.work.pending || m.work.applies != 1 {
		t.Fatalf("after a slow result: busy %v, pending %v, applies %d", m.work.busy, m.work.pending, m.work.applies)
	}
	now = now.Add(applyEvery)
	nm, _ = m.Update(changedMsg{}) // the listening Cmd, once due
	if m = nm.(Model); !m.work.busy || m.work.applies != 2 {
		t.Fatalf("the pending data was not applied: busy %v, applies %d", m.work.busy, m.work.applies)
	}
}

// Ingest redraws at most five times a second: a burst of 10 000 events a
// second, with the listening Cmd waking the model every 10 ms (more often
// than it does), is applied once per applyEvery, and the screen changes
// only when it is. Nothing is lost: the last data is applied once due.
func TestApplyBudget(t *testing.T) {
	g := gen.New(gen.Config{Seed: 4})
	st := store.New()
	appendGen(t, st, g, 1000)
	now := gen.DefaultStart.Add(time.Hour)
	m := New(Options{Store: st, Now: fixedNow})
	m.env.clock = func() time.Time { return now }
	m = run(t, m, m.work.initCmd)
	m = drive(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
	const seconds, step = 2, 10 * time.Millisecond
	redraws, prev := 0, m.View()
	for range seconds * time.Second / step {
		now = now.Add(step)
		appendGen(t, st, g, 100)
		m = drive(t, m, changedMsg{})
		if v := m.View(); v != prev {
			redraws, prev = redraws+1, v
		}
	}
	limit := int(seconds*time.Second/applyEvery) + 1
	if m.work.applies > limit || redraws > limit {
		t.Errorf("%d applies and %d redraws in %ds, want at most %d", m.work.applies, redraws, seconds, limit)
	}
	if m.work.applies < limit-2 {
		t.Errorf("only %d applies in %ds", m.work.applies, seconds)
	}
	t.Logf("%d applies, %d redraws in %d simulated seconds at 10k events/s", m.work.applies, redraws, seconds)
	now = now.Add(applyEvery)
	m = drive(t, m, changedMsg{})
	if got, want := m.rowCount(), int(st.Requests().GetCardinality()); got != want {
		t.Errorf("after the burst: %d rows, the store has %d requests", got, want)
	}
}

// A tab switched to while a computation runs is computed after it, from
// the live state the running one hands back, not by cancelling it.
func TestTabWhileBusy(t *testing.T) {
	st := genStore(t, 500)
	m := started(t, st, 80, 24)
	nm, cmd := m.Update(changedMsg{})
	m = nm.(Model)
	if !m.work.busy {
		t.Fatal("no computation")
	}
	nm, next := m.Update(keys("2")[0])
	m = nm.(Model)
	if next != nil || !m.work.redo {
		t.Fatal("the tab switch cancelled or raced the running computation")
	}
	m = run(t, m, cmd)
	if m.work.busy || m.res.tab != 1 || m.res.table == nil || m.work.live == nil || m.work.live.aggs[1] == nil {
		t.Fatalf("after the switch: busy %v, tab %d", m.work.busy, m.res.tab)
	}
}
