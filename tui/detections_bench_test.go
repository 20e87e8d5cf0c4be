package tui

import (
	"context"
	"fmt"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/kaudit/kaudit/query"
	"github.com/kaudit/kaudit/store"
)

// BenchmarkFrameHits is one frame with 1 M events loaded and n hits in
// the detection log, spread over the whole time range (28 rules), on the
// Events tab: without a filter and with one (user:system:*).
func BenchmarkFrameHits(b *testing.B) {
	st := bigStore()
	for _, n := range []int{0, 100_000} {
		log := NewDetectionLog()
		hits := make([]Detection, 0, n)
		for i := range n {
			id := store.ID(i * (st.Len() / n))
			hits = append(hits, Detection{Rule: fmt.Sprintf("rule-%d", i%28), Severity: "high", ID: id, Time: st.Entry(id).Time})
		}
		log.Add(hits)
		for _, filter := range []string{"", "user:system:*"} {
			b.Run(fmt.Sprintf("hits=%d/filter=%q", n, filter), func(b *testing.B) {
				m := New(Options{Store: st, Now: fixedNow, Detections: log})
				m = run(b, m, m.Init())
				m = drive(b, m, tea.WindowSizeMsg{Width: 120, Height: 40})
				if filter != "" {
					m = drive(b, m, filterAppliedMsg{text: filter})
				}
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					_ = m.View()
				}
			})
		}
	}
}

// BenchmarkApplyHits is the background work an apply of no new data adds
// with 100k hits (the marker row's counts, and the Detections tab's
// table), without a filter (per-slot counts) and with one (a walk over
// the hits it keeps); "off" is the same apply without --detect.
func BenchmarkApplyHits(b *testing.B) {
	st := bigStore()
	log := NewDetectionLog()
	n := 100_000
	for i := range n {
		id := store.ID(i * (st.Len() / n))
		log.Add([]Detection{{Rule: fmt.Sprintf("rule-%d", i%28), Severity: "high", ID: id, Time: st.Entry(id).Time}})
	}
	for _, filter := range []string{"", "user:system:*"} {
		f, err := query.Compile(filter)
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range []struct {
			name string
			tab  int
			dl   *DetectionLog
		}{{"off", tabEvents, nil}, {"events", tabEvents, log}, {"detections", tabDetections, log}} {
			b.Run(fmt.Sprintf("filter=%q/%s", filter, c.name), func(b *testing.B) {
				ctx := query.WithFlagged(context.Background(), log)
				lv := compute(ctx, st, nil, f, c.tab, 1, 90)().(resultMsg).live
				for b.Loop() {
					cmd := compute(ctx, st, lv, f, c.tab, 1, 90)
					if c.dl != nil {
						cmd = withDetections(ctx, cmd, st, c.dl)
					}
					r := cmd().(resultMsg)
					if r.err != nil {
						b.Fatal(r.err)
					}
					lv = r.live
				}
			})
		}
	}
}
