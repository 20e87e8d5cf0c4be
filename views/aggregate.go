package views

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/kaudit/kaudit/store"
)

// Aggregate is a grouped view (users, verbs, resources, namespaces, codes,
// latency, denials) kept up to date while requests arrive: Add folds
// requests in, Remove takes back requests a later stage replaced (the
// store keeps one event per request, see store.Requests), and Table
// writes the same table Build writes over the same requests.
//
// A live UI folds in only what is new instead of rebuilding the view over
// a million requests five times a second.
//
// Goroutines: one at a time.
type Aggregate struct {
	view  View
	top   int
	total int

	cols   store.Columns             // the store columns the view reads (Columns)
	kept   store.Columns             // of those, and others, what Add's store keeps (rowEntry)
	key    func(*store.Entry) string // grouped views
	groups map[string]*aggGroup
	rowKey func(store.Row) rowKey // grouped views: Add's fast path
	byRow  map[rowKey]*aggGroup
	keyGen uint64 // the store's key generation of byRow's keys (store.Store.KeyGen)
	// recent caches byRow by a cheap hash of the key: the map's lookup
	// (hashing 16 bytes) was a third of addRow (a 1 GiB Users build:
	// 46 → 43 CPU-ms).
	recent *[recentLen]recentRow

	denials map[denialKey]*denialAgg

	slow     []slowReq // latency: slowest first, ties in ID order
	unsorted bool      // latency, uncapped: slow still needs sorting
	dropped  bool      // latency, capped: a ranked request fell off the end
}

// NewAggregate returns an empty aggregate of view v keeping at most top
// rows (0: all), or an error for the events view (it is not grouped) and
// unknown views.
func NewAggregate(v View, top int) (*Aggregate, error) {
	a := &Aggregate{view: v, top: top}
	// Each view's key and the store columns it reads (besides the fixed
	// ones: code, latency, flags, time; rowKeyOf reads within these).
	switch v {
	case ViewUsers:
		a.key, a.cols = userKey, userCols
	case ViewVerbs:
		a.key, a.cols = func(e *store.Entry) string { return e.Verb }, store.VerbCol
	case ViewResources:
		a.key, a.cols = ResourceKey, resourceCols
	case ViewNamespaces:
		a.key, a.cols = func(e *store.Entry) string { return e.Object.Namespace }, store.NamespaceCol
	case ViewCodes:
		a.key = func(e *store.Entry) string { return codeKey(e.Code) }
	case ViewUserAgents:
		a.key, a.cols = func(e *store.Entry) string { return e.UserAgent }, store.UserAgentCol
	case ViewSourceIPs:
		a.key, a.cols = func(e *store.Entry) string { return e.SourceIP }, store.SourceIPCol
	case ViewSources:
		a.key, a.cols = func(e *store.Entry) string { return e.Source }, store.SourceCol
	case ViewLatency:
		a.cols = latencyCols
	case ViewDenials:
		a.denials, a.cols = map[denialKey]*denialAgg{}, denialCols
	default:
		return nil, fmt.Errorf("unknown view %q", v)
	}
	if a.key != nil {
		a.groups = map[string]*aggGroup{}
		a.rowKey, a.byRow = rowKeyOf(v), map[rowKey]*aggGroup{}
		a.recent = new([recentLen]recentRow)
	}
	return a, nil
}

// View is the aggregate's view.
func (a *Aggregate) View() View { return a.view }

// Add folds the requests of set in. When a batch of new requests replaces
// earlier ones, Add the new ones before Removing the old: taking back a
// request is more often exact once its successor is in.
func (a *Aggregate) Add(st *store.Store, set *store.Set) {
	a.kept = st.Projection()
	if a.rowKey != nil {
		st.EachRow(set, a.addRow)
		return
	}
	// The ranked views count some of the requests (denials: a few in a
	// thousand); the rows say which, and only those are read whole.
	counted := st.Select(set, a.counted)
	if a.denials == nil && a.top <= 0 {
		a.slow = slices.Grow(a.slow, int(counted.GetCardinality()))
	}
	st.EachColumns(counted, a.cols, func(e *store.Entry) bool {
		a.add(e)
		return true
	})
}

