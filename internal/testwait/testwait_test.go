package testwait

import (
	"testing"
	"time"
)

func TestUntil(t *testing.T) {
	start := time.Now()
	n := 0
	Until(t, "the third call", func() bool { n++; return n == 3 })
	if n != 3 {
		t.Errorf("cond called %d times, want 3", n)
	}
	if time.Since(start) > time.Minute {
		t.Errorf("took %v", time.Since(start))
	}
}

func TestDeadline(t *testing.T) {
	d := Deadline(t)
	if !d.After(time.Now()) {
		t.Errorf("deadline %v is not in the future", d)
	}
	if end, ok := t.Deadline(); ok && !d.Before(end) {
		t.Errorf("deadline %v is not before the binary's %v", d, end)
	}
}
