package views

import "slices"

// radixMin is the batch size from which sortMicros radix sorts: below it
// pdqsort is as fast and needs no second buffer.
const radixMin = 4096

// sortMicros sorts d in increasing order. A rebuild folds in a whole
// group's latencies at once (millions for a busy user of a 10 M event
// log), and pdqsort was half of a Users rebuild; a least-significant-byte
// radix sort is linear, and skips the bytes every value shares (most
// latencies are below 2^24 µs, so the high byte is all zero).
func sortMicros(d []uint32) { sortMicrosWith(d, nil) }

// sortMicrosWith is sortMicros with scratch room for the radix passes,
// grown if too small; it returns the scratch for the next sort (a build
// sorting many groups on one goroutine allocates it once).
func sortMicrosWith(d, scratch []uint32) []uint32 {
	if len(d) < radixMin {
		slices.Sort(d)
		return scratch
	}
	var counts [4][256]int
	for _, v := range d {
		counts[0][byte(v)]++
		counts[1][byte(v>>8)]++
		counts[2][byte(v>>16)]++
		counts[3][byte(v>>24)]++
	}
	if cap(scratch) < len(d) {
		scratch = make([]uint32, len(d))
	}
	src, dst := d, scratch[:len(d)]
	for b := range counts {
		c := &counts[b]
		shift := 8 * b
		if c[byte(src[0]>>shift)] == len(src) {
			continue // every value has this byte: the pass would not move any
		}
		at := 0
		for i, n := range c {
			c[i], at = at, at+n
		}
		for _, v := range src {
			k := byte(v >> shift)
			dst[c[k]] = v
			c[k]++
		}
		src, dst = dst, src
	}
	if &src[0] != &d[0] {
		copy(d, src)
	}
	return scratch
}
