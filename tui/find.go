package tui

import (
	"context"
	"fmt"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/kaudit/kaudit/query"
	"github.com/kaudit/kaudit/store"
)

// Find in view (F, then n/N): unlike the filter, find keeps every row and
// moves the cursor between those that match. Text is found ignoring case
// in the row's fields (user, verb, resource, name, path, reason, as the
// filter's free text) and as typed in the event's JSON; /regexp/ is a
// regular expression over both. The matches are computed in the
// background over the tab's rows (Events: the filter's requests).

// finder is the find bar and the last find's matches.
type finder struct {
	input textinput.Model
	text  string         // the last find submitted ("": none)
	re    *regexp.Regexp // its regexp form, for /…/
	err   string         // why the text is not a valid find

	seq    uint64
	ctx    context.Context // the running find's
	cancel context.CancelFunc
	busy   bool
	jump   int  // +1/-1: move to the next/previous match once found
	from   bool // ...counting a match under the cursor (a new find; not n)

	// What the matches were computed over, and the matches.
	set  *store.Set // Events: the requests searched
	tab  int
	hits *store.Set // Events: the matching requests
	rows []int      // other tabs: the matching rows, ascending

	shown *shownCache // events redaction leaves as stored, learnt by finds
}

func newFinder() finder {
	in := textinput.New()
	in.Prompt = "find: "
	in.Placeholder = "text, or /regexp/ (n, N: next, previous)"
	in.CharLimit = 1024
	in.Cursor.SetMode(cursor.CursorStatic)
	return finder{input: in}
}

// foundMsg is a finished find.
type foundMsg struct {
	seq    uint64
	set    *store.Set
	tab    int
	hits   *store.Set // of set's ID base
	rows   []int
	learnt []uint32 // events found shown as stored (shownCache), of ID base learntBase
	err    error

	learntBase uint64
}

// findKey handles a key while the find bar is open.
func (m Model) findKey(k tea.KeyMsg) (Model, tea.Cmd) {
	fk := DefaultFilterKeyMap()
	switch {
	case key.Matches(k, fk.Cancel):
		m.find.input.Blur()
		return m, nil
	case key.Matches(k, fk.Apply):
		m.find.input.Blur()
		text := m.find.input.Value()
		m.find.text, m.find.re, m.find.err = text, nil, ""
		if text == "" {
			m.find.hits, m.find.rows, m.find.set = nil, nil, nil
			return m, nil
		}
		if len(text) > 2 && strings.HasPrefix(text, "/") && strings.HasSuffix(text, "/") {
			re, err := regexp.Compile(text[1 : len(text)-1])
			if err != nil {
				m.find.err = err.Error()
				return m, nil
			}
			m.find.re = re
		}
		return m, m.startFind(1)
	}
	var cmd tea.Cmd
	m.find.input, cmd = m.find.input.Update(k)
	return m, cmd
}

// startFind computes the matches over the current rows, then jumps.
func (m *Model) startFind(jump int) tea.Cmd {
	if m.find.cancel != nil {
		m.find.cancel()
	}
	r := m.rows()
	if r == nil || m.find.text == "" {
		return nil
	}
	m.find.seq++
	ctx, cancel := context.WithCancel(context.Background())
	m.find.ctx, m.find.cancel, m.find.busy, m.find.jump, m.find.from = ctx, cancel, true, jump, true
	m.find.tab = m.tab
	seq, tab, text, re, st, known := m.find.seq, m.tab, m.find.text, m.find.re, m.st, m.find.shown
	if er, ok := r.(eventRows); ok {
		set, base := er.set, er.base
		all := safe(func() tea.Msg {
			// In one base of the store; the hits moved back to set's.
			msg, cur := stable(st, func(cur uint64) foundMsg {
				hits, learnt, err := findKnown(ctx, st, moveSet(set, base, cur), text, re, known.in(cur))
				return foundMsg{seq: seq, set: set, tab: tab, hits: moveSet(hits, cur, base), learnt: learnt, err: err}
			})
			msg.learntBase = cur
			return msg
		})
		if jump == 0 {
			return all
		}
		return tea.Batch(all, firstHitCmd(ctx, st, er, m.cursor(), jump, text, re, seq))
	}
	set := m.res.set // not m inside the Cmd: it runs on another goroutine
	return safe(func() tea.Msg {
		return foundMsg{seq: seq, set: set, tab: tab, rows: findRows(r, text, re)}
	})
}

