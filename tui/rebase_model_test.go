package tui

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/kaudit/kaudit/store"
)

// The browser across a store rebase (store/rebase.go): the store's ID
// space is lowered (store.IDSpace) so that retention makes it move its
// IDs after a few hundred events. Every test holds something the model
// got before the rebase and uses it after, before or after the next
// result: what it shows must be the same event (same auditID), or say
// that event is gone, never another event.

// rebaser is a store that rebases on demand.
type rebaser struct {
	st    *store.Store
	lines [][]byte
	next  int
}

// newRebaser is a store of n events (every stage) whose IDs run out at
// 1024: retention to 700 events makes it rebase at about 900 appended.
func newRebaser(t *testing.T, n int) *rebaser {
	t.Helper()
	r := &rebaser{st: store.New(store.ChunkEvents(64), store.IDSpace(1024)), lines: stagedLines(9, 8000), next: n}
	appendBatch(t, r.st, r.lines[:n])
	return r
}

// rebase appends batches, retaining 700 events after each, until the
// store rebased once more.
func (r *rebaser) rebase(t *testing.T) {
	t.Helper()
	want := r.st.RebaseStats().Rebases + 1
	for r.st.RebaseStats().Rebases < want {
		if r.next+50 > len(r.lines) {
			t.Fatal("no rebase")
		}
		appendBatch(t, r.st, r.lines[r.next:r.next+50])
		r.next += 50
		r.st.Retain(700, 0)
	}
}

// kept reports whether event id, handed out under ID base base, is still
// stored: worked out from the store's figures, not from the code tested.
func kept(st *store.Store, id store.ID, base uint64) bool {
	return uint64(id)+base >= st.IDBase()+uint64(st.First())
}

// auditIDs are the auditIDs of the Events rows, read before a rebase.
func auditIDs(t *testing.T, m Model) []string {
	t.Helper()
	er := m.rows().(eventRows)
	out := make([]string, er.Len())
	for i := range out {
		id, _ := er.id(i)
		out[i] = m.st.Entry(id).AuditID
	}
	return out
}

// A row drawn after a rebase, before the next result, shows the event it
// showed before, or that it is gone; after the next result, the kept
// events' rows are as they were.
func TestRowsAcrossRebase(t *testing.T) {
	r := newRebaser(t, 600)
	m := started(t, r.st, 120, 40)
	er := m.rows().(eventRows)
	n := er.Len()
	before, _ := er.Window(0, n, m.timeFormat())
	ids := make([]store.ID, n)
	for i := range ids {
		ids[i], _ = er.id(i)
	}
	r.rebase(t)
	after, _ := m.rows().Window(0, n, m.timeFormat())
	gone, same := 0, 0
	for i := range n {
		switch {
		case !kept(r.st, ids[i], 0):
			gone++
			if after[i][1] != "(gone)" {
				t.Fatalf("row %d: its event was dropped, shown as %q", i, after[i])
			}
		case strings.Join(after[i], "|") != strings.Join(before[i], "|"):
			t.Fatalf("row %d after the rebase:\n%q\nwas\n%q", i, after[i], before[i])
		default:
			same++
		}
	}
	if gone == 0 || same == 0 {
		t.Fatalf("%d rows gone, %d the same: the test shows nothing", gone, same)
	}
}

// The open event's page, its copies (y, Y) and an event opened after a
// rebase are the event the row showed; an event gone says so.
func TestDetailAcrossRebase(t *testing.T) {
	r := newRebaser(t, 600)
	m := started(t, r.st, 120, 40)
	var copied []byte
	m.clip = func(b []byte) error { copied = append([]byte(nil), b...); return nil }
	want := auditIDs(t, m)
	last := len(want) - 1
	m = drive(t, m, keys("end", "k", "enter")...)
	if !strings.Contains(m.over.page.body, "auditID "+want[last-1]) {
		t.Fatal("the page is not the cursor's event")
	}
	r.rebase(t)
	m = drive(t, m, keys("y")...)
	if !strings.Contains(string(copied), `"auditID":"`+want[last-1]+`"`) {
		t.Errorf("y after a rebase copied %.80s…, want the event of %s", copied, want[last-1])
	}
	m = drive(t, m, keys("Y", "a")...)
	if string(copied) != want[last-1] {
		t.Errorf("Y a after a rebase copied %q, want %q", copied, want[last-1])
	}
	m = drive(t, m, keys("]")...) // the next row's page, read after the rebase
	if !strings.Contains(m.over.page.body, "auditID "+want[last]) {
		t.Errorf("] after a rebase: page of another event than %s:\n%.300s", want[last], m.over.page.body)
	}
	m = drive(t, m, keys("esc", "g", "enter")...) // row 0: dropped
	if !strings.HasPrefix(m.over.page.title, goneTitle) || !strings.Contains(m.over.page.body, "no longer stored") {
		t.Errorf("a dropped event's page: %q\n%.200s", m.over.page.title, m.over.page.body)
	}
	m = drive(t, m, keys("esc", "end", "enter")...)
	m = drive(t, m, changedMsg{}) // the next result, in the new base
	m = drive(t, m, keys("Y", "a")...)
	if string(copied) != want[last] {
		t.Errorf("Y a after the next result copied %q, want %q", copied, want[last])
	}
}

