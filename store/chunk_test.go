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
		{5, false}, // 205 of 1024: under a quarter
		{3, true},  // 342: dense
		{1, true},
	} {
		var c strCol
		for k := range uint32(size) {
			id := strID(0)
			if int(k)%tc.every == 0 && tc.every <= size {
				id = strID(k + 1)
			}
			c.set(k, id, size)
		}
		if (c.dense != nil) != tc.wantDense {
			t.Errorf("every %d: dense %v, want %v", tc.every, c.dense != nil, tc.wantDense)
		}
		for k := range uint32(size) {
			want := strID(0)
			if int(k)%tc.every == 0 && tc.every <= size {
				want = strID(k + 1)
			}
			if got := c.get(k); got != want {
				t.Fatalf("every %d: get(%d) = %d, want %d", tc.every, k, got, want)
			}
		}
	}
}
