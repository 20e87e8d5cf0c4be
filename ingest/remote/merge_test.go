package remote

import (
	"slices"
	"testing"
	"time"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/ingest"
)

// TestMergeRelease: when the merge hands an event on: once every host has
// one held (replay and live), once it was held Window.Hold (live only),
// or when more than Window.Events are held.
func TestMergeRelease(t *testing.T) {
	at := func(secs ...int) ingest.Batch {
		var b ingest.Batch
		for _, s := range secs {
			b.Events = append(b.Events, audit.Event{AuditID: string(rune('a' + s)), StageTime: time.Unix(int64(s), 0)})
			b.Offsets = append(b.Offsets, 0)
		}
		return b
	}
	type step struct {
		lane  int
		b     ingest.Batch
		end   bool
		after time.Duration // release at arrival + after
		want  string        // auditIDs handed on by this step
	}
	for _, c := range []struct {
		name   string
		live   bool
		window Window
		steps  []step
	}{
		{name: "replay waits for every host", window: Window{Hold: time.Millisecond, Events: 100}, steps: []step{
			{lane: 0, b: at(1, 3), after: time.Hour, want: ""},
			{lane: 1, b: at(2, 4), want: "bcd"},
			{lane: 0, end: true, want: "e"}, // lane 0 ended: nothing older can come
			{lane: 1, end: true, want: ""},
		}},
		{name: "live waits at most Hold", live: true, window: Window{Hold: time.Second, Events: 100}, steps: []step{
			{lane: 0, b: at(1, 3), after: 500 * time.Millisecond, want: ""},
			{lane: 0, b: at(5), after: 1500 * time.Millisecond, want: "bdf"},
			{lane: 1, b: at(2), want: ""},
			{lane: 0, b: at(6), want: "c"}, // g waits for lane 1 (or Hold)
			{lane: 1, b: at(7), want: "g"},
		}},
		{name: "at most Events held", live: true, window: Window{Hold: time.Hour, Events: 2}, steps: []step{
			{lane: 0, b: at(1, 2, 3), want: "b"},
			{lane: 0, b: at(4), want: "c"},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			m := &merger{live: c.live, window: c.window, emit: func(b ingest.Batch) error {
				if len(b.Events) != len(b.Offsets) || len(b.Events) == 0 {
					t.Errorf("batch of %d events, %d offsets", len(b.Events), len(b.Offsets))
				}
				for _, e := range b.Events {
					got = append(got, e.AuditID)
				}
				return nil
			}}
			for range 2 {
				m.lanes = append(m.lanes, &lane{credit: make(chan struct{}, laneCredit)})
			}
			for i, s := range c.steps {
				if !s.end {
					m.lanes[s.lane].credit <- struct{}{}
				}
				m.add(arrival{lane: s.lane, b: s.b, end: s.end})
				got = got[:0]
				if err := m.release(time.Now().Add(s.after)); err != nil {
					t.Fatal(err)
				}
				if w := []rune(s.want); !slices.Equal(got, runes(w)) {
					t.Errorf("step %d: handed on %q, want %q", i, got, s.want)
				}
			}
		})
	}
}

func runes(r []rune) []string {
	s := make([]string, len(r))
	for i, c := range r {
		s[i] = string(c)
	}
	if len(s) == 0 {
		return nil
	}
	return s
}
