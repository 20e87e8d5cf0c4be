package audit

// Known keys without a string scan. The API server writes the same few
// keys in every event, so most keys are recognised by their first byte
// and one comparison of the bytes up to the closing quote: when the bytes
// after the opening quote are exactly a name (plain ASCII, no escapes)
// followed by a quote, the key is that name, valid, with nothing to
// unescape. Anything else takes the general path: objKey, then the exact
// and case-folding lookup encoding/json does.

// keyTable recognises the keys of one kind of object.
type keyTable struct {
	names   []string // the fields, in id order (id = index + base)
	base    int      // the id of names[0]; an unknown key's id is base-1
	byFirst [128][]keyEntry
}

type keyEntry struct {
	quoted string // the name and its closing quote
	id     int
}

// newKeyTable indexes names, and also skip: keys known to be of no
// interest (bodies, uids), which are given the unknown id. No skip name
// may fold onto one of names (TestKeyTables checks).
func newKeyTable(names []string, base int, skip ...string) *keyTable {
	t := &keyTable{names: names, base: base}
	add := func(n string, id int) {
		t.byFirst[n[0]] = append(t.byFirst[n[0]], keyEntry{quoted: n + `"`, id: id})
	}
	for i, n := range names {
		add(n, base+i)
	}
	for _, n := range skip {
		add(n, base-1)
	}
	return t
}

// lookup is the general path's answer for a decoded key.
func (t *keyTable) lookup(key string) int {
	return fieldOf(key, t.names) + t.base
}

// key reads the key at d.pos and the colon after it, leaving d.pos at the
// value (as objKey does), and returns its id; ok is false on a syntax
// error.
func (d *decoder) key(t *keyTable) (id int, ok bool) {
	if id, ok := d.knownKey(t); ok {
		return id, d.err == nil
	}
	key, ok := d.objKey()
	if !ok {
		return 0, false
	}
	return t.lookup(key), true
}

// knownKey is key's fast path; ok false means it did not recognise the
// key and nothing has moved.
func (d *decoder) knownKey(t *keyTable) (id int, ok bool) {
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
