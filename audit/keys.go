package audit

import "encoding/binary"

// Known keys without a string scan. The API server writes the same keys in
// the same order in every event, so the key at d.pos is first compared
// with those predicted to come next (in that order, from the one after the
// key before it): `"name":` as two (or four) masked 8-byte words each.
// When none matches, the key is recognised by its first byte and one
// comparison of the bytes up to the closing quote. Either way, when the
// bytes after the opening quote are exactly a name (plain ASCII, no
// escapes) followed by a quote, the key is that name, valid, with nothing
// to unescape. Anything else takes the general path: objKey, then the
// exact and case-folding lookup encoding/json does.

// keyTable recognises the keys of one kind of object.
type keyTable struct {
	names   []string // the fields, in id order (id = index + base)
	base    int      // the id of names[0]; an unknown key's id is base-1
	byFirst [128][]keyEntry
	order   []keyLit // the keys in the order the API server writes them
}

type keyEntry struct {
	quoted string // the name and its closing quote
	id     int
	next   int // the index in order after this key's; -1 if not in order
}

// keyLit is one key of keyTable.order as the bytes `"name":` (at most
// maxLit of them), compared as words: w holds the bytes zero-padded, m
// masks those that count.
type keyLit struct {
	w, m [maxLit / 8]uint64
	n    int // the length of `"name":`
	id   int
}

const maxLit = 32

// newKeyTable indexes names, and also skip: keys known to be of no
// interest (bodies, uids), which are given the unknown id. No skip name
// may fold onto one of names (TestKeyTables checks). order lists names
// and skip names in the order the API server writes them.
func newKeyTable(names []string, base int, order []string, skip ...string) *keyTable {
	t := &keyTable{names: names, base: base}
	at := func(n string) int {
		for i, o := range order {
			if o == n {
				return i + 1
			}
		}
		return -1 // not written by the API server: the prediction stays
	}
	add := func(n string, id int) {
		t.byFirst[n[0]] = append(t.byFirst[n[0]], keyEntry{quoted: n + `"`, id: id, next: at(n)})
	}
	for i, n := range names {
		add(n, base+i)
	}
	for _, n := range skip {
		add(n, base-1)
	}
	for _, n := range order {
		t.order = append(t.order, newKeyLit(`"`+n+`":`, t.lookup(n)))
	}
	return t
}

func newKeyLit(lit string, id int) keyLit {
	if len(lit) > maxLit {
		panic("audit: key too long to predict: " + lit)
	}
	k := keyLit{n: len(lit), id: id}
	var buf [maxLit]byte
	copy(buf[:], lit)
	for i := range len(lit) {
		k.m[i/8] |= 0xff << (8 * (i % 8))
	}
	for i := range k.w {
		k.w[i] = binary.LittleEndian.Uint64(buf[8*i:])
	}
	return k
}

// lookup is the general path's answer for a decoded key.
func (t *keyTable) lookup(key string) int {
	return fieldOf(key, t.names) + t.base
}

// key reads the key at d.pos and the colon after it, leaving d.pos at the
// value (as objKey does), and returns its id; ok is false on a syntax
// error. *hint is the index in t.order of the key expected (0 for an
// object's first); key moves it past the key it read. (It inlines: the
// usual key costs one call, to keyAt.)
func (d *decoder) key(t *keyTable, hint *int) (id int, ok bool) {
	return d.keyAt(t, hint, true)
}

// predicted recognises a key of t.order from *hint on written compactly:
// its bytes, the colon and a value byte right after it. Keys the API
// server leaves out (a cluster-scoped object's namespace) cost one
// comparison each. ok false means nothing has moved.
func (d *decoder) predicted(t *keyTable, hint *int) (id int, ok bool) {
	return d.keyAt(t, hint, false)
}

// keyAt is predicted, and when general is set, key: a key not predicted
// then takes knownKey, or objKey and the general lookup.
func (d *decoder) keyAt(t *keyTable, hint *int, general bool) (id int, ok bool) {
	data, p := d.data, d.pos
	if p+maxLit < len(data) {
		x0 := binary.LittleEndian.Uint64(data[p:])
		x1 := binary.LittleEndian.Uint64(data[p+8:])
		for j := *hint; j < len(t.order); j++ {
			k := &t.order[j]
			// ^ and | bind alike in Go: the parentheses matter.
			if ((x0&k.m[0])^k.w[0])|((x1&k.m[1])^k.w[1]) != 0 {
				continue
			}
			if k.n > 16 {
				x2 := binary.LittleEndian.Uint64(data[p+16:])
				x3 := binary.LittleEndian.Uint64(data[p+24:])
				if ((x2&k.m[2])^k.w[2])|((x3&k.m[3])^k.w[3]) != 0 {
					continue
				}
			}
			end := p + k.n
			if data[end] <= ' ' {
				break
			}
			d.pos = end
			*hint = j + 1
			return k.id, true
		}
	}
	if !general {
		return 0, false
	}
	return d.keyRest(t, hint)
}

// keyRest is key for a key not predicted.
func (d *decoder) keyRest(t *keyTable, hint *int) (id int, ok bool) {
	if id, ok := d.knownKey(t, hint); ok {
		return id, d.err == nil
	}
	key, ok := d.objKey()
	if !ok {
		return 0, false
	}
	return t.lookup(key), true
}

// knownKey is key's second path; ok false means it did not recognise the
// key and nothing has moved.
func (d *decoder) knownKey(t *keyTable, hint *int) (id int, ok bool) {
	data := d.data
	p := d.pos + 1
	if p >= len(data) || data[p] >= 128 || d.data[d.pos] != '"' {
		return 0, false
	}
	for _, e := range t.byFirst[data[p]] {
		end := p + len(e.quoted)
		// The closing quote's place tells most candidates apart with one
		// byte, before the bytes are compared.
		if end >= len(data) || data[end-1] != '"' || string(data[p:end]) != e.quoted {
			continue
		}
		if e.next >= 0 {
			*hint = e.next
		}
		// Compact JSON has the colon and the value right there.
		if data[end] == ':' && end+1 < len(data) && data[end+1] > ' ' {
			d.pos = end + 1
			return e.id, true
		}
		d.pos = end
		if !d.more() {
			return e.id, true
		}
		if c := data[d.pos]; c != ':' {
			d.fail(c, "after object key")
			return e.id, true
		}
		d.pos++
		d.more()
		return e.id, true
	}
	return 0, false
}
