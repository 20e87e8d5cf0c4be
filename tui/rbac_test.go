package tui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeSuggest stands in for the rbac package: a YAML document per row,
// and one warning that tries to smuggle a terminal escape.
func fakeSuggest(calls *[][]DenialKey) SuggestFunc {
	return func(rows []DenialKey) (string, []string) {
		*calls = append(*calls, rows)
		var b strings.Builder
		for i, r := range rows {
			if i > 0 {
				b.WriteString("---\n")
			}
			fmt.Fprintf(&b, "kind: Role\nmetadata:\n  name: \"kaudit:%s\"\n  namespace: %q\nrules:\n- resources: [%q]\n  verbs: [%q]\n", r.Subject, r.Namespace, r.Resource, r.Verb)
		}
		return b.String(), []string{"Role x/kaudit:eve: SENSITIVE: secrets \x1b[31mred\x1b[0m"}
	}
}

func startedRBAC(t *testing.T, calls *[][]DenialKey, dir string) Model {
	t.Helper()
	m := New(Options{Store: genStore(t, 3000), Now: fixedNow, Suggest: fakeSuggest(calls), WriteDir: dir})
	m = run(t, m, m.Init())
	return drive(t, m, keys("7")...)
}

// TestRBACPane: in the Denials tab space selects rows (marked ●), r shows
// the suggestion for exactly those rows with its warnings first, w writes
// the YAML, esc goes back.
func TestRBACPane(t *testing.T) {
	var calls [][]DenialKey
	dir := t.TempDir()
	m := startedRBAC(t, &calls, dir)
	m = drive(t, m, keys(" ", "j", " ")...) // rows 0 and 2
	if len(m.rbac.selected) != 2 {
		t.Fatalf("%d rows selected, want 2", len(m.rbac.selected))
	}
	if m.paused {
		t.Error("space in the Denials tab paused live updates")
	}
	golden(t, "rbac_selected_80x24.golden", m.View())
	want := []DenialKey{}
	for _, i := range []int{0, 2} {
		dk, _ := m.denialAt(i)
		want = append(want, dk)
	}

	m = drive(t, m, keys("r")...)
	if !m.over.paged() || m.over.pane != paneRBAC {
		t.Fatal("r opened no suggestion pane")
	}
	if len(calls) != 1 || fmt.Sprint(calls[0]) != fmt.Sprint(sortedKeys(want)) {
		t.Errorf("suggest called with %v, want %v", calls, sortedKeys(want))
	}
	v := m.View()
	if strings.Contains(v, "\x1b[31m") {
		t.Error("a warning's escape sequence reached the screen")
	}
	golden(t, "rbac_pane_80x24.golden", v)

	m = drive(t, m, keys("w")...)
	files, _ := filepath.Glob(filepath.Join(dir, "kaudit-rbac-*.yaml"))
	if len(files) != 1 {
		t.Fatalf("w wrote %d files: %v (note %q)", len(files), files, m.status.note)
	}
	data, _ := os.ReadFile(files[0])
	if !strings.HasPrefix(string(data), "kind: Role\n") || strings.Count(string(data), "kind: Role") != 2 {
		t.Errorf("written YAML:\n%s", data)
	}
	if !strings.Contains(m.status.note, "wrote RBAC YAML to ") {
		t.Errorf("note %q", m.status.note)
	}

	m = drive(t, m, keys("esc")...)
	if m.over.paged() {
		t.Error("esc did not close the pane")
	}
	// Space again unselects.
	m = drive(t, m, keys("g", " ")...)
	if len(m.rbac.selected) != 1 {
		t.Errorf("%d selected after toggling, want 1", len(m.rbac.selected))
	}
	// With nothing selected, r suggests for the row under the cursor.
	m = startedRBAC(t, &calls, dir)
	m = drive(t, m, keys("j", "r")...)
	if dk, _ := m.denialAt(1); len(calls) != 2 || len(calls[1]) != 1 || calls[1][0] != dk {
		t.Errorf("r without a selection suggested %v, want [%v]", calls[len(calls)-1], dk)
	}
}

func sortedKeys(ks []DenialKey) []DenialKey {
	m := Model{rbac: rbacState{selected: map[DenialKey]bool{}}}
	for _, k := range ks {
		m.rbac.selected[k] = true
	}
	return m.selectedDenials()
}

// TestRBACKeysElsewhere: outside the Denials tab, or without a
// SuggestFunc, space still pauses and r does nothing.
func TestRBACKeysElsewhere(t *testing.T) {
	var calls [][]DenialKey
	m := startedRBAC(t, &calls, t.TempDir())
	m = drive(t, m, keys("1", " ", "r")...)
	if !m.paused || len(calls) != 0 || m.over.paged() {
		t.Errorf("Events tab: paused=%v calls=%d detail=%v", m.paused, len(calls), m.over.paged())
	}
	plain := started(t, genStore(t, 500), 80, 24)
	plain = drive(t, plain, keys("7", " ", "r")...)
	if !plain.paused || plain.over.paged() {
		t.Errorf("no SuggestFunc: paused=%v detail=%v", plain.paused, plain.over.paged())
	}
}
