package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kaudit/kaudit/store"
)

// orderLines are audit lines at the given minutes after 10:00, in that
// order (the last one may be older than those before it).
func orderLines(minutes ...int) ([]byte, []int) {
	var buf []byte
	var starts []int
	for i, m := range minutes {
		starts = append(starts, len(buf))
		ts := time.Date(2026, 11, 25, 10, m, 0, 0, time.UTC).Format(time.RFC3339Nano)
		buf = fmt.Appendf(buf, `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a%d","stage":"ResponseComplete",`+
			`"verb":"get","user":{"username":"u"},"objectRef":{"resource":"pods"},"responseStatus":{"code":200},"stageTimestamp":%q}`+"\n", i, ts)
	}
	return buf, starts
}

// TestTimelineOutOfOrder: one event older than those before it lands in
// its own slot; the header reads the oldest..newest range, and the
// sparkline is not blanked.
func TestTimelineOutOfOrder(t *testing.T) {
	for _, tc := range []struct {
		name    string
		minutes []int
	}{
		{"in order", []int{0, 10, 20, 30, 40, 50, 59}},
		{"one older event last", []int{10, 20, 30, 40, 50, 59, 0}},
		{"newest first", []int{59, 50, 40, 30, 20, 10, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := store.New()
			buf, starts := orderLines(tc.minutes...)
			appendLines(t, st, buf, starts)
			m := started(t, st, 120, 30)
			from := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
			to := from.Add(59 * time.Minute)
			if !m.hdr.first.Equal(from) || !m.hdr.last.Equal(to) {
				t.Errorf("header range %v..%v, want %v..%v", m.hdr.first, m.hdr.last, from, to)
			}
			if sum(m.res.spark.counts) != len(tc.minutes) {
				t.Errorf("sparkline counts %v: %d requests, want %d", m.res.spark.counts, sum(m.res.spark.counts), len(tc.minutes))
			}
			if len(m.res.spark.counts) == 0 || m.res.spark.counts[0] != 1 {
				t.Errorf("the 10:00 event is not in the first bucket: %v", m.res.spark.counts)
			}
			if v := m.View(); strings.Contains(v, "10:59:00–10:59:00") || !strings.Contains(v, "10:00:00") {
				t.Errorf("header does not read 10:00:00–10:59:00:\n%s", v)
			}
		})
	}
}
