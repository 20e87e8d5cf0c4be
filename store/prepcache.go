package store

import (
	"encoding/binary"
	"math/bits"
	"strings"
	"unsafe"

	"github.com/kaudit/kaudit/audit"
)

// prepCache is Prepare's scratch: per column a direct-mapped cache of
// values found in the snapshot, in front of its maps. A chunk of events
// repeats few values per column (users, verbs, namespaces, user agents),
// and comparing a string to the one in its slot costs less than hashing
// it and probing a map.
//
// A slot is keyed by the value's length and two words loaded from it
// (its first and last 8 bytes, or 4, or 3 single bytes): for a value of
// up to 16 bytes those are all of its bytes, so a match needs no compare
// of the string, and for a longer one they (two more words folded into
// the second) pick the slot and rule out most mismatches before the
// compare. The same words make the slot's index, so no hash of the whole
// string is taken either.
//
// A slot keeps no view into the events: a long value's slot holds the
// snapshot's own copy of the string (the dictionary's, immutable), a short
// one only its words. So the cache outlives a call, and a worker's next
// chunk starts warm: it is kept per store, in a pool, and is valid for
// one key generation (an ID does not change within one: dictionaries
// only grow between compactions).
type prepCache struct {
	cols   [numStrCols][prepSlots]prepSlot // sets of two (see lookup), first: aligned
	gen    uint64                          // the key generation of the IDs held, if valid
	valid  bool
	groups [prepSlots]groupSlot // group lists, by the user's ID
	join   []byte
}

const (
	prepBits  = 8
	prepSlots = 1 << prepBits
)

// prepSlot is 32 bytes: a set of two (see lookup) is one cache line.
type prepSlot struct {
	w1, w2 uint64
	n      uint32 // 0: empty (the empty value is not cached)
	id     strID
	v      *byte // the snapshot's copy of the value, for n > 16
}

type groupSlot struct {
	user   strID
	id     strID
	joined string // the snapshot's copy of the NUL-joined list
}

// prepCols are the columns Prepare looks up: not the source (named after
// decoding) nor the group lists (looked up as lists).
var prepCols = [...]int{colUser, colImpersonated, colVerb, colAPIGroup, colAPIVersion, colResource,
	colSubresource, colNamespace, colName, colUserAgent, colSourceIP, colReason, colMessage,
	colPath, colDecision}

// cache returns a cache of the store's for IDs of snap's generation.
func (k *keyState) cache(snap *keySnap) *prepCache {
	c, _ := k.caches.Get().(*prepCache)
	if c == nil {
		c = new(prepCache)
	}
	if !c.valid || c.gen != snap.gen {
		clear(c.cols[:])
		clear(c.groups[:])
		c.gen, c.valid = snap.gen, true
	}
	return c
}

// prepare fills in the keys of events from snap: their fixed part and
// their string IDs (keyUnknown for a value the snapshot lacks).
//
// A projected store's dropped columns (project.go) are not looked up: their
// keys are 0 (""), and the writer interns nothing for them.
func (c *prepCache) prepare(snap *keySnap, p *projection, events []audit.Event, keys []audit.Keys) {
	all := p.dropped == 0
	groups, impGroups := p.dropped&GroupsCol == 0, p.dropped&ImpersonatedGroupsCol == 0
	for i := range events {
		e, k := &events[i], &keys[i]
		prepareFixed(e, k)
		k[kGen] = uint32(snap.gen)
		vals := prepValues(e)
		if all {
			for j, col := range prepCols {
				k[col] = c.lookup(col, snap, vals[j])
			}
		} else {
			for col := range numStrCols {
				k[col] = 0
			}
			for _, j := range p.prep {
				k[prepCols[j]] = c.lookup(prepCols[j], snap, vals[j])
			}
		}
		k[colSource] = keyUnknown
		k[colGroups], k[colImpersonatedGroups] = 0, 0
		if groups {
			k[colGroups] = c.lookupGroups(snap, k[colUser], e.User.Groups)
		}
		if g := e.Impersonated.Groups; len(g) > 0 && impGroups {
			k[colImpersonatedGroups] = c.lookupGroups(snap, keyUnknown, g)
		}
	}
}

