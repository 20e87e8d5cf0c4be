package tui

import (
	"errors"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/kaudit/kaudit/store"
)

// Event IDs held across a store rebase (store/rebase.go). Under retention
// the store moves every kept event's ID down now and then, and its ID base
// (store.Store.IDBase) says by how much in all. Everything the model
// holds that is made of IDs (the result's set, the Latency tab's IDs, a
// sorted order, the open event, the kept cursor, a find's first hit) is in
// the base of the result it came from (resultMsg.base). Such IDs are moved
// where they are used: a row being drawn, an event read for its page, a
// copy, a history, a write, a simulation, each reads the store's base
// around its reads and reads again should it move meanwhile, so that what
// it shows is the event it meant, or nothing when that event is gone;
// never another event. A new result in a new base moves what the model
// keeps (onResult, rebased). Nothing is done per frame but two reads of
// the base.

// eventRef is an event as the model holds it: its ID and the ID base
// that ID is of.
type eventRef struct {
	id   store.ID
	base uint64
}

// errGone says an event the user pointed at is no longer stored.
var errGone = errors.New("the event is gone (dropped by retention)")

// moveID moves id, handed out under base from, to base to; false when it
// falls outside the ID range there (its event was dropped).
func moveID(id store.ID, from, to uint64) (store.ID, bool) {
	v := uint64(id) + from
	if v < to || v-to >= 1<<32 {
		return 0, false
	}
	return store.ID(v - to), true
}

// moveSet moves set, made under base from, to base to (either way); IDs
// that fall out of range go. set itself when the bases are equal.
func moveSet(set *store.Set, from, to uint64) *store.Set {
	if set == nil || from == to {
		return set
	}
	d := int64(from) - int64(to)
	if d <= -1<<32 || d >= 1<<32 {
		return roaring.New()
	}
	return roaring.AddOffset64(set, d)
}

// moveIDs moves ids from base from to base to, dropping those out of
// range (a new slice; ids itself when the bases are equal).
func moveIDs(ids []store.ID, from, to uint64) []store.ID {
	if from == to {
		return ids
	}
	out := make([]store.ID, 0, len(ids))
	for _, id := range ids {
		if m, ok := moveID(id, from, to); ok {
			out = append(out, m)
		}
	}
	return out
}

// stable runs read against the store's current ID base, passed to it, and
// again while the base moves meanwhile: what it returns was read in one
// base, the one returned.
func stable[T any](st *store.Store, read func(base uint64) T) (T, uint64) {
	for {
		base := st.IDBase()
		v := read(base)
		if st.IDBase() == base {
			return v, base
		}
	}
}

// readEvent calls read with event id, handed out under base, as the store
// numbers it now; ok is false when the event is no longer stored (then
// what read returned is dropped). A rebase meanwhile makes it read again;
// retention dropping the event meanwhile makes it gone.
func readEvent[T any](st *store.Store, id store.ID, base uint64, read func(store.ID) T) (v T, ok bool) {
	type got struct {
		v  T
		ok bool
	}
	g, _ := stable(st, func(uint64) got {
		at, ok := st.MapID(id, base)
		if !ok {
			return got{}
		}
		v := read(at)
		if at < st.First() { // dropped while read: what read saw may be empty
			return got{}
		}
		return got{v, true}
	})
	return g.v, g.ok
}
