package views

import (
	"slices"
	"time"
)

// radixMin is the batch size from which sortDurations radix sorts: below
// it pdqsort is as fast and needs no second buffer.
const radixMin = 4096

// sortDurations sorts d in increasing order. A rebuild folds in a whole
// group's latencies at once (millions for a busy user of a 10 M event
// log), and pdqsort was half of a Users rebuild; a least-significant-byte
// radix sort is linear, and skips the bytes every value shares (a latency
// is far below 2^63 ns, so the high bytes are all zero).
func sortDurations(d []time.Duration) {
	if len(d) < radixMin {
		slices.Sort(d)
		return
	}
	var counts [8][256]int
	for _, v := range d {
		if v < 0 {
			slices.Sort(d) // never for latencies; keeps the order right if it happens
			return
		}
		u := uint64(v)
		for b := range counts {
			counts[b][byte(u>>(8*b))]++
		}
	}
	src, dst := d, make([]time.Duration, len(d))
	for b := range counts {
		c := &counts[b]
		if c[byte(uint64(src[0])>>(8*b))] == len(src) {
			continue // every value has this byte: the pass would not move any
		}
		at := 0
		for i, n := range c {
			c[i], at = at, at+n
		}
		shift := 8 * b
		for _, v := range src {
			k := byte(uint64(v) >> shift)
			dst[c[k]] = v
			c[k]++
		}
		src, dst = dst, src
	}
	if &src[0] != &d[0] {
		copy(d, src)
	}
}
