package store

import "strings"

// strID names an interned string; 0 is always "".
type strID = uint32

// interner keeps one copy of each distinct string. Audit events repeat a
// small set of users, verbs, resources, namespaces and user agents millions
// of times, so columns hold 4-byte IDs instead of strings.
//
// Only the writer goroutine calls intern; readers call str under the store's
// read lock.
type interner struct {
	strs []string
	ids  map[string]strID
}

func newInterner() interner {
	return interner{strs: []string{""}, ids: map[string]strID{"": 0}}
}

// intern returns s's ID, copying s on first sight: decoded strings may be
// views into a read buffer that must not be kept alive.
func (in *interner) intern(s string) strID {
	if id, ok := in.ids[s]; ok {
		return id
	}
	s = strings.Clone(s)
	id := strID(len(in.strs))
	in.strs = append(in.strs, s)
	in.ids[s] = id
	return id
}

// internBytes is intern for a byte slice; the lookup does not allocate.
func (in *interner) internBytes(b []byte) strID {
	if id, ok := in.ids[string(b)]; ok {
		return id
	}
	return in.intern(string(b))
}

// lookup returns the ID of s without adding it.
func (in *interner) lookup(s string) (strID, bool) {
	id, ok := in.ids[s]
	return id, ok
}

func (in *interner) str(id strID) string { return in.strs[id] }

// bytes estimates the interner's memory: string bytes plus map and slice overhead.
func (in *interner) bytes() int {
	n := 0
	for _, s := range in.strs {
		n += len(s) + 16 + 40 // string header in the slice, map entry with its header
	}
	return n
}
