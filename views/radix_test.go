package views

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// sortMicros agrees with slices.Sort on small and large batches, with
// values that share their high bytes (latencies), that differ in every
// byte, and that are all equal.
func TestSortMicros(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct {
		name string
		n    int
		gen  func() uint32
	}{
		{"small", 100, func() uint32 { return uint32(rng.IntN(1e9)) }},
		{"latencies", 50_000, func() uint32 { return uint32(rng.ExpFloat64() * 20_000) }},
		{"every byte", 20_000, rng.Uint32},
		{"equal", 10_000, func() uint32 { return 7000 }},
		{"one byte", 10_000, func() uint32 { return uint32(rng.IntN(256)) }},
		{"top byte", 10_000, func() uint32 { return uint32(rng.IntN(256)) << 24 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := make([]uint32, c.n)
			for i := range d {
				d[i] = c.gen()
			}
			want := slices.Clone(d)
			slices.Sort(want)
			sortMicros(d)
			if !slices.Equal(d, want) {
				t.Fatal("differs from slices.Sort")
			}
		})
	}
}

func BenchmarkSortMicros(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	src := make([]uint32, 1_000_000)
	for i := range src {
		src[i] = uint32(rng.ExpFloat64() * 20_000)
	}
	d := make([]uint32, len(src))
	for _, s := range []struct {
		name string
		sort func([]uint32)
	}{{"radix", sortMicros}, {"pdqsort", slices.Sort[[]uint32]}} {
		b.Run(s.name, func(b *testing.B) {
			for b.Loop() {
				copy(d, src)
				s.sort(d)
			}
		})
	}
}
