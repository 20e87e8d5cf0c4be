package views

import (
	"slices"
	"sort"
)

// Flush does the sorting folding requests in left for Table (the grouped
// views' latencies, the uncapped latency ranking): a builder on another
// goroutine does that work there, before Merge.
func (a *Aggregate) Flush() {
	for _, g := range a.groups {
		g.flush()
	}
	a.sortSlow()
}

// Merge folds b, an aggregate of the same view and top over other
// requests, into a; b is not to be used afterwards. Merged in ID order
// (a's requests before b's), the table is the one a single aggregate
// over both would write: a rebuild over millions of requests is split
// between the cores this way.
func (a *Aggregate) Merge(b *Aggregate) {
	a.total += b.total
	switch {
	case a.groups != nil:
		a.mergeGroups(b)
	case a.denials != nil:
		a.mergeDenials(b)
	default:
		a.mergeSlow(b)
	}
}

func (a *Aggregate) mergeGroups(b *Aggregate) {
	for k, bg := range b.groups {
		bg.flush()
		g := a.groups[k]
		if g == nil {
			a.groups[k] = bg // a's byRow finds it by its key when a row of it comes
			continue
		}
		g.flush()
		g.addCounts(bg)
		g.lat.merge(&bg.lat)
	}
}

// addCounts adds b's request, denial and 5xx counts to g's.
func (g *aggGroup) addCounts(b *aggGroup) {
	g.requests += b.requests
	g.denied += b.denied
	g.errors5x += b.errors5x
}

// mergePending is mergeGroups for a and b built from scratch and not
// flushed yet: b's pending latencies join a's, to be sorted once.
func (a *Aggregate) mergePending(b *Aggregate) {
	a.total += b.total
	for k, bg := range b.groups {
		g := a.groups[k]
		if g == nil {
			a.groups[k] = bg
			continue
		}
		g.addCounts(bg)
		g.moreLat = append(g.moreLat, bg.addLat)
	}
}

// flushPending joins a group's pending latencies from every part into one
// slice of their exact length, then flushes with scratch (returned for the
// next group): a split build allocates about what one goroutine would.
func (g *aggGroup) flushPending(scratch []uint32) []uint32 {
	if len(g.moreLat) > 0 {
		g.addLat, g.moreLat = slices.Concat(slices.Insert(g.moreLat, 0, g.addLat)...), nil
	}
	return g.flushWith(scratch)
}

// mergeDenials keeps what addDenial would have: the earliest time (and how
// many requests had it), and the kind and reason of the latest request,
// the later ID among those at the same time.
func (a *Aggregate) mergeDenials(b *Aggregate) {
	for k, bd := range b.denials {
		d := a.denials[k]
		if d == nil {
			a.denials[k] = bd
			continue
		}
		d.count += bd.count
		switch {
		case bd.first.Before(d.first):
			d.first, d.firstN = bd.first, bd.firstN
		case bd.first.Equal(d.first):
			d.firstN += bd.firstN
		}
		if bd.last.After(d.last) || bd.last.Equal(d.last) && bd.lastID > d.lastID {
			d.last, d.lastID = bd.last, bd.lastID
			d.kind, d.reason = bd.kind, bd.reason
		}
	}
}

// mergeSlow merges two rankings. Capped, each side keeps the exact head
// of its own ranking; a side that dropped requests says nothing of what
// ranks below its last kept one, so the merge keeps only what ranks at or
// above that (and at most the cap): the exact head of the whole ranking.
func (a *Aggregate) mergeSlow(b *Aggregate) {
	a.sortSlow()
	b.sortSlow()
	merged := make([]slowReq, 0, len(a.slow)+len(b.slow))
	i, j := 0, 0
	for i < len(a.slow) && j < len(b.slow) {
		if rankLess(&b.slow[j].e, &a.slow[i].e) {
			merged = append(merged, b.slow[j])
			j++
		} else {
			merged = append(merged, a.slow[i])
			i++
		}
	}
	merged = append(append(merged, a.slow[i:]...), b.slow[j:]...)
	if a.top > 0 {
		keep := min(len(merged), a.top*slack)
		for _, side := range []*Aggregate{a, b} {
			if !side.dropped {
				continue
			}
			if len(side.slow) == 0 {
				keep = 0
				continue
			}
			last := &side.slow[len(side.slow)-1].e
			keep = min(keep, sort.Search(len(merged), func(i int) bool { return rankLess(last, &merged[i].e) }))
		}
		a.dropped = a.dropped || b.dropped || keep < len(merged)
		merged = merged[:keep]
	}
	a.slow = merged
}
