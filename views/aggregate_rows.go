package views

import (
	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/store"
)

// rowKey names a group of a grouped view by the interned IDs of the
// columns its key is made of (at most four). Several rowKeys may name one
// group (two paths of one string are one ID, but "a (as b)" is also a
// user's name): they then point at the same *aggGroup.
type rowKey [4]uint32

// recentLen is the number of slots of Aggregate.recent: a grouped view
// has a few hundred groups at most in a busy log, each named by a few
// rowKeys, so the slots hold about all of them.
const recentLen = 1 << 10

// recentRow is a slot of Aggregate.recent: a rowKey and its group.
type recentRow struct {
	k rowKey
	g *aggGroup
}

// slot is where k goes in Aggregate.recent: a multiplicative hash of its
// IDs (most are small integers).
func (k rowKey) slot() uint32 {
	h := k[0]*0x9e3779b1 ^ k[1]*0x85ebca77 ^ k[2]*0xc2b2ae3d ^ k[3]*0x27d4eb2f
	return h >> (32 - 10) // recentLen = 1<<10
}

// rowKeyOf returns how view v's groups are told apart from a row's stored
// columns, or nil for the views that are not grouped.
func rowKeyOf(v View) func(store.Row) rowKey {
	one := func(f store.Field) func(store.Row) rowKey {
		return func(r store.Row) rowKey { return rowKey{r.FieldKey(f)} }
	}
	switch v {
	case ViewUsers:
		return func(r store.Row) rowKey {
			return rowKey{r.FieldKey(store.FieldUser), r.FieldKey(store.FieldImpersonated)}
		}
	case ViewVerbs:
		return one(store.FieldVerb)
	case ViewResources:
		return func(r store.Row) rowKey {
			return rowKey{r.FieldKey(store.FieldAPIGroup), r.FieldKey(store.FieldResource), r.FieldKey(store.FieldSubresource), r.PathKey()}
		}
	case ViewNamespaces:
		return one(store.FieldNamespace)
	case ViewUserAgents:
		return one(store.FieldUserAgent)
	case ViewSourceIPs:
		return one(store.FieldSourceIP)
	case ViewSources:
		return one(store.FieldSource)
	case ViewCodes:
		return func(r store.Row) rowKey { return rowKey{uint32(r.Code())} }
	}
	return nil
}

// rowEntry is what the grouped views' keys read of an entry, taken from a
// row: made once per distinct rowKey, not per request. It reads every
// column of those the store keeps (kept, from Store.Projection), not only
// the view's: a key reading a column its view did not declare then shows
// "" on a store keeping only the declared ones, and the tests comparing
// both see it.
func rowEntry(r store.Row, kept store.Columns) store.Entry {
	field := func(f store.Field) string {
		if kept&store.FieldColumns(f) == 0 {
			return ""
		}
		return r.Field(f)
	}
	e := store.Entry{
		User:         audit.UserInfo{Name: field(store.FieldUser)},
		Impersonated: audit.UserInfo{Name: field(store.FieldImpersonated)},
		Verb:         field(store.FieldVerb),
		Object: audit.ObjectRef{
			APIGroup:    field(store.FieldAPIGroup),
			Resource:    field(store.FieldResource),
			Subresource: field(store.FieldSubresource),
			Namespace:   field(store.FieldNamespace),
		},
		Code:      r.Code(),
		UserAgent: field(store.FieldUserAgent),
		SourceIP:  field(store.FieldSourceIP),
		Source:    field(store.FieldSource),
	}
	if kept&store.PathCol != 0 {
		e.Path = r.Path()
	}
	return e
}

// addRow folds one request of a grouped view in from its columns: a map
// lookup by IDs instead of copying the whole entry and hashing its key
// string (a 10 M event rebuild of Users went from ... to ...).
func (a *Aggregate) addRow(r store.Row) {
	if gen := r.KeyGen(); gen != a.keyGen {
		// The store renumbered its strings (retention compacted them):
		// the groups stand, the shortcuts to them are found again. A new
		// map, as clear keeps the room of every key ever seen.
		a.byRow = map[rowKey]*aggGroup{}
		a.keyGen = gen
		clear(a.recent[:])
	}
	k := a.rowKey(r)
	slot := &a.recent[k.slot()]
	g := slot.g
	if g == nil || slot.k != k || g.gone {
		if g = a.byRow[k]; g == nil || g.gone {
			e := rowEntry(r, a.kept)
			g = a.group(a.key(&e))
			a.byRow[k] = g
		}
		*slot = recentRow{k, g}
	}
	a.total++
	g.requests++
	if r.Denied() {
		g.denied++
	}
	if c := r.Code(); c >= 500 && c < 600 {
		g.errors5x++
	}
	if lat := r.LatencyMicros(); !r.LongRunning() && lat > 0 {
		if len(g.addLat) == cap(g.addLat) {
			// Doubled: append grows large slices by a quarter, which
			// allocated five times a busy group's latencies as it grew.
			g.addLat = append(make([]uint32, 0, max(64, 2*cap(g.addLat))), g.addLat...)
		}
		g.addLat = append(g.addLat, lat)
	}
}

// group returns the group keyed k, made if need be.
func (a *Aggregate) group(k string) *aggGroup {
	g := a.groups[k]
	if g == nil {
		g = &aggGroup{key: k}
		a.groups[k] = g
	}
	return g
}
