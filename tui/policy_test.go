package tui

import (
	"context"
	"fmt"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/kaudit/kaudit/store"
)

// TestPolicyPane: with a policy wired in, P simulates it over the current
// filter's requests and shows the report (escape sequences neutralised)
// in a pane; esc goes back. Without one, P does nothing and the help does
// not offer it.
func TestPolicyPane(t *testing.T) {
	var got []uint64
	simulate := func(_ context.Context, _ *store.Store, requests *store.Set) (string, error) {
		got = append(got, requests.GetCardinality())
		return fmt.Sprintf("RULE LEVEL REQUESTS\n0 Metadata %d\n\x1b]0;pwned\x07", requests.GetCardinality()), nil
	}
	st := genStore(t, 2000)
	m := New(Options{Store: st, Now: fixedNow, Policy: simulate})
	m = run(t, m, m.Init())
	m = drive(t, m, keys("/", "v", "e", "r", "b", ":", "g", "e", "t", "enter")...)
	want := m.res.set.GetCardinality()
	m = drive(t, m, keys("P")...)
	if len(got) != 1 || got[0] != want {
		t.Fatalf("simulated over %v requests; want the filter's %d", got, want)
	}
	if !m.over.paged() || m.over.pane != panePolicy {
		t.Fatal("P opened no pane")
	}
	screen := m.View()
	if !strings.Contains(screen, "filter verb:get") || !strings.Contains(screen, fmt.Sprintf("0 Metadata %d", want)) {
		t.Errorf("pane:\n%s", screen)
	}
	if strings.Contains(screen, "\x1b]0;") || strings.ContainsRune(screen, '\x07') {
		t.Error("an escape sequence from the report reached the screen")
	}
	m = drive(t, m, keys("esc")...)
	if m.over.paged() {
		t.Error("esc did not close the pane")
	}
	if !strings.Contains(drive(t, m, keys("?")...).View(), "policy sim") {
		t.Error("help does not list P")
	}

	plain := New(Options{Store: st, Now: fixedNow})
	plain = run(t, plain, plain.Init())
	if plain = drive(t, plain, keys("P")...); plain.over.paged() {
		t.Error("P opened a pane without a policy")
	}
	if strings.Contains(drive(t, plain, keys("?")...).View(), "policy sim") {
		t.Error("help offers P without a policy")
	}
}

// P is background work like a filter's computation: P again while it
// runs over the same requests does not start a second decode, and esc
// cancels it, so a late report opens no pane.
func TestPolicyBackground(t *testing.T) {
	var calls []context.Context
	simulate := func(ctx context.Context, _ *store.Store, requests *store.Set) (string, error) {
		calls = append(calls, ctx)
		return "RULE LEVEL REQUESTS\n", nil // a report even when cancelled: the model must drop it
	}
	st := genStore(t, 500)
	m := New(Options{Store: st, Now: fixedNow, Policy: simulate})
	m = run(t, m, m.Init())
	press := func(m Model, k string) (Model, tea.Cmd) {
		nm, cmd := m.Update(keys(k)[0])
		return nm.(Model), cmd
	}

	// P twice before the first finishes: one simulation.
	m, first := press(m, "P")
	m, second := press(m, "P")
	if first == nil || second != nil {
		t.Fatalf("P, P: commands %v %v; want one simulation", first != nil, second != nil)
	}
	m = run(t, m, first)
	if len(calls) != 1 || m.over.pane != panePolicy {
		t.Fatalf("%d simulations, pane %d; want 1 and the report", len(calls), m.over.pane)
	}
	m = drive(t, m, keys("esc")...)

	// P, then esc before the report: the simulation is cancelled and its
	// report dropped.
	m, late := press(m, "P")
	m, _ = press(m, "esc")
	msg := late()
	if len(calls) != 2 || calls[1].Err() == nil {
		t.Fatalf("esc did not cancel the simulation (%d calls)", len(calls))
	}
	nm, _ := m.Update(msg)
	if m = nm.(Model); m.over.pane != paneTable || strings.Contains(m.View(), "Audit policy simulation") {
		t.Fatalf("a late report opened pane %d after esc", m.over.pane)
	}

	// A new filter while one runs: the old one is cancelled, the new one
	// starts, and only its report is shown.
	m, old := press(m, "P")
	m = drive(t, m, keys("/", "v", "e", "r", "b", ":", "g", "e", "t", "enter")...)
	m, fresh := press(m, "P")
	if fresh == nil {
		t.Fatal("P over a new filter started nothing")
	}
	oldMsg := old()
	if calls[2].Err() == nil {
		t.Error("the simulation of the old filter was not cancelled")
	}
	nm, _ = m.Update(oldMsg)
	if m = nm.(Model); m.over.pane != paneTable {
		t.Fatal("the replaced simulation's report opened a pane")
	}
	m = run(t, m, fresh)
	if m.over.pane != panePolicy || !strings.Contains(m.View(), "filter verb:get") {
		t.Fatalf("the new report: pane %d\n%s", m.over.pane, m.View())
	}
}
