package tui

import "github.com/kaudit/kaudit/store"

// shownCache remembers the events that redaction leaves as stored (no
// body, or nothing in it to hide), so that a later find does not check
// them again: for a regexp with a quote, every event is checked, and the
// check of a body is a walk over its members. An event's bytes never
// change, so a verdict stays true. A find's workers only read a cache;
// what they learn comes back with the find (foundMsg) and is merged on the
// UI goroutine into a new cache, copied on write.
type shownCache struct{ bits []uint64 }

// has reports whether event id is known to be shown as stored.
func (c *shownCache) has(id store.ID) bool {
	if c == nil {
		return false
	}
	w := int(id >> 6)
	return w < len(c.bits) && c.bits[w]&(1<<(id&63)) != 0
}

// with returns a cache that also knows ids (c itself when ids is empty).
func (c *shownCache) with(ids []uint32) *shownCache {
	if len(ids) == 0 {
		return c
	}
	top := 0
	for _, id := range ids {
		top = max(top, int(id>>6)+1)
	}
	out := &shownCache{}
	if c != nil {
		top = max(top, len(c.bits))
		out.bits = make([]uint64, top)
		copy(out.bits, c.bits)
	} else {
		out.bits = make([]uint64, top)
	}
	for _, id := range ids {
		out.bits[id>>6] |= 1 << (id & 63)
	}
	return out
}
