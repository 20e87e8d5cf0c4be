package detect

import (
	"fmt"
	"testing"
	"time"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/store"
)

func entry(user, name string, at time.Time) *store.Entry {
	return &store.Entry{User: audit.UserInfo{Name: user}, Object: audit.ObjectRef{Name: name}, Time: at}
}

func TestCounter(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	type step struct {
		user, name string
		sec        int
	}
	tests := []struct {
		name  string
		th    Threshold
		steps []step
		fired []int // indexes of steps that fire
	}{
		{"count reaches 3", Threshold{Count: 3, By: "user", Window: Duration(time.Minute)},
			[]step{{"a", "", 0}, {"a", "", 1}, {"a", "", 2}, {"a", "", 3}}, []int{2}},
		{"window slides", Threshold{Count: 3, By: "user", Window: Duration(10 * time.Second)},
			[]step{{"a", "", 0}, {"a", "", 5}, {"a", "", 20}, {"a", "", 25}, {"a", "", 29}}, []int{4}},
		{"keys are separate", Threshold{Count: 2, By: "user", Window: Duration(time.Minute)},
			[]step{{"a", "", 0}, {"b", "", 1}, {"a", "", 2}, {"b", "", 3}}, []int{2, 3}},
		{"distinct values", Threshold{Count: 3, Distinct: "name", By: "user", Window: Duration(time.Minute)},
			[]step{{"a", "x", 0}, {"a", "x", 1}, {"a", "y", 2}, {"a", "y", 3}, {"a", "z", 4}}, []int{4}},
		{"quiet for a window after firing", Threshold{Count: 2, By: "user", Window: Duration(time.Minute)},
			[]step{{"a", "", 0}, {"a", "", 1}, {"a", "", 2}, {"a", "", 3}, {"a", "", 61}, {"a", "", 62}, {"a", "", 63}}, []int{1, 5}},
		{"empty keys are not counted", Threshold{Count: 2, By: "user", Window: Duration(time.Minute)},
			[]step{{"", "", 0}, {"", "", 1}, {"", "", 2}}, nil},
		{"late event counts as now", Threshold{Count: 2, By: "user", Window: Duration(10 * time.Second)},
			[]step{{"a", "", 100}, {"a", "", 0}}, []int{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCounter(&tt.th, 0)
			var fired []int
			for i, s := range tt.steps {
				if _, ok := c.add(entry(s.user, s.name, t0.Add(time.Duration(s.sec)*time.Second))); ok {
					fired = append(fired, i)
				}
			}
			if fmt.Sprint(fired) != fmt.Sprint(tt.fired) {
				t.Errorf("fired at %v, want %v", fired, tt.fired)
			}
		})
	}
}

// TestCounterBounded: the state never holds more than maxKeys keys, each
// with fewer than Count entries; the least recently seen key goes first.
func TestCounterBounded(t *testing.T) {
	th := Threshold{Count: 5, Distinct: "name", By: "user", Window: Duration(time.Hour)}
	c := newCounter(&th, 100)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 100_000 {
		c.add(entry(fmt.Sprintf("u%d", i%1000), fmt.Sprintf("n%d", i), t0.Add(time.Duration(i)*time.Millisecond)))
		if len(c.keys) > 100 || c.lru.Len() != len(c.keys) {
			t.Fatalf("step %d: %d keys (lru %d), bound 100", i, len(c.keys), c.lru.Len())
		}
	}
	for _, el := range c.keys {
		if n := len(el.Value.(*keyState).values); n >= th.Count {
			t.Fatalf("a key holds %d values, want < %d", n, th.Count)
		}
	}
	if c.evicted == 0 {
		t.Error("no key was evicted with 1000 keys and a bound of 100")
	}
	// A key seen again is the most recent: it survives 99 new keys.
	c.add(entry("keep", "a", t0.Add(time.Hour)))
	for i := range 99 {
		c.add(entry(fmt.Sprintf("new%d", i), "a", t0.Add(time.Hour)))
	}
	if _, ok := c.keys["keep"]; !ok {
		t.Error("the most recently seen key was evicted")
	}
}

func TestThresholdCheck(t *testing.T) {
	for _, th := range []Threshold{
		{Count: 1, By: "user", Window: Duration(time.Minute)},
		{Count: MaxThresholdCount + 1, By: "user", Window: Duration(time.Minute)},
		{Count: 3, By: "user"},
		{Count: 3, By: "colour", Window: Duration(time.Minute)},
		{Count: 3, By: "user", Distinct: "colour", Window: Duration(time.Minute)},
	} {
		if err := th.check(); err == nil {
			t.Errorf("%+v: no error", th)
		}
	}
}
