package ingest

import (
	"testing"
	"time"

	"github.com/kaudit/kaudit/audit"
)

// TestBatchLastTime: a follower checkpoints each batch at the time of its
// last line, which may be a stub (a batch can hold stubs only).
func TestBatchLastTime(t *testing.T) {
	t1 := time.Date(2026, 1, 15, 9, 0, 1, 0, time.UTC)
	t2 := t1.Add(time.Second)
	events := []audit.Event{{StageTime: t1}}
	for _, tc := range []struct {
		name string
		b    Batch
		want time.Time
	}{
		{"empty", Batch{}, time.Time{}},
		{"events only", Batch{Events: events}, t1},
		{"stubs only", Batch{Stubs: []Stub{{Time: t1.UnixNano()}, {Time: t2.UnixNano()}}}, t2},
		{"stub before the last event", Batch{Events: events, Stubs: []Stub{{Time: t2.UnixNano(), After: 0}}}, t1},
		{"stub after the last event", Batch{Events: events, Stubs: []Stub{{Time: t2.UnixNano(), After: 1}}}, t2},
	} {
		if got := tc.b.lastTime(); !got.Equal(tc.want) {
			t.Errorf("%s: lastTime = %v, want %v", tc.name, got, tc.want)
		}
	}
}