// onFound records the matches and makes the pending jump.
func (m Model) onFound(msg foundMsg) (Model, tea.Cmd) {
	m.find.shown = m.find.shown.with(msg.learnt, msg.learntBase) // true of a stale find's too
	if msg.seq != m.find.seq {
		return m, nil
	}
	m.find.busy, m.find.cancel = false, nil
	if msg.err != nil {
		m.find.err = msg.err.Error()
		return m, nil
	}
	m.find.set, m.find.tab, m.find.hits, m.find.rows = msg.set, msg.tab, msg.hits, msg.rows
	if j := m.find.jump; j != 0 {
		m.find.jump = 0
		m.jumpMatch(j, m.find.from)
	}
	return m, nil
}

// nextMatch is n (dir 1) and N (dir -1): recompute when the rows changed
// since, else jump.
func (m Model) nextMatch(dir int) (Model, tea.Cmd) {
	if m.find.text == "" {
		return m, m.note("nothing to find: F first")
	}
	if er, ok := m.rows().(eventRows); ok && m.find.busy && m.find.tab == m.tab {
		// The count is still running: walk from the row after the cursor.
		m.find.jump, m.find.from = dir, false
		n := max(1, er.Len())
		from := ((m.cursor()+dir)%n + n) % n
		return m, firstHitCmd(m.find.ctx, m.st, er, from, dir, m.find.text, m.find.re, m.find.seq)
	}
	if m.find.tab != m.tab || m.find.set != m.res.set {
		return m, m.startFind(dir)
	}
	m.jumpMatch(dir, false)
	return m, nil
}

// jumpMatch moves the cursor to the next match in display order after
// (dir 1) or before (dir -1) the cursor, wrapping; from a fresh find, a
// match under the cursor counts.
func (m *Model) jumpMatch(dir int, inclusive bool) {
	t := &m.tables[m.tab]
	n, cur := t.Len(), t.Cursor()
	if n == 0 {
		return
	}
	if m.find.rows != nil || m.find.hits == nil {
		rows := m.find.rows
		if len(rows) == 0 {
			return
		}
		start := cur + dir
		if inclusive {
			start = cur
		}
		for i := range n {
			r := ((start+dir*i)%n + n) % n
			if _, ok := slicesIndex(rows, r); ok {
				t.SetCursor(r)
				t.clamp()
				return
			}
		}
		return
	}
	er, ok := m.rows().(eventRows)
	if !ok || m.find.hits.IsEmpty() {
		return
	}
	if row, ok := er.nextHit(m.find.hits, cur, dir, inclusive); ok {
		t.SetCursor(row)
		t.clamp()
	}
}

