package tui

import (
	"testing"

	"github.com/kaudit/kaudit/store"
)

// The timeline's sparkline counts every request the exact histogram
// counts, each in its bucket or, when its slot straddles a boundary, the
// bucket before: running totals differ by at most one slot's requests.
func TestTimelineMatchesHistogram(t *testing.T) {
	st := genStore(t, 20000)
	set := st.Requests()
	from, to := st.Entry(st.First()).Time.UnixNano(), st.Entry(uint32(st.Len()-1)).Time.UnixNano()+1
	tl := newTimeline()
	tl.fit(st.TimeSpan())
	tl.add(st, set, 1)
	if tl.width <= timelineUnit || len(tl.slots) > timelineSlots+1 {
		t.Fatalf("width %d ns, %d slots for a %d ns span", tl.width, len(tl.slots), to-from)
	}
	maxSlot := 0
	for _, c := range tl.slots {
		maxSlot = max(maxSlot, int(c[0]))
	}
	for _, buckets := range []int{10, 50, 90} {
		got := tl.histogram(from, to, buckets)
		counts, denied, errors := exactHistogram(st, set, from, to, buckets)
		for i, pair := range [][2][]int{{got.counts, counts}, {got.denied, denied}, {got.errors, errors}} {
			sumGot, sumWant := 0, 0
			for b := range buckets {
				sumGot += pair[0][b]
				sumWant += pair[1][b]
				if d := sumGot - sumWant; d < 0 || d > maxSlot {
					t.Fatalf("%d buckets, series %d: running totals %d vs %d at bucket %d (one slot holds at most %d)", buckets, i, sumGot, sumWant, b, maxSlot)
				}
			}
			if sumGot != sumWant {
				t.Errorf("%d buckets, series %d: %d counted, the exact histogram %d", buckets, i, sumGot, sumWant)
			}
		}
		if sum(counts) == 0 || sum(denied) == 0 {
			t.Fatal("no requests or no denials in the generated data: the test tests little")
		}
	}
	// Taking requests out leaves nothing behind.
	tl.add(st, set, -1)
	if len(tl.slots) != 0 {
		t.Errorf("%d slots left after taking every request out", len(tl.slots))
	}
}

// exactHistogram puts each request in the bucket of its own time.
func exactHistogram(st *store.Store, set *store.Set, from, to int64, buckets int) (counts, denied, errors []int) {
	counts, denied, errors = make([]int, buckets), make([]int, buckets), make([]int, buckets)
	span := float64(to - from)
	st.Times(set, func(t int64, d, e bool) {
		if t < from || t >= to {
			return
		}
		b := min(int(float64(t-from)/span*float64(buckets)), buckets-1)
		counts[b]++
		if d {
			denied[b]++
		}
		if e {
			errors[b]++
		}
	})
	return counts, denied, errors
}

func sum(xs []int) int {
	n := 0
	for _, x := range xs {
		n += x
	}
	return n
}