// counted reports from its row whether add would count a request: it is
// refused (denials), or ranked (latency).
func (a *Aggregate) counted(r store.Row) bool {
	if a.denials != nil {
		return r.Denied() || r.Code() == 403
	}
	return !r.LongRunning() && r.LatencyMicros() > 0
}

// Remove takes the requests of set back out. It returns false when it
// cannot do so exactly (say the slowest request of a capped latency
// ranking went, and what was ranked below the cap is gone); the aggregate
// is then stale and must be rebuilt.
func (a *Aggregate) Remove(st *store.Store, set *store.Set) bool {
	ok := true
	st.EachColumns(set, a.cols, func(e *store.Entry) bool {
		ok = a.remove(e)
		return ok
	})
	return ok
}

// add folds in a request of the denials or latency view (grouped views
// are folded in from their rows: addRow).
func (a *Aggregate) add(e *store.Entry) {
	if a.denials != nil {
		a.addDenial(e)
		return
	}
	a.addSlow(e)
}

func (a *Aggregate) remove(e *store.Entry) bool {
	switch {
	case a.groups != nil:
		k := a.key(e)
		g := a.groups[k]
		if g == nil {
			return false
		}
		a.total--
		if g.uncount(e); g.requests == 0 {
			delete(a.groups, k)
			g.gone = true // byRow may still point at it
		}
		return true
	case a.denials != nil:
		return a.removeDenial(e)
	}
	return a.removeSlow(e)
}

// Table writes the view, as Build would over the requests added and not
// removed.
func (a *Aggregate) Table() *Table {
	var t *Table
	switch {
	case a.groups != nil:
		t = a.groupTable()
	case a.denials != nil:
		t = a.denialTable()
	default:
		t = a.latencyTable()
	}
	if a.top > 0 && len(t.Rows) > a.top {
		t.Rows = t.Rows[:a.top]
		if t.IDs != nil {
			t.IDs = t.IDs[:a.top]
		}
	}
	return t
}

// aggGroup is one row of a grouped view. Latencies are kept sorted, in
// blocks (latencies); additions and removals wait in batches, in whole
// microseconds, until the table is written, so folding a batch of
// requests in costs one sort of the batch and the blocks it lands in.
type aggGroup struct {
	key                        string
	gone                       bool // removed from groups when its last request went
	requests, denied, errors5x int
	lat                        latencies
	addLat, delLat             []uint32
	moreLat                    [][]uint32 // a split build's other parts' addLat (mergePending)
}

// uncount takes a request back out (addRow is its counterpart).
func (g *aggGroup) uncount(e *store.Entry) {
	g.requests--
	if e.Denied {
		g.denied--
	}
	if e.Code >= 500 && e.Code < 600 {
		g.errors5x--
	}
	if !e.LongRunning && e.Latency > 0 {
		// The store keeps whole microseconds: this is the value addRow saw.
		g.delLat = append(g.delLat, uint32(e.Latency/time.Microsecond))
	}
}

// flush applies the pending latencies: additions first, as a removal may
// take back a request added in the same batch.
func (g *aggGroup) flush() { g.flushWith(nil) }

// flushWith is flush sorting with scratch room (see sortMicrosWith),
// returned for the next group.
func (g *aggGroup) flushWith(scratch []uint32) []uint32 {
	if len(g.addLat) > 0 {
		scratch = sortMicrosWith(g.addLat, scratch)
		g.lat.add(g.addLat)
		g.addLat = nil // the blocks may hold it now
	}
	if len(g.delLat) > 0 {
		scratch = sortMicrosWith(g.delLat, scratch)
		g.lat.remove(g.delLat)
		g.delLat = g.delLat[:0]
	}
	return scratch
}

