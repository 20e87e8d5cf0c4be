package views

import (
	"maps"
	"runtime"
	"slices"
	"sync"

	"github.com/kaudit/kaudit/store"
)

// splitMin is the fewest requests BuildAggregate splits between
// goroutines: below it the goroutines and the merge cost more than they
// save (a variable for tests, which split a few thousand requests).
var splitMin uint64 = 1 << 15

// BuildAggregate returns view v's aggregate over requests, as NewAggregate
// then Add would, keeping at most top rows. Over many requests it cuts
// them into parts ranges of IDs (parts ≤ 0: one per usable core),
// aggregates each part on its own goroutine and merges the parts in ID
// order: a headless replay builds its view after the last event is
// stored, when nothing else runs, and one core would do it alone.
func BuildAggregate(st *store.Store, requests *store.Set, v View, top, parts int) (*Aggregate, error) {
	if parts <= 0 {
		parts = runtime.GOMAXPROCS(0)
	}
	n := requests.GetCardinality()
	if n < splitMin || parts < 2 {
		a, err := NewAggregate(v, top)
		if err != nil {
			return nil, err
		}
		a.Add(st, requests)
		return a, nil
	}
	if v == ViewLatency && top <= 0 {
		return buildRanking(st, requests, parts), nil
	}
	sets := splitSet(requests, parts)
	aggs := make([]*Aggregate, len(sets))
	for i := range aggs {
		a, err := NewAggregate(v, top)
		if err != nil {
			return nil, err
		}
		aggs[i] = a
	}
	a := aggs[0]
	var wg sync.WaitGroup
	for i := range sets {
		wg.Go(func() {
			aggs[i].Add(st, sets[i])
			if a.groups == nil {
				aggs[i].Flush() // sorts here, on this goroutine, not in Merge
			}
		})
	}
	wg.Wait()
	if a.groups == nil {
		for _, b := range aggs[1:] {
			a.Merge(b)
		}
		return a, nil
	}
	// Grouped: the parts' counts are added up here (a few hundred groups),
	// and each group's latencies, from every part at once, are sorted on
	// the goroutines; merging sorted parts was a tenth of the work, alone.
	for _, b := range aggs[1:] {
		a.mergePending(b)
	}
	// Largest first: the goroutines then end at about the same time (one
	// user can make a sixth of a log's requests).
	bySize := slices.SortedFunc(maps.Values(a.groups), func(x, y *aggGroup) int { return y.requests - x.requests })
	groups := make(chan *aggGroup, len(bySize))
	for _, g := range bySize {
		groups <- g
	}
	close(groups)
	for range min(len(sets), len(a.groups)) {
		wg.Go(func() {
			var scratch []uint32
			for g := range groups {
				scratch = g.flushPending(scratch)
			}
		})
	}
	wg.Wait()
	return a, nil
}

// buildRanking is the uncapped latency view split in parts: the entries
// of the ranked requests are read on the goroutines into their places of
// one slice, then sorted (merging parts would copy every entry again, and
// hold it twice).
func buildRanking(st *store.Store, requests *store.Set, parts int) *Aggregate {
	a, _ := NewAggregate(ViewLatency, 0)
	sets := splitSet(st.Select(requests, a.counted), parts)
	offs := make([]int, len(sets)+1) // part i fills slow[offs[i]:offs[i+1]]
	for i, set := range sets {
		offs[i+1] = offs[i] + int(set.GetCardinality())
	}
	a.slow = make([]slowReq, offs[len(sets)])
	filled := make([]int, len(sets))
	var wg sync.WaitGroup
	for i := range sets {
		wg.Go(func() {
			part := a.slow[offs[i]:offs[i+1]]
			st.EachColumns(sets[i], a.cols, func(e *store.Entry) bool {
				part[filled[i]].e = *e
				filled[i]++
				return true
			})
		})
	}
	wg.Wait()
	// Each leaves out what retention dropped meanwhile: close the gaps.
	n := 0
	for i := range sets {
		n += copy(a.slow[n:], a.slow[offs[i]:offs[i]+filled[i]])
	}
	clear(a.slow[n:])
	a.slow, a.unsorted = a.slow[:n], true
	a.sortSlow()
	return a
}

// splitSet cuts set into parts sets of consecutive IDs of (nearly) the
// same size, in ID order. Every ID of set is in exactly one of them.
func splitSet(set *store.Set, parts int) []*store.Set {
	n := set.GetCardinality()
	parts = int(min(uint64(parts), max(n, 1)))
	out := make([]*store.Set, 0, parts)
	lo := uint64(0) // the first ID of the part being cut
	for i := 1; i < parts; i++ {
		at, err := set.Select(uint32(n * uint64(i) / uint64(parts)))
		if err != nil {
			break // not reached: the rank is below n
		}
		out = append(out, rangeOf(set, lo, uint64(at)))
		lo = uint64(at)
	}
	return append(out, rangeOf(set, lo, 1<<32))
}

// rangeOf is the IDs of set in [lo, hi).
func rangeOf(set *store.Set, lo, hi uint64) *store.Set {
	part := set.Clone()
	part.RemoveRange(hi, 1<<32)
	part.RemoveRange(0, lo)
	return part
}

// rowsSplitMin is the fewest rows inRanges splits between goroutines.
var rowsSplitMin = 1 << 14

// inRanges calls fn over [0, n) cut into consecutive ranges, one per
// usable core, each on its own goroutine, and returns when all are done;
// for fewer than rowsSplitMin, fn(0, n) on this goroutine. Writing rows
// of a big table (latency, events: a million rows) is so split.
func inRanges(n int, fn func(lo, hi int)) {
	parts := runtime.GOMAXPROCS(0)
	if n < rowsSplitMin || parts < 2 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	for p := range parts {
		wg.Go(func() { fn(n*p/parts, n*(p+1)/parts) })
	}
	wg.Wait()
}

// inOrder hands write what render appends of rows [0, n), block (rows)
// by block in order, with the first row of each block; with several cores
// and at least two blocks, a few blocks at a time are rendered on
// goroutines of their own (memory stays a few blocks' worth).
func inOrder(n, block int, render func(buf []byte, lo, hi int) []byte, write func(lo int, b []byte)) {
	parts := runtime.GOMAXPROCS(0)
	if n < 2*block {
		parts = 1
	}
	bufs := make([][]byte, 2*parts)
	for lo := 0; lo < n; lo += len(bufs) * block {
		var wg sync.WaitGroup
		for j := range bufs {
			from, to := min(n, lo+j*block), min(n, lo+(j+1)*block)
			if parts == 1 {
				bufs[j] = render(bufs[j][:0], from, to)
				continue
			}
			wg.Go(func() { bufs[j] = render(bufs[j][:0], from, to) })
		}
		wg.Wait()
		for j, b := range bufs {
			if from := lo + j*block; from < n {
				write(from, b)
			}
		}
	}
}
