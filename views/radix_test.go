package views

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// sortDurations agrees with slices.Sort on small and large batches, with
// values that share their high bytes (latencies), that differ in every
// byte, that are all equal, and with a negative value.
func TestSortDurations(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct {
		name string
		n    int
		gen  func() time.Duration
	}{
		{"small", 100, func() time.Duration { return time.Duration(rng.IntN(1e9)) }},
		{"latencies", 50_000, func() time.Duration { return time.Duration(rng.IntN(1<<32)) * time.Microsecond }},
		{"every byte", 20_000, func() time.Duration { return time.Duration(rng.Int64()) }},
		{"equal", 10_000, func() time.Duration { return 7 * time.Millisecond }},
		{"one byte", 10_000, func() time.Duration { return time.Duration(rng.IntN(256)) }},
		{"negative", 10_000, func() time.Duration { return time.Duration(rng.IntN(2000) - 1) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := make([]time.Duration, c.n)
			for i := range d {
				d[i] = c.gen()
			}
			want := slices.Clone(d)
			slices.Sort(want)
			sortDurations(d)
			if !slices.Equal(d, want) {
				t.Fatal("differs from slices.Sort")
			}
		})
	}
}

func BenchmarkSortDurations(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	src := make([]time.Duration, 1_000_000)
	for i := range src {
		src[i] = time.Duration(rng.ExpFloat64()*20_000) * time.Microsecond
	}
	d := make([]time.Duration, len(src))
	for _, s := range []struct {
		name string
		sort func([]time.Duration)
	}{{"radix", sortDurations}, {"pdqsort", slices.Sort[[]time.Duration]}} {
		b.Run(s.name, func(b *testing.B) {
			for b.Loop() {
				copy(d, src)
				s.sort(d)
			}
		})
	}
}