func slicesIndex(rows []int, r int) (int, bool) {
	lo, hi := 0, len(rows)
	for lo < hi {
		mid := (lo + hi) / 2
		if rows[mid] < r {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo, lo < len(rows) && rows[lo] == r
}

// findText is the find line's summary: "find x: 3/120".
func (m Model) findText() string {
	f := m.find
	switch {
	case f.err != "":
		return "find: " + f.err
	case f.text == "":
		return ""
	case f.busy:
		return "find " + f.text + ": …"
	}
	total, k := 0, 0
	cur := m.cursor()
	switch {
	case f.tab != m.tab || f.set != m.res.set:
		return "find " + f.text + ": n to search again"
	case f.hits != nil:
		total = int(f.hits.GetCardinality())
		if er, ok := m.rows().(eventRows); ok {
			k = er.hitIndex(f.hits, cur)
		}
	default:
		total = len(f.rows)
		if i, ok := slicesIndex(f.rows, cur); ok {
			k = i + 1
		}
	}
	if k > 0 {
		return fmt.Sprintf("find %s: %d/%d", f.text, k, total)
	}
	return fmt.Sprintf("find %s: %d matches", f.text, total)
}

// findSlice is how many events a find's worker takes at a time.
var findSlice = 16384

// findEvents returns the events of set that match: their fields (as free
// text, or the regexp) or their original JSON.
func findEvents(ctx context.Context, st *store.Store, set *store.Set, text string, re *regexp.Regexp) (*store.Set, error) {
	hits, _, err := findKnown(ctx, st, set, text, re, nil)
	return hits, err
}

// findKnown is findEvents, skipping the redaction check of the events known
// shows as stored, and returning those it found shown so (see shownCache).
func findKnown(ctx context.Context, st *store.Store, set *store.Set, text string, re *regexp.Regexp, known *shownCache) (*store.Set, []uint32, error) {
	var hits *store.Set
	if re == nil {
		var err error
		if hits, err = query.Text(text).Eval(ctx, st, set); err != nil {
			return nil, nil, err
		}
	}
	if hits == nil {
		hits = &store.Set{}
	}
	rest := set.Clone()
	rest.AndNot(hits)
	ids := rest.ToArray()
	// The JSON scan is most of the cost. Workers, one per core, take
	// slices of findSlice events in turn, each worker with its own reader
	// (a RawReader is for one goroutine): on a busy machine a worker that
	// gets less of a core takes fewer slices instead of finishing last.
	slice := findSlice
	found := make([][]uint32, (len(ids)+slice-1)/slice)
	learnt := make([][]uint32, len(found))
	var next atomic.Int64
	var firstErr atomic.Pointer[error]
	var wg sync.WaitGroup
	for range max(1, min(runtime.GOMAXPROCS(0), len(found))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, rr := newRawMatch(text, re), st.NewRawReader()
			for k := int(next.Add(1) - 1); k < len(found); k = int(next.Add(1) - 1) {
				lo, hi := k*slice, min(len(ids), (k+1)*slice)
				var err error
				if found[k], learnt[k], err = scanWith(ctx, rr, m, ids[lo:hi], known); err != nil {
					firstErr.CompareAndSwap(nil, &err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := firstErr.Load(); err != nil {
		return nil, nil, *err
	}
	var all []uint32
	for k, f := range found {
		hits.AddMany(f)
		all = append(all, learnt[k]...)
	}
	return hits, all, nil
}

// scanWith returns the events of ids whose original JSON, redacted, holds
// the find (m), reading a window of events' bytes at a time (an event that
// cannot be read is left out), and those it learnt redaction leaves as
// stored; known says which are known so already.
func scanWith(ctx context.Context, rr *store.RawReader, m *rawMatch, ids []uint32, known *shownCache) (found, learnt []uint32, err error) {
	rr.Runs(ids, func(buf []byte, run []store.ID, spans []store.Span) bool {
		found, learnt = m.matchRun(buf, run, spans, known, found, learnt)
		return ctx.Err() == nil
	})
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	return found, learnt, nil
}

// findRows returns the rows of a grouped tab whose cells match.
func findRows(r rows, text string, re *regexp.Regexp) []int {
	cells, _ := r.Window(0, r.Len(), timeFormat{withDate: true})
	low := strings.ToLower(text)
	var out []int
	for i, row := range cells {
		for _, c := range row {
			if re != nil && re.MatchString(c) || re == nil && strings.Contains(strings.ToLower(c), low) {
				out = append(out, i)
				break
			}
		}
	}
	return out
}

// rowOf is the row showing event id (ok false when it is not shown).
func (r eventRows) rowOf(id store.ID) (int, bool) {
	n := r.Len()
	i := -1
	if r.order != nil {
		for j, x := range r.order {
			if x == id {
				i = j
				break
			}
		}
	} else if r.set.Contains(id) {
		i = int(r.set.Rank(id)) - 1
	}
	if i < 0 {
		return 0, false
	}
	if r.reverse {
		i = n - 1 - i
	}
	return i, true
}

// nearestRow is the row of id or, when id is not shown, of the shown
// event next to it in input order.
func (r eventRows) nearestRow(id store.ID) int {
	if i, ok := r.rowOf(id); ok || r.order != nil {
		return i
	}
	i := max(0, min(int(r.set.Rank(id))-1, r.Len()-1))
	if r.reverse {
		i = r.Len() - 1 - i
	}
	return i
}

// nextHit is the row of the next hit in display order from row cur.
func (r eventRows) nextHit(hits *store.Set, cur, dir int, inclusive bool) (int, bool) {
	n := r.Len()
	if r.order != nil {
		start := cur + dir
		if inclusive {
			start = cur
		}
		for i := range n {
			row := ((start+dir*i)%n + n) % n
			if id, ok := r.id(row); ok && hits.Contains(id) {
				return row, true
			}
		}
		return 0, false
	}
	id, ok := r.id(cur)
	if !ok {
		return 0, false
	}
	if inclusive && hits.Contains(id) {
		return r.rowOf(id)
	}
	up := dir > 0 != r.reverse // toward higher IDs
	card := hits.GetCardinality()
	var hit store.ID
	if up {
		k := hits.Rank(id) // hits ≤ id
		if k >= card {
			k = 0 // wrap
		}
		hit, _ = hits.Select(uint32(k))
	} else {
		k := uint64(0)
		if id > 0 {
			k = hits.Rank(id - 1) // hits < id
		}
		if k == 0 {
			k = card // wrap
		}
		hit, _ = hits.Select(uint32(k - 1))
	}
	return r.rowOf(hit)
}

// hitIndex is the 1-based position of row cur among the hits in display
// order, or 0 when it is not a hit (or the order is a sort's).
func (r eventRows) hitIndex(hits *store.Set, cur int) int {
	id, ok := r.id(cur)
	if !ok || !hits.Contains(id) || r.order != nil {
		return 0
	}
	k := int(hits.Rank(id))
	if r.reverse {
		k = int(hits.GetCardinality()) - k + 1
	}
	return k
}
