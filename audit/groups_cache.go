package audit

import (
	"hash/maphash"
	"sync/atomic"
)

// Shared group lists. Almost every event carries a groups array, one
// allocation each, and a log repeats a few dozen lists millions of times
// (["system:serviceaccounts","system:serviceaccounts:kube-system",
// "system:authenticated"]). A compact array of plain strings is looked up
// by its bytes among lists seen before, and the list found is shared:
// a slice with no spare capacity, its strings owned by the cache (not
// views into the input), which nothing in kaudit writes into (a decoder
// that reuses a groups slice, as encoding/json does for a repeated key,
// copies it first: see groupsReusing).

// groupEntry is one remembered list and the bytes it was decoded from.
type groupEntry struct {
	raw    string
	groups []string
}

// groupSlots is the cache: direct-mapped by a hash of the array's bytes,
// shared by every decoding goroutine (a slot is replaced whole).
var (
	groupSlots [256]atomic.Pointer[groupEntry]
	groupSeed  = maphash.MakeSeed()
)

// Lists longer than these are decoded each time.
const (
	maxCachedGroups    = 16
	maxCachedGroupsLen = 512
)

// cachedGroups decodes the array at d.pos ('[') when it is a compact
// array of one to maxCachedGroups plain strings, through the cache; false
// means it did not and nothing has moved.
func (d *decoder) cachedGroups() ([]string, bool) {
	data, start := d.data, d.pos
	if d.depth >= maxDepth {
		return nil, false
	}
	var ends [maxCachedGroups][2]int // each string's body
	n, p := 0, start+1
	for {
		if n == maxCachedGroups || p >= len(data) || data[p] != '"' {
			return nil, false
		}
		end := d.win.quickEnd(data, p+1)
		if end < 0 {
			end = d.win.plainEndAt(data, p+1)
		}
		if end < 0 || end+1 >= len(data) {
			return nil, false
		}
		ends[n] = [2]int{p + 1 - start, end - start}
		n++
		p = end + 1
		if data[p] == ']' {
			break
		}
		if data[p] != ',' {
			return nil, false
		}
		p++
	}
	raw := data[start : p+1]
	if len(raw) > maxCachedGroupsLen {
		return nil, false
	}
	slot := &groupSlots[maphash.Bytes(groupSeed, raw)%uint64(len(groupSlots))]
	if e := slot.Load(); e != nil && e.raw == bytesString(raw) {
		d.pos = p + 1
		return e.groups, true
	}
	e := &groupEntry{raw: string(raw), groups: make([]string, n)}
	for i, se := range ends[:n] {
		e.groups[i] = e.raw[se[0]:se[1]]
	}
	slot.Store(e)
	d.pos = p + 1
	return e.groups, true
}
