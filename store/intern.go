package store

import "strings"

// strID names a value in a dict; 0 is always "".
type strID = uint32

// dict is one string column's dictionary: each distinct value once, and for
// indexed columns each value's postings. Audit events repeat a small set of
// users, verbs, resources, namespaces and user agents millions of times, so
// columns hold 4-byte IDs. One dict per column keeps the small ones (verbs,
// namespaces) in cache while the large ones (object names) grow.
//
// Only the writer's interning goroutine calls intern (see index.go);
// readers call the rest under the store's read lock.
type dict struct {
	strs     []string
	ids      map[string]strID
	indexed  bool   // the column has postings (kept, or built later: see LazyPostings)
	postings []*Set // by strID; nil for a column that is not indexed, or not yet
}

func newDict(indexed bool) dict {
	d := dict{strs: []string{""}, ids: map[string]strID{"": 0}, indexed: indexed}
	if indexed {
		d.postings = []*Set{{}}
	}
	return d
}

// intern returns s's ID, copying s on first sight: decoded strings may be
// views into a read buffer that must not be kept alive.
func (d *dict) intern(s string) strID {
	if s == "" {
		return 0 // many columns are mostly empty: no hashing for them
	}
	if id, ok := d.ids[s]; ok {
		return id
	}
	s = strings.Clone(s)
	id := strID(len(d.strs))
	d.strs = append(d.strs, s)
	d.ids[s] = id
	if d.postings != nil {
		d.postings = append(d.postings, &Set{})
	}
	return id
}

// internBytes is intern for a byte slice; the lookup does not allocate.
func (d *dict) internBytes(b []byte) strID {
	if id, ok := d.ids[string(b)]; ok {
		return id
	}
	return d.intern(string(b))
}

// lookup returns the ID of s without adding it.
func (d *dict) lookup(s string) (strID, bool) {
	id, ok := d.ids[s]
	return id, ok
}

func (d *dict) str(id strID) string { return d.strs[id] }

// bytes estimates the dict's memory: strings, map entries, postings.
func (d *dict) bytes() int {
	n := 0
	for _, s := range d.strs {
		n += len(s) + 16 + 40 // string header in the slice, map entry with its header
	}
	for _, p := range d.postings {
		n += int(p.GetSizeInBytes()) + 48
	}
	return n
}