// applyResult computes the model's next result and applies it, without
// running what it asks for next (a new sort, say): the state between a
// result and the work it starts.
func applyResult(t *testing.T, m Model) Model {
	t.Helper()
	m.work.seq++
	msg := compute(context.Background(), m.st, m.work.live, m.filter, m.tab, m.work.seq, m.sparkWidth())()
	nm, _ := m.Update(msg)
	return nm.(Model)
}

// A sorted Events tab keeps its order across a rebase: after the next
// result, before the next sort, its rows are the events they were, in the
// same order, less those gone.
func TestSortAcrossRebase(t *testing.T) {
	r := newRebaser(t, 600)
	m := started(t, r.st, 120, 40)
	m = drive(t, m, keys("s")...) // by USER
	if m.evsort.order == nil {
		t.Fatal("not sorted")
	}
	er := m.rows().(eventRows)
	var ids []store.ID
	var audit []string
	for i := range er.Len() {
		id, _ := er.id(i)
		ids, audit = append(ids, id), append(audit, m.st.Entry(id).AuditID)
	}
	r.rebase(t)
	var want []string
	for i, id := range ids {
		if kept(r.st, id, 0) {
			want = append(want, audit[i])
		}
	}
	m = applyResult(t, m)
	er = m.rows().(eventRows)
	if er.order == nil {
		t.Fatal("the order was dropped: the rows are in time order until the next sort")
	}
	var got []string
	for i := range er.Len() {
		id, _ := er.id(i)
		got = append(got, m.st.Entry(id).AuditID)
	}
	if len(want) == 0 || len(want) == len(ids) {
		t.Fatalf("%d of %d rows kept: the test shows nothing", len(want), len(ids))
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("%d rows after the rebase %v…, want %d %v…", len(got), got[:min(3, len(got))], len(want), want[:min(3, len(want))])
	}
}

// A new filter's result, arriving after a rebase, puts the cursor back on
// the event it was on.
func TestKeptCursorAcrossRebase(t *testing.T) {
	r := newRebaser(t, 600)
	m := started(t, r.st, 120, 40)
	want := auditIDs(t, m)
	m = drive(t, m, keys("end", "k", "k", "k")...)
	row := m.cursor()
	nm, cmd := m.Update(filterAppliedMsg{text: "-user:nobody"})
	r.rebase(t) // while the filter is computed
	m = run(t, nm.(Model), cmd)
	id, ok := m.rows().(eventRows).id(m.cursor())
	if got := m.st.Entry(id).AuditID; !ok || got != want[row] {
		t.Fatalf("cursor on %s, want %s (row %d before)", got, want[row], row)
	}
}

