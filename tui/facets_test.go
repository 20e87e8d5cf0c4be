package tui

import (
	"strings"
	"testing"
)

// The Codes, User agents and Source IPs tabs drill into their requests:
// the Events tab then has as many rows as the row's REQUESTS.
func TestFacetTabsDrill(t *testing.T) {
	st := genStore(t, 3000)
	for _, tab := range []string{"8", "9", "0"} {
		m := started(t, st, 160, 45)
		m = drive(t, m, keys(tab)...)
		if m.res.table == nil || len(m.res.table.Rows) == 0 {
			t.Fatalf("tab %s: no rows", tab)
		}
		for _, row := range []int{0, len(m.res.table.Rows) - 1} {
			m.tables[m.tab].SetCursor(row)
			want := m.res.table.Rows[row][1].(int)
			m = drive(t, m, keys("enter")...)
			if m.tab != tabEvents || m.rowCount() != want || m.status.err != "" {
				t.Errorf("tab %s row %d: drill %q kept %d, want %d (%s)", tab, row, m.filter.String(), m.rowCount(), want, m.status.err)
			}
			m = drive(t, m, keys("esc")...)
		}
	}
}

func TestViewCodesOpensCodes(t *testing.T) {
	m := New(Options{Store: genStore(t, 100), Now: fixedNow, View: "codes"})
	if tabs[m.tab].name != "Codes" {
		t.Errorf("View codes opened %q", tabs[m.tab].name)
	}
	if !strings.Contains(m.tabLine(), "[8 Codes]") {
		t.Errorf("tab line %q", m.tabLine())
	}
}
