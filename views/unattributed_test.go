package views

import (
	"testing"
	"time"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/store"
)

func TestUnattributedCountsForLargest(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		latency time.Duration
		phases  []audit.Phase
		unattr  time.Duration
		largest string
	}{
		// The request: 63µs of authentication in 1.757s.
		{1757 * ms, []audit.Phase{{Name: "authentication", Duration: 63 * time.Microsecond}, {Name: "total", Duration: 1757 * ms}},
			1757*ms - 63*time.Microsecond, "unattributed 1.757s"},
		{100 * ms, []audit.Phase{{Name: "etcd", Duration: 90 * ms}, {Name: "admission", Duration: 5 * ms}}, 5 * ms, "etcd 90ms"},
		{10 * ms, nil, 0, ""},
		{10 * ms, []audit.Phase{{Name: "etcd", Duration: 20 * ms}}, 0, "etcd 20ms"},
	}
	for _, tt := range tests {
		e := store.Entry{Latency: tt.latency, Phases: tt.phases}
		if u := Unattributed(&e); u != tt.unattr {
			t.Errorf("%v: unattributed %v, want %v", tt.phases, u, tt.unattr)
		}
		if l := largestPhase(&e); l != tt.largest {
			t.Errorf("%v: largest %q, want %q", tt.phases, l, tt.largest)
		}
	}
}