// prepValues are e's values of prepCols: colValue's, read without a call
// through a function value per column (TestPrepValues holds them equal).
func prepValues(e *audit.Event) [len(prepCols)]string {
	var path string
	if e.Object.Resource == "" { // requestPath's own test, without its call (not inlined)
		path = requestPath(e)
	}
	return [...]string{e.User.Name, e.Impersonated.Name, e.Verb, e.Object.APIGroup, e.Object.APIVersion,
		e.Object.Resource, e.Object.Subresource, e.Object.Namespace, e.Object.Name, e.UserAgent,
		e.SourceIP, e.Reason, e.Message, path, e.Decision}
}

// lookup is the ID of v in snap's column col (keyUnknown if absent),
// through the cache.
func (c *prepCache) lookup(col int, snap *keySnap, v string) strID {
	n := len(v)
	if n == 0 {
		return 0
	}
	w1, w2 := valueWords(v)
	set := (*[2]prepSlot)(c.cols[col][slotOf(w1, w2, n)&^1:])
	for i := range set {
		if sl := &set[i]; sl.n == uint32(n) && sl.w1 == w1 && sl.w2 == w2 && (n <= 16 || unsafe.String(sl.v, n) == v) {
			return sl.id
		}
	}
	id, ok := snap.ids[col][v]
	if !ok {
		return keyUnknown
	}
	// Two ways: the newest first, the one it pushes out second (two
	// values of a column in one set, such as list and update, both stay).
	set[1], set[0] = set[0], prepSlot{w1: w1, w2: w2, n: uint32(n), id: id}
	if n > 16 {
		set[0].v = unsafe.StringData(snap.strs[col][id])
	}
	return id
}

// valueWords are the words a cache slot is keyed by (see prepCache) of a
// value of 1 or more bytes: for up to 16 bytes, with the length, they
// are the whole value.
func valueWords(v string) (w1, w2 uint64) {
	n := len(v)
	b := unsafe.Slice(unsafe.StringData(v), n)
	switch {
	case n > 16:
		// Compared in full on a match: two more words, from the middle
		// and near the end (where names differ: -158.ec2.internal,
		// -180.ec2.internal), are folded in only to spread values alike
		// at both ends over the slots.
		w2 = binary.LittleEndian.Uint64(b[n-8:]) ^ bits.RotateLeft64(binary.LittleEndian.Uint64(b[n-16:]), 29) ^
			bits.RotateLeft64(binary.LittleEndian.Uint64(b[n/2-4:]), 13)
		return binary.LittleEndian.Uint64(b), w2
	case n >= 8:
		return binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[n-8:])
	case n >= 4:
		return uint64(binary.LittleEndian.Uint32(b)), uint64(binary.LittleEndian.Uint32(b[n-4:]))
	default:
		return uint64(b[0]) | uint64(b[n/2])<<8 | uint64(b[n-1])<<16, 0
	}
}

// slotOf is a value's slot from its words and length.
func slotOf(w1, w2 uint64, n int) uint64 {
	h := (w1 ^ (w2+uint64(n))*0x9e3779b97f4a7c15) * 0xd6e8feb86659fd93
	return h >> (64 - prepBits)
}

// lookupGroups is the ID of a group list (keyUnknown if absent), through
// the cache when the user's ID is known: a user's events mostly carry the
// same groups.
func (c *prepCache) lookupGroups(snap *keySnap, user strID, groups []string) strID {
	if len(groups) == 0 {
		return 0
	}
	var slot *groupSlot
	if user != keyUnknown {
		slot = &c.groups[user%prepSlots]
		if slot.user == user && slot.joined != "" && joinedIs(slot.joined, groups) {
			return slot.id
		}
	}
	c.join = joinGroups(c.join[:0], groups)
	id, ok := snap.sets[string(c.join)]
	if !ok {
		return keyUnknown
	}
	if slot != nil {
		*slot = groupSlot{user: user, id: id, joined: snap.setStrs[id]}
	}
	return id
}

// joinedIs reports whether joinGroups(groups) would be joined.
func joinedIs(joined string, groups []string) bool {
	for i, g := range groups {
		if i > 0 {
			if joined == "" || joined[0] != 0 {
				return false
			}
			joined = joined[1:]
		}
		if !strings.HasPrefix(joined, g) {
			return false
		}
		joined = joined[len(g):]
	}
	return joined == ""
}
