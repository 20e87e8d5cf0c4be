package views

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// latencies agrees with a sorted slice (and quantile over it) through
// batches of additions and removals of every size: into an empty set,
// below, inside and above what is kept, with duplicates, with values not
// kept, down to empty and up again.
func TestLatencies(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var l latencies
	var ref []uint32
	check := func(step string) {
		t.Helper()
		if l.len() != len(ref) {
			t.Fatalf("%s: len %d, want %d", step, l.len(), len(ref))
		}
		var all []uint32
		for _, b := range l.blocks {
			if len(b) == 0 || len(b) > 2*blockLen {
				t.Fatalf("%s: block of %d", step, len(b))
			}
			all = append(all, b...)
		}
		if !slices.Equal(all, ref) {
			t.Fatalf("%s: blocks differ from the sorted reference", step)
		}
		want := make([]time.Duration, len(ref))
		for i, v := range ref {
			want[i] = time.Duration(v) * time.Microsecond
		}
		for _, q := range []float64{0, 0.01, 0.5, 0.9, 0.99, 0.999, 1} {
			if got, w := l.quantile(q), quantile(want, q); got != w {
				t.Fatalf("%s: quantile %v = %v, want %v", step, q, got, w)
			}
		}
	}
	gen := func(n int, hi int) []uint32 {
		b := make([]uint32, n)
		for i := range b {
			b[i] = uint32(rng.IntN(hi))
		}
		sortMicros(b)
		return b
	}
	check("empty")
	for _, c := range []struct {
		add, del, hi int
	}{
		{10, 0, 100}, {5000, 0, 1e6}, {1, 3, 1e6}, {20_000, 0, 1e4}, {3000, 1000, 2e6},
		{50_000, 0, 1 << 31}, {100, 20_000, 1e6}, {7, 7, 10}, {0, 200_000, 1e6}, {4097, 0, 50},
	} {
		add := gen(c.add, c.hi)
		ref = append(ref, add...)
		slices.Sort(ref)
		l.add(slices.Clone(add))
		check("add")
		// Remove some kept values and some that are not.
		var del []uint32
		for range c.del {
			if len(ref) > 0 && rng.IntN(4) > 0 {
				del = append(del, ref[rng.IntN(len(ref))])
			} else {
				del = append(del, uint32(rng.IntN(c.hi+10)))
			}
		}
		sortMicros(del)
		for _, v := range del {
			if i, ok := slices.BinarySearch(ref, v); ok {
				ref = slices.Delete(ref, i, i+1)
			}
		}
		l.remove(del)
		check("remove")
	}
	// Down to empty, and up again.
	l.remove(slices.Clone(ref))
	ref = nil
	check("emptied")
	ref = gen(3000, 1e5)
	l.add(slices.Clone(ref))
	check("refilled")
}

// merge agrees with a sorted slice of both sides' latencies, empty sides
// included.
func TestLatenciesMerge(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	gen := func(n int) []uint32 {
		b := make([]uint32, n)
		for i := range b {
			b[i] = uint32(rng.IntN(1e6))
		}
		sortMicros(b)
		return b
	}
	for _, c := range []struct{ a, b int }{{0, 0}, {0, 10}, {10, 0}, {5000, 7}, {3, 9000}, {20_000, 30_000}} {
		x, y := gen(c.a), gen(c.b)
		want := append(slices.Clone(x), y...)
		slices.Sort(want)
		var l, o latencies
		l.add(x)
		o.add(y)
		l.merge(&o)
		if got := l.flat(0); l.len() != len(want) || !slices.Equal(got, want) && len(want) > 0 {
			t.Errorf("merge of %d and %d: %d values, differ from the sorted reference", c.a, c.b, l.len())
		}
		for _, b := range l.blocks {
			if len(b) == 0 || len(b) > 2*blockLen {
				t.Errorf("merge of %d and %d: block of %d", c.a, c.b, len(b))
			}
		}
	}
}

// BenchmarkLatencyUpdate is one live update of a busy group (BenchmarkApply
// /users at 10 M events): 2,000 new latencies folded into n kept ones,
// 2,000 taken back, and P50 and P99 read. "slice" is the sorted slice
// the blocks replaced (merge, then remove, moving every latency);
// "blocks" is latencies.
func BenchmarkLatencyUpdate(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 8))
	lat := func() uint32 { return uint32(rng.ExpFloat64()*20_000) + 1 }
	for _, n := range []int{100_000, 2_000_000} {
		base := make([]uint32, n)
		for i := range base {
			base[i] = lat()
		}
		sortMicros(base)
		add := make([]uint32, 2000)
		for i := range add {
			add[i] = lat()
		}
		sortMicros(add)
		b.Run(fmt.Sprintf("slice/%d", n), func(b *testing.B) {
			s := slices.Clone(base)
			for b.Loop() {
				s = mergeSorted(s, add)
				s = removeSorted(s, add)
				_, _ = s[len(s)/2], s[len(s)*99/100]
			}
		})
		b.Run(fmt.Sprintf("blocks/%d", n), func(b *testing.B) {
			var l latencies
			l.add(slices.Clone(base))
			for b.Loop() {
				l.add(slices.Clone(add)) // add keeps its batch
				l.remove(add)
				_, _ = l.quantile(0.5), l.quantile(0.99)
			}
		})
	}
}

// mergeSorted and removeSorted are the sorted slice's update, for
// BenchmarkLatencyUpdate.
func mergeSorted(a, b []uint32) []uint32 { return mergeInto(a, b) }

func removeSorted(a, del []uint32) []uint32 {
	out, j := a[:0], 0
	for _, v := range a {
		for j < len(del) && del[j] < v {
			j++
		}
		if j < len(del) && del[j] == v {
			j++
			continue
		}
		out = append(out, v)
	}
	return out
}
