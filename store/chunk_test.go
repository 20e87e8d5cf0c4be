package store

import "testing"

// TestStrCol sets every n-th place of a column of 1024 places and reads
// every place back, for densities on both sides of the switch to dense.
func TestStrCol(t *testing.T) {
	const size = 1024
	for _, tc := range []struct {
		every     int
		wantDense bool
	}{
		{size + 1, false}, // none set
		{97, false},
		{9, false}, // 114 of 1024: under an eighth
		{7, true},  // 147: dense
		{1, true},
	} {
		want := make([]strID, size)
		for k := range want {
			if k%tc.every == 0 && tc.every <= size {
				want[k] = strID(k + 1)
			}
		}
		// One place at a time, and in runs of 100 (setRun).
		var one, runs strCol
		for k := range uint32(size) {
			one.set(k, want[k], size)
		}
		for k := 0; k < size; k += 100 {
			runs.setRun(uint32(k), want[k:min(k+100, size)], size)
		}
		for _, c := range []*strCol{&one, &runs} {
			if (c.dense != nil) != tc.wantDense {
				t.Errorf("every %d: dense %v, want %v", tc.every, c.dense != nil, tc.wantDense)
			}
			for k := range uint32(size) {
				if got := c.get(k); got != want[k] {
					t.Fatalf("every %d: get(%d) = %d, want %d", tc.every, k, got, want[k])
				}
			}
		}
	}
}
