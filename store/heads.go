package store

import (
	"encoding/binary"
	"math/bits"
)

// heads maps a UUID auditID to the first stored event of its request (the
// head of its chain of stages): the deduplication and pairing index, asked
// once per event appended.
//
// It is an open-addressing table of 8-byte slots, tag<<32 | id+1, instead
// of a map[[16]byte]ID: the key is not stored, since the event's auditID
// column holds it (keyOf), and a lookup whose tag matches checks it there.
// That halves the memory per request (8 bytes at a load of at most 5/8,
// against about 30 for the map) and makes the common miss, a request seen
// for the first time, touch one cache line. A slot's position is the tag's
// top bits, so growing never reads the keys back. 0 is an empty slot; a
// slot with id+1 == 0 and a tag is a tombstone left by del.
type heads struct {
	slots []uint64
	bits  uint // len(slots) == 1<<bits
	live  int
	dead  int
	keyOf func(ID) *[16]byte
}

const minHeadBits = 10

func newHeads(keyOf func(ID) *[16]byte) heads {
	return heads{slots: make([]uint64, 1<<minHeadBits), bits: minHeadBits, keyOf: keyOf}
}

// maxReserveBits bounds what reserve allocates on a hint (64 MiB, about 5M
// requests): a wrong hint costs no more than that; beyond it the table grows.
const maxReserveBits = 23

// reserve sizes an empty table for n requests at once. Growing to that
// size by doubling allocates and first-touches as much again in the
// tables it drops, and rehashes every request about once more: measured
// as store.heads.resize in a replay of the 1 GiB benchmark log.
func (t *heads) reserve(n int) {
	b := t.bits
	for b < maxReserveBits && n*8 > (1<<b)*5 {
		b++
	}
	if t.live+t.dead == 0 && b > t.bits {
		t.bits, t.slots = b, make([]uint64, 1<<b)
		// Write a word of each page now: add reads a slot before it writes
		// it, and a page read first maps the shared zero page and faults
		// again on the first write (a copy, and a TLB shootdown on every
		// core): 4,096 of a 1 GiB replay's 52k page faults. Random inserts
		// touch every page of a table sized to its hint anyway.
		for i := 0; i < len(t.slots); i += 4096 / 8 {
			t.slots[i] = 0
		}
	}
}

// hashUUID mixes both halves: random UUIDs need no mixing, but auditIDs
// made by tools or tests can differ in a few bytes only. The tag is never
// 0, so that a tombstone (tag, no ID) is never an empty slot.
func hashUUID(u *[16]byte) uint32 {
	a := binary.LittleEndian.Uint64(u[:8])
	b := binary.LittleEndian.Uint64(u[8:])
	h := (a ^ bits.RotateLeft64(b, 31)) * 0x9e3779b97f4a7c15
	h ^= h >> 32
	h *= 0xd6e8feb86659fd93
	return uint32(h>>32) | 1
}

func (t *heads) home(tag uint32) uint32 { return tag >> (32 - t.bits) }
func (t *heads) mask() uint32           { return 1<<t.bits - 1 }

// find returns the slot holding u, or -1.
func (t *heads) find(u *[16]byte) int { return t.findTag(u, hashUUID(u)) }

// findTag is find with u's hashUUID worked out.
func (t *heads) findTag(u *[16]byte, tag uint32) int {
	for i := t.home(tag); ; i = (i + 1) & t.mask() {
		s := t.slots[i]
		if s == 0 {
			return -1
		}
		if uint32(s>>32) == tag && uint32(s) != 0 && *t.keyOf(uint32(s) - 1) == *u {
			return int(i)
		}
	}
}

// get returns the head of u's request.
func (t *heads) get(u *[16]byte) (ID, bool) { return t.getTag(u, hashUUID(u)) }

// getTag is get with u's hashUUID worked out.
func (t *heads) getTag(u *[16]byte, tag uint32) (ID, bool) {
	if i := t.findTag(u, tag); i >= 0 {
		return uint32(t.slots[i]) - 1, true
	}
	return 0, false
}

// add records id as the head of u's request, which must not be there yet.
// keyOf(id) must already return u.
func (t *heads) add(u *[16]byte, id ID) { t.addTag(hashUUID(u), id) }

// addTag is add with u's hashUUID worked out (u itself is not read).
func (t *heads) addTag(tag uint32, id ID) {
	if (t.live+t.dead+1)*8 > len(t.slots)*5 {
		t.resize()
	}
	i := t.home(tag)
	for uint32(t.slots[i]) != 0 { // a tombstone's place is taken again
		i = (i + 1) & t.mask()
	}
	if t.slots[i] != 0 {
		t.dead--
	}
	t.slots[i] = uint64(tag)<<32 | uint64(id+1)
	t.live++
}

// set makes id the head of u's request, which is there.
func (t *heads) set(u *[16]byte, id ID) {
	if i := t.find(u); i >= 0 {
		t.slots[i] = t.slots[i]&^(1<<32-1) | uint64(id+1)
	}
}

// del forgets u's request.
func (t *heads) del(u *[16]byte) {
	if i := t.find(u); i >= 0 {
		t.slots[i] &^= 1<<32 - 1 // the tag stays: a tombstone
		t.live--
		t.dead++
	}
}

// resize doubles the table, or rebuilds it at its size when tombstones
// take the room.
func (t *heads) resize() {
	old := t.slots
	if (t.live+1)*4 > len(old) {
		t.bits++
	}
	t.slots = make([]uint64, 1<<t.bits)
	t.dead = 0
	for _, s := range old {
		if uint32(s) == 0 {
			continue
		}
		i := t.home(uint32(s >> 32))
		for t.slots[i] != 0 {
			i = (i + 1) & t.mask()
		}
		t.slots[i] = s
	}
}

func (t *heads) bytes() int { return len(t.slots) * 8 }