func (a *Aggregate) groupTable() *Table {
	rows := make([]*aggGroup, 0, len(a.groups))
	for _, g := range a.groups {
		g.flush()
		rows = append(rows, g)
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].requests != rows[j].requests {
			return rows[i].requests > rows[j].requests
		}
		return rows[i].key < rows[j].key
	})
	t := &Table{View: a.view, Columns: groupColumns(a.view)}
	for _, g := range rows {
		t.Rows = append(t.Rows, []any{g.key, g.requests, 100 * float64(g.requests) / float64(a.total), g.denied, g.errors5x,
			g.lat.quantile(0.50), g.lat.quantile(0.99)})
	}
	return t
}

// slowReq is a ranked request of the latency view.
type slowReq struct{ e store.Entry }

// slack is how many times its cap a capped latency view keeps, so that
// taking a few ranked requests back stays exact.
const slack = 2

func rankLess(x, y *store.Entry) bool {
	if x.Latency != y.Latency {
		return x.Latency > y.Latency
	}
	return x.ID < y.ID
}

func ranked(e *store.Entry) bool { return !e.LongRunning && e.Latency > 0 }

// addSlow ranks a request. Uncapped, it only collects (Table sorts);
// capped, the kept requests are always the exact head of the ranking: once
// one fell off the end, nothing ranking below the kept ones is let in.
func (a *Aggregate) addSlow(e *store.Entry) {
	if !ranked(e) {
		return
	}
	if a.top <= 0 {
		a.slow = append(a.slow, slowReq{*e})
		a.unsorted = true
		return
	}
	limit := a.top * slack
	i := sort.Search(len(a.slow), func(i int) bool { return rankLess(e, &a.slow[i].e) })
	if i >= limit || a.dropped && i == len(a.slow) {
		a.dropped = true
		return
	}
	a.slow = slices.Insert(a.slow, i, slowReq{*e})
	if len(a.slow) > limit {
		a.slow = a.slow[:limit]
		a.dropped = true
	}
}

func (a *Aggregate) removeSlow(e *store.Entry) bool {
	if !ranked(e) {
		return true
	}
	a.sortSlow()
	i := sort.Search(len(a.slow), func(i int) bool { return !rankLess(&a.slow[i].e, e) })
	if i == len(a.slow) || a.slow[i].e.ID != e.ID {
		// Ranked below what is kept: its leaving changes nothing kept.
		return a.dropped
	}
	a.slow = slices.Delete(a.slow, i, i+1)
	// What fell off the end ranked below everything kept: the first top
	// are still exact while at least top are kept.
	return !a.dropped || len(a.slow) >= a.top
}

// sortSlow sorts the uncapped ranking. It sorts small keys, then moves
// each request once, in place: pdqsort moving the entries themselves
// (some 350 bytes each) was most of an uncapped latency view.
func (a *Aggregate) sortSlow() {
	if !a.unsorted {
		return
	}
	a.unsorted = false
	type rank struct {
		lat time.Duration
		id  store.ID
		at  int32 // where the request is in slow
	}
	keys := make([]rank, len(a.slow))
	for i := range a.slow {
		keys[i] = rank{a.slow[i].e.Latency, a.slow[i].e.ID, int32(i)}
	}
	slices.SortFunc(keys, func(x, y rank) int {
		if x.lat != y.lat {
			return cmp.Compare(y.lat, x.lat)
		}
		return cmp.Compare(x.id, y.id)
	})
	// Place i takes the request at keys[i].at: follow each cycle of that
	// permutation, marking places done (at = -1).
	for i := range keys {
		if keys[i].at < 0 {
			continue
		}
		held := a.slow[i]
		j := i
		for {
			from := int(keys[j].at)
			keys[j].at = -1
			if from == i {
				a.slow[j] = held
				break
			}
			a.slow[j] = a.slow[from]
			j = from
		}
	}
}