// P after a rebase simulates the result's requests, not the events their
// old IDs now name.
func TestPolicyAcrossRebase(t *testing.T) {
	r := newRebaser(t, 600)
	var got []string
	policy := func(_ context.Context, st *store.Store, set *store.Set) (string, error) {
		got = got[:0]
		st.Each(set, func(e *store.Entry) bool { got = append(got, e.AuditID); return true })
		return "ok", nil
	}
	m := New(Options{Store: r.st, Now: fixedNow, Policy: policy})
	m = run(t, m, m.Init())
	var want []string
	it := m.res.set.Iterator()
	var ids []store.ID
	for it.HasNext() {
		ids = append(ids, it.Next())
	}
	r.rebase(t)
	for _, id := range ids {
		if kept(r.st, id, 0) {
			// The auditID as a fresh read of the lines would give it.
			want = append(want, r.st.Entry(store.ID(uint64(id)-r.st.IDBase())).AuditID)
		}
	}
	m = drive(t, m, keys("P")...)
	if m.over.pane != panePolicy {
		t.Fatal("no simulation")
	}
	if strings.Join(got, ",") != strings.Join(want, ",") || len(want) == 0 {
		t.Fatalf("simulated %d requests %v…, want %d %v…", len(got), got[:min(3, len(got))], len(want), want[:min(3, len(want))])
	}
}

// The event rate stays positive across a rebase (the store's length goes
// down by the shift; the events appended do not).
func TestRateAcrossRebase(t *testing.T) {
	r := newRebaser(t, 600)
	m := started(t, r.st, 120, 40)
	m.env.now = stepClock(time.Second)
	m = drive(t, m, changedMsg{})
	for range 2 {
		r.rebase(t)
		m = drive(t, m, changedMsg{})
		if m.hdr.rate < 0 {
			t.Fatalf("rate %.1f events/s after a rebase", m.hdr.rate)
		}
	}
}

// Detection marks after a rebase, before the next result, are on the
// rows of the events flagged, the log having followed the store (as the
// writer makes it).
func TestHitMarksAcrossRebase(t *testing.T) {
	r := newRebaser(t, 600)
	log := NewDetectionLog()
	m := detectModel(t, r.st, log, 120, 40)
	n := m.rowCount()
	_, marks := m.rows().Window(0, n, m.timeFormat())
	var plain []int // rows that stay kept, with no other mark
	for i := n - 100; i < n && len(plain) < 3; i++ {
		if marks[i] == markNone {
			plain = append(plain, i)
		}
	}
	flagRows(t, m, log, plain, "exec-into-pod", "exec-into-pod", "exec-into-pod")
	_, before := m.rows().Window(0, n, m.timeFormat())
	r.rebase(t)
	er := m.rows().(eventRows)
	check := func(when string) []mark {
		_, after := m.rows().Window(0, n, m.timeFormat())
		for i := range n {
			if id, _ := er.id(i); kept(r.st, id, 0) && after[i] != before[i] {
				t.Fatalf("%s: row %d: mark %d, %d before", when, i, after[i], before[i])
			}
		}
		return after
	}
	check("after the rebase, the log not moved yet")
	log.Rebased(r.st.IDBase())
	after := check("after the rebase and the log's")
	var marked int
	for _, mk := range after {
		if mk == markHit {
			marked++
		}
	}
	if marked != 3 {
		t.Fatalf("%d rows marked, 3 flagged", marked)
	}
}

// A find after a rebase, before the next result, finds the rows' own
// events, and its jump lands on one of them.
func TestFindAcrossRebase(t *testing.T) {
	r := newRebaser(t, 600)
	m := started(t, r.st, 120, 40)
	r.rebase(t)
	er := m.rows().(eventRows)
	cur := r.st.IDBase()
	hits, err := findEvents(context.Background(), r.st, moveSet(er.set, er.base, cur), "Forbidden", nil)
	if err != nil || hits.IsEmpty() {
		t.Fatalf("no events to find (%v)", err)
	}
	want := moveSet(hits, cur, er.base)
	m = drive(t, m, keys("g", "F")...)
	m = drive(t, m, typed("Forbidden")...)
	m = drive(t, m, keys("enter")...)
	if m.find.hits == nil || !m.find.hits.Equals(want) {
		t.Fatalf("find after a rebase: %v, want %v", m.find.hits, want)
	}
	if id, _ := er.id(m.cursor()); !want.Contains(id) {
		t.Errorf("the jump landed on row %d, not a match", m.cursor())
	}
}

