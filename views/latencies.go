package views

import (
	"slices"
	"sort"
	"time"
)

// blockLen is the length a block of latencies is cut to; blocks grow to
// twice that before they are cut again. Half a KiB: an insert moves at
// most one block (BenchmarkLatencyUpdate: 1024 was twice as slow at 2 M
// latencies, every insert landing in another block), and a quantile walks
// at most some 10^5 block lengths at 10 M latencies, from the nearer end.
const blockLen = 128

// latencies is a multiset of latencies in whole microseconds (as the
// store keeps them), sorted, in blocks of at most 2·blockLen. Folding in
// or taking back a batch of b values moves only the blocks they land in,
// O(b·blockLen) instead of every latency of the group, and the nearest-rank
// quantiles stay exact.
type latencies struct {
	blocks [][]uint32 // each sorted and non-empty; the last of one ≤ the first of the next
	n      int
}

// len is the number of latencies kept.
func (l *latencies) len() int { return l.n }

// add folds in a sorted batch, and keeps it: into an empty set (a
// rebuild), the batch is cut into blocks in place, with no copy, so the
// caller must not reuse it.
func (l *latencies) add(sorted []uint32) {
	if len(sorted) == 0 {
		return
	}
	l.n += len(sorted)
	if len(l.blocks) == 0 {
		l.blocks = cut(l.blocks, sorted)
		return
	}
	for len(sorted) > 0 {
		i := min(l.blockFor(sorted[0]), len(l.blocks)-1)
		b := l.blocks[i]
		// Every value up to the block's last goes into it; the last
		// block also takes what is above everything.
		k := len(sorted)
		if i < len(l.blocks)-1 {
			k, _ = slices.BinarySearch(sorted, b[len(b)-1]+1)
		}
		b = mergeInto(b, sorted[:k])
		sorted = sorted[k:]
		if len(b) <= 2*blockLen {
			l.blocks[i] = b
			continue
		}
		pieces := cut(nil, b)
		l.blocks = slices.Replace(l.blocks, i, i+1, pieces...)
	}
}

// remove takes back one occurrence of each value of a sorted batch;
// values not kept are ignored.
func (l *latencies) remove(sorted []uint32) {
	for _, v := range sorted {
		i := l.blockFor(v)
		if i == len(l.blocks) {
			return // above everything kept, as is the rest of the batch
		}
		b := l.blocks[i]
		j, found := slices.BinarySearch(b, v)
		if !found {
			continue
		}
		l.n--
		if len(b) == 1 {
			l.blocks = slices.Delete(l.blocks, i, i+1)
			continue
		}
		l.blocks[i] = slices.Delete(b, j, j+1)
	}
}

// merge folds in the latencies of o, which is not to be used afterwards.
func (l *latencies) merge(o *latencies) {
	switch {
	case o.n == 0:
		return
	case l.n == 0:
		*l = *o
		return
	}
	all := mergeInto(l.flat(o.n), o.flat(0))
	l.blocks, l.n = cut(nil, all), len(all)
}

// flat is a copy of the latencies, in one sorted slice with room for
// extra more.
func (l *latencies) flat(extra int) []uint32 {
	out := make([]uint32, 0, l.n+extra)
	for _, b := range l.blocks {
		out = append(out, b...)
	}
	return out
}

// blockFor is the first block whose last value is ≥ v: where v is or
// would go; len(blocks) when v is above everything, for remove (add then
// uses the last block).
func (l *latencies) blockFor(v uint32) int {
	i := sort.Search(len(l.blocks), func(i int) bool {
		b := l.blocks[i]
		return b[len(b)-1] >= v
	})
	return i
}

// quantile is the nearest-rank quantile q; 0 when empty (as quantile
// over a sorted slice).
func (l *latencies) quantile(q float64) time.Duration {
	if l.n == 0 {
		return 0
	}
	r := max(0, min(int(q*float64(l.n)+0.999999999)-1, l.n-1))
	if r < l.n/2 {
		for _, b := range l.blocks {
			if r < len(b) {
				return time.Duration(b[r]) * time.Microsecond
			}
			r -= len(b)
		}
	}
	// From the back: P99 is near the end.
	r = l.n - 1 - r // rank from the end
	for i := len(l.blocks) - 1; i >= 0; i-- {
		b := l.blocks[i]
		if r < len(b) {
			return time.Duration(b[len(b)-1-r]) * time.Microsecond
		}
		r -= len(b)
	}
	return 0 // not reached: the blocks hold n values
}

// cut appends sorted to blocks in pieces of blockLen, each capped so that
// growing one block never writes over the next.
func cut(blocks [][]uint32, sorted []uint32) [][]uint32 {
	for len(sorted) > 0 {
		k := min(blockLen, len(sorted))
		blocks = append(blocks, sorted[:k:k])
		sorted = sorted[k:]
	}
	return blocks
}

// mergeInto merges sorted b into sorted a, in place from the back.
func mergeInto(a, b []uint32) []uint32 {
	i, j := len(a)-1, len(b)-1
	a = slices.Grow(a, len(b))[:len(a)+len(b)]
	for k := len(a) - 1; j >= 0; k-- {
		if i >= 0 && a[i] > b[j] {
			a[k] = a[i]
			i--
		} else {
			a[k] = b[j]
			j--
		}
	}
	return a
}
