package tui

import "github.com/kaudit/kaudit/store"

// shownCache remembers the events that redaction leaves as stored (no
// body, or nothing in it to hide), so that a later find does not check
// them again: for a regexp with a quote, every event is checked, and the
// check of a body is a walk over its members. An event's bytes never
// change, so a verdict stays true. A find's workers only read a cache;
// what they learn comes back with the find (foundMsg) and is merged on the
// UI goroutine into a new cache, copied on write. The IDs are of one ID
// base of the store (base): a rebase makes the cache useless, and it is
// dropped (see rebase.go), never read as of other events.
type shownCache struct {
	bits []uint64
	base uint64
}

// in is c when it is of ID base base, else nil.
func (c *shownCache) in(base uint64) *shownCache {
	if c == nil || c.base != base {
		return nil
	}
	return c
}

// has reports whether event id is known to be shown as stored.
func (c *shownCache) has(id store.ID) bool {
	if c == nil {
		return false
	}
	w := int(id >> 6)
	return w < len(c.bits) && c.bits[w]&(1<<(id&63)) != 0
}

// with returns a cache that also knows ids, of ID base base (c itself
// when ids is empty or of an older base than c's; a cache of its own when
// c's is older).
func (c *shownCache) with(ids []uint32, base uint64) *shownCache {
	switch {
	case len(ids) == 0 || c != nil && c.base > base:
		return c
	case c != nil && c.base < base:
		c = nil
	}
	top := 0
	for _, id := range ids {
		top = max(top, int(id>>6)+1)
	}
	out := &shownCache{base: base}
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
