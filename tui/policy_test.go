package tui

import (
	"context"
	"fmt"
	"strings"
	"testing"

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
