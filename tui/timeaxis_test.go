package tui

import (
	"strings"
	"testing"
	"time"
)

func TestAxisLabels(t *testing.T) {
	base := time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC).UnixNano()
	tests := []struct {
		d    time.Duration
		want []string // labels that must appear
	}{
		{15 * time.Second, []string{"╵05:00:00", "╵05:00:05"}},
		{2 * time.Hour, []string{"╵05:00", "╵06:00"}},
		{3 * 24 * time.Hour, []string{"╵12-07", "╵12-08"}},
		{900 * time.Millisecond, []string{"╵00.000", "╵00.500"}},
	}
	for _, tt := range tests {
		got := axis(span{base, base + int64(tt.d)}, 60)
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("axis over %v: %q lacks %q", tt.d, got, w)
			}
		}
		if n := len([]rune(got)); n != 60 {
			t.Errorf("axis over %v is %d cells, want 60", tt.d, n)
		}
	}
}

// A narrow axis over seconds writes mm:ss.
func TestAxisNarrow(t *testing.T) {
	base := time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC).UnixNano()
	if got := axis(span{base, base + int64(time.Minute)}, 20); !strings.Contains(got, "╵00:00") || !strings.Contains(got, "╵00:30") {
		t.Errorf("narrow axis %q", got)
	}
}

// + and - zoom around the cursor's event, writing since:/until: into the
// filter; zooming out past the data drops the range; esc and > walk the
// ranges back and forth.
func TestZoom(t *testing.T) {
	st := genStore(t, 3000)
	m := started(t, st, 100, 30)
	m = drive(t, m, keys("G")...)
	last, _ := m.cursorTime()
	m = drive(t, m, keys("+")...)
	since, until := m.filter.Range()
	if since.IsZero() || until.IsZero() || !strings.Contains(m.filter.String(), "since:") {
		t.Fatalf("+ set no range: %q", m.filter.String())
	}
	full := m.hdr.last.Sub(m.hdr.first)
	if d := until.Sub(since); d > full*3/4 || d < full/3 {
		t.Errorf("+ zoomed to %v of %v", d, full)
	}
	if l := time.Unix(0, last); l.Before(since) || !l.Before(until) {
		t.Errorf("the cursor's time %v is outside %v–%v", l, since, until)
	}
	if !strings.Contains(m.statusLine(), "range ") {
		t.Errorf("header shows no range: %q", m.statusLine())
	}
	if n := m.rowCount(); n == 0 || n >= 2999 {
		t.Errorf("zoomed rows %d", n)
	}
	zoomed := m.filter.String()
	m = drive(t, m, keys("-", "-")...)
	if s, u := m.filter.Range(); !s.IsZero() || !u.IsZero() {
		t.Errorf("zooming out past the data kept %q", m.filter.String())
	}
	m = drive(t, m, keys("esc")...)
	if m.filter.String() == "" {
		t.Errorf("esc after zooms: filter %q", m.filter.String())
	}
	m = drive(t, m, keys("esc", ">")...)
	if m.filter.String() != zoomed && !strings.Contains(m.filter.String(), "since:") {
		t.Errorf("> did not redo the zoom: %q", m.filter.String())
	}
}

// t picks a range on the sparkline: space marks one end, the arrows move
// the other, enter zooms to it.
func TestBrush(t *testing.T) {
	m := started(t, genStore(t, 3000), 100, 30)
	m = drive(t, m, keys("t")...)
	if !m.brush.on {
		t.Fatal("t did not start the brush")
	}
	m = drive(t, m, keys("g")...) // not a brush key: ignored
	m = drive(t, m, keys("left", "left", " ", "right", "right", "right", "right")...)
	if !m.brush.covers(m.brush.anchor) || !m.brush.covers(m.brush.pos) || m.brush.pos-m.brush.anchor != 4 {
		t.Fatalf("brush %+v", m.brush)
	}
	n, s := len(m.res.spark.counts), m.res.span
	wantFrom := time.Unix(0, s.at(m.brush.anchor, n)).UTC()
	m = drive(t, m, keys("enter")...)
	since, until := m.filter.Range()
	if !since.Equal(wantFrom) || until.Sub(since) <= 0 {
		t.Errorf("range %v–%v, want from %v", since, until, wantFrom)
	}
	if m.brush.on {
		t.Error("brush still on after enter")
	}
	m = drive(t, m, keys("t", "esc")...)
	if m.brush.on || m.filter.String() == "" {
		t.Errorf("esc: brush %v filter %q", m.brush.on, m.filter.String())
	}
}
