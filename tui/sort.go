package tui

import (
	"context"
	"slices"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/kaudit/kaudit/query"
	"github.com/kaudit/kaudit/store"
	"github.com/kaudit/kaudit/views"
)

// The Events tab sorts by these columns (indexes into eventColumns); -1
// is input order, which is time order, the default.
var eventSortCols = []int{-1, 1, 2, 3, 5, 6}

// resortEvery bounds how often a sorted Events tab is sorted again while
// data arrives: sorting a million rows takes a fraction of a second.
const resortEvery = 2 * time.Second

// sortedMsg is a finished sort of the Events tab's rows.
type sortedMsg struct {
	seq    uint64
	col    int
	order  []store.ID    // the kept requests, sorted
	base   uint64        // the ID base of order (set's)
	set    *store.Set    // what was sorted
	filter *query.Filter // the filter that kept set
	err    error
}

// sortEvents sorts the requests of set by Events column col into an index,
// in a Cmd: only the visible rows are ever read from the index, and the
// sort runs once per change of sort (and at most every resortEvery while
// data arrives), not per frame. Ties keep input order. set is of ID base
// base; the order is too, read in one base of the store (see rebase.go).
func sortEvents(ctx context.Context, st *store.Store, set *store.Set, base uint64, f *query.Filter, col int, seq uint64) tea.Cmd {
	return func() tea.Msg {
		msg, _ := stable(st, func(cur uint64) sortedMsg {
			order, err := sortIn(ctx, st, moveSet(set, base, cur), col)
			return sortedMsg{seq: seq, col: col, order: moveIDs(order, cur, base), base: base, set: set, filter: f, err: err}
		})
		return msg
	}
}

// sortIn sorts set, of the store's current ID base, by column col.
func sortIn(ctx context.Context, st *store.Store, set *store.Set, col int) ([]store.ID, error) {
	ids := set.ToArray()
	keys := make([]uint64, len(ids)) // sort key << 32 | position in ids
	var strs []string                // string columns: the value per position
	if col == 1 || col == 2 || col == 3 {
		strs = make([]string, len(ids))
	}
	for from := 0; from < len(ids); from += rebuildChunk {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		part := ids[from:min(len(ids), from+rebuildChunk)]
		i := from
		st.Each(roaring.BitmapOf(part...), func(e *store.Entry) bool {
			switch col {
			case 1:
				strs[i] = userName(e)
			case 2:
				strs[i] = e.Verb
			case 3:
				strs[i] = views.ResourceKey(e)
			case 5:
				keys[i] = uint64(uint32(e.Code)) << 32
			case 6:
				keys[i] = uint64(min(e.Latency.Microseconds(), 1<<32-1)) << 32
			}
			i++
			return true
		})
	}
	if strs != nil {
		// Rank the distinct values (few: users, verbs, resources),
		// then sort integers, not strings.
		rank := map[string]uint64{}
		for _, s := range strs {
			rank[s] = 0
		}
		distinct := make([]string, 0, len(rank))
		for s := range rank {
			distinct = append(distinct, s)
		}
		slices.Sort(distinct)
		for r, s := range distinct {
			rank[s] = uint64(r)
		}
		for i, s := range strs {
			keys[i] = rank[s] << 32
		}
	}
	for i := range keys {
		keys[i] |= uint64(i)
	}
	slices.Sort(keys)
	order := make([]store.ID, len(keys))
	for i, k := range keys {
		order[i] = ids[uint32(k)]
	}
	return order, nil
}

// eventSort is the Events tab sorted by a column: the last sorted index
// and the sort running in the background.
type eventSort struct {
	order   *eventOrder
	seq     uint64
	cancel  context.CancelFunc
	running bool      // a sort is running
	tick    bool      // a resortMsg is on its way
	at      time.Time // when the last sort started (clock time)
}

// startSort sorts the Events tab by its chosen column in the background,
// replacing a sort still running.
func (m *Model) startSort() tea.Cmd {
	es := &m.evsort
	if es.cancel != nil {
		es.cancel()
		es.cancel = nil
	}
	col := m.tables[tabEvents].Sort().col
	if col < 0 || m.res.set == nil {
		es.order = nil
		return nil
	}
	es.seq++
	ctx, cancel := context.WithCancel(context.Background())
	es.cancel, es.running, es.at = cancel, true, m.env.clock()
	return safe(sortEvents(ctx, m.st, m.res.set, m.res.base, m.res.filter, col, es.seq))
}

func (m Model) onSorted(r sortedMsg) Model {
	if r.seq != m.evsort.seq {
		return m
	}
	m.evsort.running, m.evsort.cancel = false, nil
	if r.err == nil && r.col == m.tables[tabEvents].Sort().col {
		m.evsort.order = &eventOrder{ids: r.order, base: r.base, set: r.set, filter: r.filter}
		m.evsort.order.rebase(m.res.base) // a result of a later base came first
	}
	return m
}

// eventOrder is a sorted index of the Events tab's rows and the set it
// was sorted from.
type eventOrder struct {
	ids    []store.ID
	base   uint64 // the ID base of ids
	set    *store.Set
	filter *query.Filter // the filter set was kept by
}

// rebase moves the order's IDs to ID base base (a later result's), once
// per rebase: the rows keep their order, those gone go.
func (o *eventOrder) rebase(base uint64) {
	if o == nil || o.base == base {
		return
	}
	o.ids, o.base = moveIDs(o.ids, o.base, base), base
}

// resortDue starts a new sort when the rows changed since the last one
// and resortEvery has passed.
func (m *Model) resortDue() tea.Cmd {
	es := &m.evsort
	if m.tables[tabEvents].Sort().col < 0 || es.running || m.res.set == nil {
		return nil
	}
	if es.order != nil && es.order.filter != m.filter {
		es.order = nil // sorted for another filter: useless now
	}
	if es.order != nil && es.order.set == m.res.set {
		return nil
	}
	if wait := resortEvery - m.env.clock().Sub(es.at); es.order != nil && wait > 0 {
		if es.tick {
			return nil
		}
		// Come back when it is due, in case no more data arrives to
		// ask again.
		es.tick = true
		return tea.Tick(wait, func(time.Time) tea.Msg { return resortMsg{} })
	}
	return m.startSort()
}

// resortMsg asks again for a sort that was not due (resortDue).
type resortMsg struct{}