// A Latency row opened after a rebase is its own request; H reads the
// history of the cursor's event.
func TestLatencyAndHistoryAcrossRebase(t *testing.T) {
	r := newRebaser(t, 600)
	var asked []string
	hist := func(st *store.Store, id store.ID) (ObjectHistory, error) {
		asked = append(asked, st.Entry(id).AuditID)
		return fakeHistory(nil), nil
	}
	m := New(Options{Store: r.st, Now: fixedNow, History: hist, View: "latency"})
	m = run(t, m, m.Init())
	m = drive(t, m, tea.WindowSizeMsg{Width: 120, Height: 40})
	ids := m.res.table.IDs
	if len(ids) < 2 {
		t.Fatal("no Latency rows")
	}
	row := -1
	for i, id := range ids {
		if id >= 300 && row < 0 { // kept by the rebase
			row = i
		}
	}
	want := r.st.Entry(ids[row]).AuditID
	r.rebase(t)
	if !kept(r.st, ids[row], 0) {
		t.Fatal("the row's request was dropped")
	}
	m.tables[m.tab].SetCursor(row)
	m = drive(t, m, keys("H")...)
	if len(asked) != 1 || asked[0] != want {
		t.Errorf("H after a rebase read the history of %v, want %s", asked, want)
	}
	m = drive(t, m, keys("esc", "enter")...)
	if !strings.Contains(m.over.page.body, "auditID "+want) {
		t.Errorf("Latency row %d after a rebase: page of another event than %s", row, want)
	}
}

// What cmd/kaudit wires in (P's simulation, the Denials tab's findings
// and suggestion) runs beside the writer: a rebase while it runs makes it
// run again, over the requests moved, so that what it reports was read in
// one ID base.
func TestCallbacksAcrossRebase(t *testing.T) {
	r := newRebaser(t, 600)
	var sims [][]string
	policy := func(_ context.Context, st *store.Store, set *store.Set) (string, error) {
		var got []string
		st.Each(set, func(e *store.Entry) bool { got = append(got, e.AuditID); return true })
		sims = append(sims, got)
		if len(sims) == 1 {
			r.rebase(t) // the writer, while the first simulation runs
		}
		return "ok", nil
	}
	revoked := 0
	m := New(Options{Store: r.st, Now: fixedNow, Policy: policy, View: "denials",
		Suggest: func([]DenialKey) (string, []string) { return "", nil },
		Revoked: func() map[DenialKey]string {
			if revoked++; revoked == 1 {
				r.rebase(t)
			}
			return nil
		}})
	m = run(t, m, m.Init())
	if revoked != 2 {
		t.Errorf("the findings ran %d times across a rebase, want 2", revoked)
	}
	m = drive(t, m, keys("1")...) // Events: the requests
	var ids []store.ID
	for it := m.res.set.Iterator(); it.HasNext(); {
		ids = append(ids, it.Next())
	}
	base := r.st.IDBase()
	m = drive(t, m, keys("P")...)
	var want []string
	for _, id := range ids {
		if kept(r.st, id, base) {
			want = append(want, r.st.Entry(store.ID(uint64(id)+base-r.st.IDBase())).AuditID)
		}
	}
	if len(sims) != 2 || strings.Join(sims[1], ",") != strings.Join(want, ",") || len(want) == 0 {
		t.Fatalf("%d simulations; the last over %d requests, want %d", len(sims), len(sims[len(sims)-1]), len(want))
	}
}

// rule:NAME evaluated after a rebase the detection log has not followed
// yet (the writer moves it after the store) keeps the flagged events.
func TestRuleTermAcrossRebase(t *testing.T) {
	r := newRebaser(t, 600)
	log := NewDetectionLog()
	m := detectModel(t, r.st, log, 120, 40)
	want := auditIDs(t, m)
	n := len(want)
	rows := []int{n - 30, n - 20, n - 10}
	flagRows(t, m, log, rows, "exec-into-pod", "exec-into-pod", "exec-into-pod")
	r.rebase(t)
	m = drive(t, m, filterAppliedMsg{text: "rule:exec-into-pod"})
	got := auditIDs(t, m)
	if len(got) != 3 || got[0] != want[rows[0]] || got[1] != want[rows[1]] || got[2] != want[rows[2]] {
		t.Fatalf("rule: after a rebase kept %v, want the 3 flagged %s %s %s", got, want[rows[0]], want[rows[1]], want[rows[2]])
	}
}

