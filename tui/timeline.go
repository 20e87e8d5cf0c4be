package tui

import (
	"github.com/kaudit/kaudit/store"
)

// timeline counts a filter's requests per time slot, so the sparkline
// follows live data without walking every kept request on each apply (at a
// million requests that walk was nearly all of an apply's cost). Slots are
// aligned on absolute time and their width is a function of the data's
// time span only, so counts folded in one apply at a time equal those of a
// rebuild over the same requests. The width follows the store's whole time
// span (store.TimeSpan), which only grows, so slots only ever merge.
//
// Goroutines: part of a liveState; one owner at a time.
type timeline struct {
	width int64 // slot width, ns: timelineUnit × a power of two
	slots map[int64]*[3]int32
}

const (
	timelineUnit  = int64(1e6) // 1 ms: the finest slot
	timelineSlots = 4096       // at most this many slots across the span
)

func newTimeline() *timeline {
	return &timeline{width: timelineUnit, slots: map[int64]*[3]int32{}}
}

// widthFor is the slot width for a time span: the narrowest that keeps the
// span within timelineSlots.
func widthFor(span int64) int64 {
	w := timelineUnit
	for span/w >= timelineSlots {
		w *= 2
	}
	return w
}

// fit widens the slots for span, merging pairs (exact: floor(t/2w) is
// floor(floor(t/w)/2)).
func (tl *timeline) fit(span int64) {
	for w := widthFor(span); tl.width < w; tl.width *= 2 {
		merged := make(map[int64]*[3]int32, len(tl.slots)/2+1)
		for s, c := range tl.slots {
			m := merged[s>>1]
			if m == nil {
				m = &[3]int32{}
				merged[s>>1] = m
			}
			for i := range c {
				m[i] += c[i]
			}
		}
		tl.slots = merged
	}
}

// add folds set's requests in (sign 1) or takes them out (sign -1).
func (tl *timeline) add(st *store.Store, set *store.Set, sign int32) {
	if set.IsEmpty() {
		return
	}
	st.Times(set, func(t int64, denied, serverError bool) {
		if t <= 0 {
			return // no stageTimestamp: not on the time axis
		}
		s := t / tl.width
		c := tl.slots[s]
		if c == nil {
			c = &[3]int32{}
			tl.slots[s] = c
		}
		c[0] += sign
		if denied {
			c[1] += sign
		}
		if serverError {
			c[2] += sign
		}
		if c[0] == 0 {
			delete(tl.slots, s)
		}
	})
}

// histogram spreads the slots over buckets equal spans of [from, to), by
// each slot's start (to within one slot: under a bucket's 1/20th at the
// widths the UI uses).
func (tl *timeline) histogram(from, to int64, buckets int) histogram {
	h := histogram{counts: make([]int, buckets), denied: make([]int, buckets), errors: make([]int, buckets)}
	if buckets <= 0 || to <= from {
		return h
	}
	span := float64(to - from)
	for s, c := range tl.slots {
		start := s * tl.width
		if start+tl.width <= from || start >= to {
			continue
		}
		b := min(max(int(float64(start-from)/span*float64(buckets)), 0), buckets-1)
		h.counts[b] += int(c[0])
		h.denied[b] += int(c[1])
		h.errors[b] += int(c[2])
	}
	return h
}

// addAt counts one time in (sign 1) or out (sign -1), in [0] only: the
// detections' hits per slot.
func (tl *timeline) addAt(t int64, sign int32) {
	s := t / tl.width
	c := tl.slots[s]
	if c == nil {
		c = &[3]int32{}
		tl.slots[s] = c
	}
	if c[0] += sign; c[0] == 0 {
		delete(tl.slots, s)
	}
}
