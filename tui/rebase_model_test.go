package tui

import (
	"context"
	"strings"
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

// The Detections tab after a rebase the log has not followed yet counts
// the flagged requests the filter keeps, and their latest time.
func TestDetectionsTabAcrossRebase(t *testing.T) {
	r := newRebaser(t, 600)
	log := NewDetectionLog()
	m := detectModel(t, r.st, log, 120, 40)
	n := m.rowCount()
	rows := []int{0, 1, n - 30, n - 20, n - 10} // the first two are dropped by the rebase
	flagRows(t, m, log, rows, "exec-into-pod", "exec-into-pod", "exec-into-pod", "exec-into-pod", "exec-into-pod")
	id, _ := m.rows().(eventRows).id(n - 10)
	last := r.st.Entry(id).Time
	r.rebase(t)
	m = drive(t, m, keys("D")...)
	if m.res.table == nil || len(m.res.table.Rows) != 1 {
		t.Fatalf("Detections tab: %v", m.res.table)
	}
	row := m.res.table.Rows[0]
	if row[2] != 3 || row[3] != 5 || !row[4].(time.Time).Equal(last) {
		t.Fatalf("Detections row %v: want 3 kept of 5 hits, the latest at %v", row, last)
	}
}