// w after a rebase, before the next result, writes the result's events.
func TestWriteAcrossRebase(t *testing.T) {
	r := newRebaser(t, 600)
	m := started(t, r.st, 120, 40)
	m.env.dir = t.TempDir()
	want := auditIDs(t, m)
	er := m.rows().(eventRows)
	r.rebase(t)
	stored := want[:0]
	for i, a := range want {
		if id, _ := er.id(i); kept(r.st, id, 0) {
			stored = append(stored, a)
		}
	}
	m = drive(t, m, keys("w")...)
	files, _ := filepath.Glob(filepath.Join(m.env.dir, "kaudit-selection-*.jsonl"))
	if len(files) != 1 {
		t.Fatalf("wrote %v (%s)", files, m.status.note)
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for line := range strings.SplitSeq(strings.TrimSpace(string(data)), "\n") {
		var ev struct{ AuditID string }
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatal(err)
		}
		got = append(got, ev.AuditID)
	}
	if len(stored) == 0 || strings.Join(got, ",") != strings.Join(stored, ",") {
		t.Fatalf("wrote %d events %v…, want %d %v…", len(got), got[:min(3, len(got))], len(stored), stored[:min(3, len(stored))])
	}
}

// A find's verdicts on redaction are of one ID base: a cache of an older
// base is not read, and what a find of an older base learnt is not added.
func TestShownCacheBase(t *testing.T) {
	c := (*shownCache)(nil).with([]uint32{1, 2}, 5)
	if !c.in(5).has(1) || c.in(6) != nil || c.in(4) != nil {
		t.Fatal("a cache read in another base")
	}
	if c.with([]uint32{3}, 4) != c {
		t.Fatal("an older find's verdicts were added")
	}
	n := c.with([]uint32{3}, 6)
	if n.base != 6 || n.has(1) || !n.has(3) {
		t.Fatal("a newer find's verdicts were merged with an older base's")
	}
}

// Pages and rows read while the writer rebases the store again and again
// (about every 300 events) are each the event they were asked for, or say
// it is gone; -race checks the reads beside the writer.
func TestPagesWhileRebasing(t *testing.T) {
	r := newRebaser(t, 600)
	m := started(t, r.st, 120, 40)
	er := m.rows().(eventRows)
	rows, _ := er.Window(0, er.Len(), m.timeFormat()) // the held result's rows
	// The auditID of each event by its place among all events appended
	// (ID base + ID), recorded by the writer, which alone changes the
	// store, before each Retain.
	var mu sync.Mutex
	var places []string
	record := func() {
		mu.Lock()
		defer mu.Unlock()
		base := r.st.IDBase()
		for p := uint64(len(places)); p < base+uint64(r.st.Len()); p++ {
			places = append(places, r.st.Entry(store.ID(p-base)).AuditID)
		}
	}
	placeOf := func(p uint64) (string, bool) {
		mu.Lock()
		defer mu.Unlock()
		if p < uint64(len(places)) {
			return places[p], true
		}
		return "", false
	}
	record()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := r.next; i+50 <= len(r.lines); i += 50 {
			appendBatch(t, r.st, r.lines[i:i+50])
			record()
			r.st.Retain(700, 0)
		}
	}()
	checked, gone := 0, 0
	for running := true; running; checked++ {
		select {
		case <-done:
			running = false
		default:
		}
		// A recent event, as a reader holding it would: its ID and the
		// base then. The store may rebase at any moment after.
		base, n := r.st.IDBase(), r.st.Len()
		id := store.ID(max(0, n-1-checked%300))
		want, ok := placeOf(base + uint64(id))
		if !ok {
			continue
		}
		msg := loadDetail(r.st, eventRef{id, base}, m.timeFormat())().(detailMsg)
		switch {
		case msg.title == goneTitle:
			gone++
		case !strings.Contains(msg.body, "auditID "+want+"\n"):
			t.Fatalf("place %d: the page of another event than %s:\n%.200s", base+uint64(id), want, msg.body)
		}
		from := (len(rows) - 20 - checked%100) % len(rows)
		cells, _ := er.Window(from, 20, m.timeFormat())
		for i, c := range cells {
			if c[1] != "(gone)" && strings.Join(c, "|") != strings.Join(rows[from+i], "|") {
				t.Fatalf("row %d: %q, was %q", from+i, c, rows[from+i])
			}
		}
	}
	if st := r.st.RebaseStats(); st.Rebases < 10 || checked == gone {
		t.Fatalf("%d rebases, %d pages read, %d gone: the test shows little", st.Rebases, checked, gone)
	}
}