// latencyCols are the columns the latency view reads: its rows' (below).
const latencyCols = userCols | store.VerbCol | resourceCols | objectCols

func (a *Aggregate) latencyTable() *Table {
	a.sortSlow()
	n := len(a.slow)
	if a.top > 0 {
		n = min(n, a.top)
	}
	t := &Table{View: ViewLatency, Columns: latencyColumns()}
	if n == 0 {
		return t
	}
	t.Rows, t.IDs = make([][]any, n), make([]store.ID, n)
	inRanges(n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			e := &a.slow[i].e
			t.Rows[i] = []any{e.Time, userKey(e), e.Verb, ResourceKey(e), objectName(e), int(e.Code), e.Latency, largestPhase(e)}
			t.IDs[i] = e.ID
		}
	})
	return t
}

type denialKey struct{ subject, verb, resource, namespace, cause string }

// denialCols are the columns the denials view reads: its key's and
// DenialCause's (addDenial, below), denialReason's.
const denialCols = userCols | store.VerbCol | resourceCols | store.NamespaceCol | denialCauseCols | denialReasonCols

type denialAgg struct {
	denialKey
	kind        string
	count       int
	first, last time.Time
	firstN      int // requests at the first time
	lastID      store.ID
	reason      string
}

func (a *Aggregate) addDenial(e *store.Entry) {
	if !refused(e) {
		return
	}
	k := denialKey{e.Subject().Name, e.Verb, ResourceKey(e), e.Object.Namespace, DenialCause(e)}
	d := a.denials[k]
	if d == nil {
		d = &denialAgg{denialKey: k, first: e.Time, last: e.Time, lastID: e.ID, firstN: 1}
		d.kind, d.reason = denialKind(e), denialReason(e)
		a.denials[k] = d
		d.count = 1
		return
	}
	d.count++
	switch {
	case e.Time.Before(d.first):
		d.first, d.firstN = e.Time, 1
	case e.Time.Equal(d.first):
		d.firstN++
	}
	// The latest request names the kind and reason; of requests at the
	// same time, the later one in input order (as Build's walk does).
	if e.Time.After(d.last) || e.Time.Equal(d.last) && e.ID > d.lastID {
		d.last, d.lastID = e.Time, e.ID
		d.kind, d.reason = denialKind(e), denialReason(e)
	}
}

func (a *Aggregate) removeDenial(e *store.Entry) bool {
	if !refused(e) {
		return true
	}
	k := denialKey{e.Subject().Name, e.Verb, ResourceKey(e), e.Object.Namespace, DenialCause(e)}
	d := a.denials[k]
	if d == nil {
		return false
	}
	if d.count--; d.count == 0 {
		delete(a.denials, k)
		return true
	}
	if e.Time.Equal(d.first) {
		if d.firstN == 1 {
			return false // the first time is now that of a request not kept here
		}
		d.firstN--
	}
	// The latest request's kind and reason: when it goes, only a rebuild
	// knows which request is the latest now.
	return e.ID != d.lastID
}

func (a *Aggregate) denialTable() *Table {
	rows := make([]*denialAgg, 0, len(a.denials))
	for _, d := range a.denials {
		rows = append(rows, d)
	}
	sort.Slice(rows, func(i, j int) bool {
		x, y := rows[i], rows[j]
		if x.count != y.count {
			return x.count > y.count
		}
		if x.subject != y.subject {
			return x.subject < y.subject
		}
		if x.verb != y.verb {
			return x.verb < y.verb
		}
		if x.resource != y.resource {
			return x.resource < y.resource
		}
		if x.namespace != y.namespace {
			return x.namespace < y.namespace
		}
		return x.cause < y.cause
	})
	t := &Table{View: ViewDenials, Columns: denialColumns()}
	for _, d := range rows {
		t.Rows = append(t.Rows, []any{d.subject, d.verb, d.resource, d.namespace, d.count, d.first, d.last, d.kind, d.reason})
	}
	return t
}
