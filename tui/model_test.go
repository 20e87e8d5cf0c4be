package tui

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/kaudit/kaudit/gen"
	"github.com/kaudit/kaudit/query"
	"github.com/kaudit/kaudit/store"
)

func TestNavigation(t *testing.T) {
	st := genStore(t, 500)
	m := started(t, st, 80, 24)
	n := m.rowCount()
	if n == 0 {
		t.Fatal("no rows")
	}
	steps := []struct {
		keys []tea.Msg
		want int
	}{
		{keys("j", "j", "down"), 3},
		{keys("k", "up"), 1},
		{keys("G"), n - 1},
		{keys("g"), 0},
		{keys("pgdown"), m.tableHeight() - 1},
		{keys("end"), n - 1},
	}
	for _, s := range steps {
		m = drive(t, m, s.keys...)
		if got := m.cursor[tabEvents]; got != s.want {
			t.Fatalf("after %v: cursor %d, want %d", s.keys, got, s.want)
		}
	}
	// The window follows the cursor: the last row is on screen.
	if !strings.Contains(m.View(), ">") {
		t.Error("cursor row not rendered")
	}
}

func TestTabs(t *testing.T) {
	m := started(t, genStore(t, 300), 80, 24)
	for i := range tabs {
		m = drive(t, m, keys("tab")...)
		want := (i + 1) % len(tabs)
		if m.tab != want || m.rows() == nil {
			t.Fatalf("after %d tabs: tab %d (rows %v), want %d", i+1, m.tab, m.rows() != nil, want)
		}
	}
	m = drive(t, m, keys("shift+tab")...)
	if m.tab != len(tabs)-1 {
		t.Fatalf("shift+tab from Events: tab %d", m.tab)
	}
	m = drive(t, m, keys("3")...)
	if m.tab != 2 || !strings.Contains(m.View(), "VERB") {
		t.Fatalf("3: tab %d\n%s", m.tab, m.View())
	}
}

func TestFilterBar(t *testing.T) {
	m := started(t, genStore(t, 500), 80, 24)
	all := m.rowCount()
	m = drive(t, m, keys("/")...)
	m = drive(t, m, typed("usr:bob")...)
	v := m.View()
	if !strings.Contains(v, `unknown key "usr"`) || !strings.Contains(v, "\n  ^") {
		t.Fatalf("no caret under the error:\n%s", v)
	}
	m = drive(t, m, keys("enter")...)
	if !m.bar.Focused() || m.filter.String() != "" {
		t.Fatal("enter applied a filter that does not compile")
	}
	// Fix it: backspace over "usr:bob", type "user:bob".
	for range len("usr:bob") {
		m = drive(t, m, keys("backspace")...)
	}
	m = drive(t, m, typed("user:bob")...)
	m = drive(t, m, keys("enter")...)
	if m.bar.Focused() || m.filter.String() != "user:bob" {
		t.Fatalf("filter %q focused %v", m.filter.String(), m.bar.Focused())
	}
	bob := m.rowCount()
	if bob == 0 || bob >= all {
		t.Fatalf("user:bob kept %d of %d", bob, all)
	}
	// Esc cancels an edit; the applied filter stays.
	m = drive(t, m, keys("/")...)
	m = drive(t, m, typed(" verb:get")...)
	m = drive(t, m, keys("esc")...)
	if m.filter.String() != "user:bob" || m.rowCount() != bob {
		t.Fatalf("esc changed the filter to %q", m.filter.String())
	}
	// History: up brings back the last applied filter.
	m = drive(t, m, keys("/")...)
	m = drive(t, m, keys("backspace", "backspace", "backspace")...)
	m = drive(t, m, keys("up")...)
	if got := m.bar.Value(); got != "user:bob" {
		t.Fatalf("history up: %q", got)
	}
	m = drive(t, m, keys("down")...)
	if got := m.bar.Value(); got != "" {
		t.Fatalf("history down past the newest: %q", got)
	}
}

// A paste arrives as one KeyMsg holding many runes: it lands intact.
func TestFilterPaste(t *testing.T) {
	m := started(t, genStore(t, 100), 80, 24)
	m = drive(t, m, keys("/")...)
	m = drive(t, m, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(`.verb == "get"`), Paste: true})
	if got := m.bar.Value(); got != `.verb == "get"` {
		t.Fatalf("pasted %q", got)
	}
}

func TestDrillDownAndBack(t *testing.T) {
	m := started(t, genStore(t, 1000), 80, 24)
	m = drive(t, m, keys("2")...)
	user, _ := m.res.table.Rows[0][0].(string)
	m = drive(t, m, keys("enter")...)
	if m.tab != tabEvents || m.filter.String() != "user:"+user+` as:""` {
		t.Fatalf("drill: tab %d filter %q", m.tab, m.filter.String())
	}
	if !strings.Contains(m.View(), "filter: user:"+user+` as:""`) {
		t.Fatalf("the term is not shown:\n%s", m.View())
	}
	m = drive(t, m, keys("esc")...)
	if m.tab != 1 || m.filter.String() != "" {
		t.Fatalf("back: tab %d filter %q", m.tab, m.filter.String())
	}
	// Users, Resources and Denials drill to terms that keep exactly that
	// row's requests.
	for _, tab := range []string{"2", "4", "7"} {
		m = drive(t, m, keys(tab)...)
		col := 1 // REQUESTS
		if tab == "7" {
			col = 4 // COUNT
		}
		want := m.res.table.Rows[0][col].(int)
		m = drive(t, m, keys("enter")...)
		if got := m.rowCount(); got != want {
			t.Errorf("tab %s: drill %q kept %d requests, row says %d", tab, m.filter.String(), got, want)
		}
		m = drive(t, m, keys("backspace")...)
	}
}

// An impersonated Users row drills to both users; a Latency row to its
// verb and resource.
func TestDrillImpersonatedAndLatency(t *testing.T) {
	m := started(t, genStore(t, 6000), 120, 40)
	m = drive(t, m, keys("2")...)
	row := -1
	for i, r := range m.res.table.Rows {
		if strings.Contains(r[0].(string), " (as ") {
			row = i
			break
		}
	}
	if row < 0 {
		t.Fatal("no impersonated row in the generated data")
	}
	key, want := m.res.table.Rows[row][0].(string), m.res.table.Rows[row][1].(int)
	m.cursor[m.tab] = row
	m = drive(t, m, keys("enter")...)
	user, as, _ := strings.Cut(strings.TrimSuffix(key, ")"), " (as ")
	if f := m.filter.String(); f != "user:"+user+" as:"+as {
		t.Fatalf("drill on %q: filter %q", key, f)
	}
	if got := m.rowCount(); got != want {
		t.Errorf("drill on %q kept %d requests, the row says %d", key, got, want)
	}
	m = drive(t, m, keys("esc", "6", "enter")...)
	if f := m.filter.String(); m.tab != tabEvents || !strings.HasPrefix(f, "verb:") || !strings.Contains(f, "resource:") {
		t.Fatalf("latency drill: tab %d filter %q", m.tab, f)
	}
	if !strings.Contains(m.View(), "filter: verb:") {
		t.Errorf("the term is not shown:\n%s", m.View())
	}
}

func TestDetail(t *testing.T) {
	m := started(t, genStore(t, 200), 80, 24)
	m = drive(t, m, keys("j", "enter")...)
	if m.detail == nil || !strings.Contains(m.View(), `"auditID"`) {
		t.Fatalf("no detail page:\n%s", m.View())
	}
	top := m.View()
	m = drive(t, m, keys("j", "j", "j")...)
	if m.View() == top {
		t.Error("j does not scroll the detail page")
	}
	m = drive(t, m, keys("esc")...)
	if m.detail != nil || m.cursor[tabEvents] != 1 {
		t.Fatal("esc did not return to the table")
	}
}

func TestStaleResultDropped(t *testing.T) {
	m := started(t, genStore(t, 100), 80, 24)
	before := m.rowCount()
	nm, _ := m.Update(resultMsg{seq: m.seq - 1, set: &store.Set{}})
	if got := nm.(Model).rowCount(); got != before {
		t.Fatalf("a stale result replaced the rows: %d, want %d", got, before)
	}
}

// Live data: appends raise the signal; a changedMsg recomputes; with
// follow on the cursor stays on the newest row; paused, nothing moves.
func TestLive(t *testing.T) {
	g := gen.New(gen.Config{Seed: 3})
	st := store.New()
	appendN := func(n int) { appendGen(t, st, g, n) }
	appendN(100)
	// No Signal in the model: the test plays the listening Cmd's part by
	// sending changedMsg itself (TestListen covers the Cmd).
	m := New(Options{Store: st, Now: fixedNow})
	m.clock = stepClock(time.Second)
	m.follow = true
	m = run(t, m, m.initCmd)
	m = drive(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
	m = drive(t, m, changedMsg{})
	n1 := m.rowCount()
	if !m.follow || m.cursor[tabEvents] != n1-1 {
		t.Fatalf("follow: cursor %d of %d", m.cursor[tabEvents], n1)
	}
	appendN(100)
	m = drive(t, m, changedMsg{})
	if n2 := m.rowCount(); n2 <= n1 || m.cursor[tabEvents] != n2-1 {
		t.Fatalf("after more data: %d rows (was %d), cursor %d", n2, n1, m.cursor[tabEvents])
	}
	m = drive(t, m, keys(" ")...)
	n2 := m.rowCount()
	appendN(100)
	m = drive(t, m, changedMsg{})
	if m.rowCount() != n2 || !strings.Contains(m.View(), "PAUSED") {
		t.Fatal("paused, yet new data was applied")
	}
	m = drive(t, m, keys(" ")...)
	if m.rowCount() <= n2 {
		t.Fatal("resume did not apply the data that arrived while paused")
	}
}

// The listening Cmd coalesces: a burst of notifications is one message,
// delivered no sooner than due; with an apply pending it does not wait for
// a signal.
func TestListen(t *testing.T) {
	sig := NewSignal()
	for range 1000 {
		sig.Notify() // never blocks
	}
	start := time.Now()
	if _, ok := listen(sig, start.Add(applyEvery), false)().(changedMsg); !ok {
		t.Fatal("listen did not produce changedMsg")
	}
	if d := time.Since(start); d < applyEvery-10*time.Millisecond {
		t.Errorf("woke after %v, want at least %v", d, applyEvery)
	}
	if len(sig) != 0 {
		t.Error("the burst left notifications behind")
	}
	if _, ok := listen(sig, time.Now(), true)().(changedMsg); !ok {
		t.Fatal("a pending listen did not produce changedMsg without a signal")
	}
}

// Keys that arrive together come as one message; each is handled, and
// after "/" the rest is filter text.
func TestKeysTogether(t *testing.T) {
	m := started(t, genStore(t, 300), 80, 24)
	m.follow = false
	m = drive(t, m, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("jjj")})
	if m.cursor[tabEvents] != 3 {
		t.Fatalf("jjj moved to %d", m.cursor[tabEvents])
	}
	m = drive(t, m, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("2/verb:get")})
	if m.tab != 1 || !m.bar.Focused() || m.bar.Value() != "verb:get" {
		t.Fatalf("tab %d focused %v value %q", m.tab, m.bar.Focused(), m.bar.Value())
	}
}

// A replay still loading shows its progress in the header.
func TestLoadingProgress(t *testing.T) {
	st := genStore(t, 100)
	p := Progress{Source: "audit.log", Bytes: 450 << 20, TotalBytes: 1000 << 20, Events: 123456, Problems: 2, Loading: true}
	m := New(Options{Store: st, Now: fixedNow, Progress: func() Progress { return p }})
	m.clock = stepClock(time.Second)
	m = run(t, m, m.initCmd)
	m = drive(t, m, tea.WindowSizeMsg{Width: 120, Height: 24})
	head := strings.SplitN(m.View(), "\n", 2)[0]
	for _, want := range []string{"audit.log", "loading [####......] 45% of 1000.0 MiB 123456 ev", "2 skipped"} {
		if !strings.Contains(head, want) {
			t.Errorf("header %q lacks %q", head, want)
		}
	}
	p.Loading = false
	m = drive(t, m, changedMsg{})
	if strings.Contains(m.View(), "loading") {
		t.Error("still loading after the replay finished")
	}
}

func TestSortAndWrite(t *testing.T) {
	st := genStore(t, 1000)
	m := started(t, st, 120, 40)
	m.setWriteDir(t.TempDir())
	m = drive(t, m, keys("2", "s")...) // Users by USER ascending
	rows := m.res.table.Rows
	for i := 1; i < len(rows); i++ {
		if rows[i-1][0].(string) > rows[i][0].(string) {
			t.Fatalf("s: rows not by USER: %q before %q", rows[i-1][0], rows[i][0])
		}
	}
	if !strings.Contains(m.View(), "by USER ↑") {
		t.Error("sort not shown")
	}
	m = drive(t, m, keys("S")...)
	if first := m.res.table.Rows[0][0].(string); first < rows[len(rows)-1][0].(string) {
		t.Fatalf("S did not reverse: first %q", first)
	}
	// Events newest first: row 0 is the last request.
	m = drive(t, m, keys("1", "S", "g")...)
	last := m.res.set.Maximum()
	if id, _ := m.rows().(eventRows).id(0); id != last {
		t.Fatalf("newest first: row 0 is %d, want %d", id, last)
	}
	// w writes the selection as JSON lines.
	m = drive(t, m, keys("/")...)
	m = drive(t, m, typed("denied")...)
	m = drive(t, m, keys("enter", "w")...)
	if !strings.HasPrefix(m.note, "wrote ") {
		t.Fatalf("w: %q", m.note)
	}
	path := m.note[strings.LastIndex(m.note, " ")+1:]
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(data, []byte("\n")); n != m.rowCount() || n == 0 {
		t.Fatalf("wrote %d lines, the filter keeps %d", n, m.rowCount())
	}
}

// setWriteDir points w at dir.
func (m *Model) setWriteDir(dir string) { m.dir = dir }

// A slow computation with more data waiting is followed by a pause as
// long as it took, not at once.
func TestSlowRecomputeSpaced(t *testing.T) {
	m := started(t, genStore(t, 100), 80, 24)
	now := gen.DefaultStart.Add(time.Hour)
	m.clock = func() time.Time { return now }
	nm, cmd := m.Update(changedMsg{})
	m = nm.(Model)
	if !m.busy || cmd == nil || m.applies != 1 {
		t.Fatal("changedMsg started no computation")
	}
	nm, _ = m.Update(changedMsg{}) // more data while busy
	m = nm.(Model)
	now = now.Add(applyEvery + time.Millisecond)
	nm, _ = m.Update(resultMsg{seq: m.seq, set: m.res.set, took: 2 * applyEvery})
	m = nm.(Model)
	if m.busy || !m.pending || m.applies != 1 {
		t.Fatalf("after a slow result: busy %v, pending %v, applies %d", m.busy, m.pending, m.applies)
	}
	now = now.Add(applyEvery)
	nm, _ = m.Update(changedMsg{}) // the listening Cmd, once due
	if m = nm.(Model); !m.busy || m.applies != 2 {
		t.Fatalf("the pending data was not applied: busy %v, applies %d", m.busy, m.applies)
	}
}

// Ingest redraws at most five times a second: a burst of 10 000 events a
// second, with the listening Cmd waking the model every 10 ms (more often
// than it does), is applied once per applyEvery, and the screen changes
// only when it is. Nothing is lost: the last data is applied once due.
func TestApplyBudget(t *testing.T) {
	g := gen.New(gen.Config{Seed: 4})
	st := store.New()
	appendGen(t, st, g, 1000)
	now := gen.DefaultStart.Add(time.Hour)
	m := New(Options{Store: st, Now: fixedNow})
	m.clock = func() time.Time { return now }
	m = run(t, m, m.initCmd)
	m = drive(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
	const seconds, step = 2, 10 * time.Millisecond
	redraws, prev := 0, m.View()
	for range seconds * time.Second / step {
		now = now.Add(step)
		appendGen(t, st, g, 100)
		m = drive(t, m, changedMsg{})
		if v := m.View(); v != prev {
			redraws, prev = redraws+1, v
		}
	}
	limit := int(seconds*time.Second/applyEvery) + 1
	if m.applies > limit || redraws > limit {
		t.Errorf("%d applies and %d redraws in %ds, want at most %d", m.applies, redraws, seconds, limit)
	}
	if m.applies < limit-2 {
		t.Errorf("only %d applies in %ds", m.applies, seconds)
	}
	t.Logf("%d applies, %d redraws in %d simulated seconds at 10k events/s", m.applies, redraws, seconds)
	now = now.Add(applyEvery)
	m = drive(t, m, changedMsg{})
	if got, want := m.rowCount(), int(st.Requests().GetCardinality()); got != want {
		t.Errorf("after the burst: %d rows, the store has %d requests", got, want)
	}
}

// A tab switched to while a computation runs is computed after it, from
// the live state the running one hands back, not by cancelling it.
func TestTabWhileBusy(t *testing.T) {
	st := genStore(t, 500)
	m := started(t, st, 80, 24)
	nm, cmd := m.Update(changedMsg{})
	m = nm.(Model)
	if !m.busy {
		t.Fatal("no computation")
	}
	nm, next := m.Update(keys("2")[0])
	m = nm.(Model)
	if next != nil || !m.redo {
		t.Fatal("the tab switch cancelled or raced the running computation")
	}
	m = run(t, m, cmd)
	if m.busy || m.res.tab != 1 || m.res.table == nil || m.live == nil || m.live.aggs[1] == nil {
		t.Fatalf("after the switch: busy %v, tab %d", m.busy, m.res.tab)
	}
}

// The detail page shows the request and response bodies in sections of
// their own, pretty-printed; the event below leaves them out, keeping the
// order of its other fields.
func TestDetailBodies(t *testing.T) {
	data, err := os.ReadFile("../testdata/public/khi-oss-kind-requestresponse.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	line, _, _ := bytes.Cut(data, []byte("\n"))
	st := store.New()
	appendLines(t, st, line, []int{0})
	page := stripANSI(renderDetail(st, 0, timeFormat{}))
	req := strings.Index(page, "\nRequest body (requestObject)\n{\n  \"kind\": \"Lease\",\n")
	resp := strings.Index(page, "\nResponse body (responseObject)\n{\n  \"kind\": \"Lease\",\n")
	ev := strings.Index(page, "\nEvent (bodies above)\n{\n  \"kind\": \"Event\",\n")
	if req < 0 || resp < req || ev < resp {
		t.Fatalf("sections missing or out of order (%d %d %d):\n%s", req, resp, ev, page)
	}
	if strings.Contains(page[ev:], `"requestObject"`) || strings.Contains(page[ev:], `"responseObject"`) {
		t.Error("the event section repeats the bodies")
	}
	if !strings.Contains(page[resp:ev], `"resourceVersion": "5812"`) || !strings.Contains(page[req:resp], `"resourceVersion": "5808"`) {
		t.Error("request and response bodies mixed up")
	}
	if i, j := strings.Index(page[ev:], `"responseStatus"`), strings.Index(page[ev:], `"requestReceivedTimestamp"`); i < 0 || j < i {
		t.Error("the event's field order changed")
	}
	m := started(t, st, 120, 40)
	m = drive(t, m, keys("enter")...)
	golden(t, "detail_bodies_120x40.golden", m.View())
	// Scrollable: the page is longer than the screen, and G reaches its end.
	m = drive(t, m, keys("G")...)
	if !strings.Contains(m.View(), `"job"`) {
		t.Errorf("G did not scroll to the end:\n%s", m.View())
	}
}

// s sorts the Events tab by user, verb, resource, code, latency, then back
// to time (input) order; S reverses. The sort runs once, in a Cmd, into an
// index; a sorted tab catches up with live data.
func TestEventsSort(t *testing.T) {
	g := gen.New(gen.Config{Seed: 9})
	st := store.New()
	appendGen(t, st, g, 2000)
	m := started(t, st, 120, 40)
	key := func(col int, id store.ID) string {
		e := st.Entry(id)
		switch col {
		case 1:
			return userName(&e)
		case 2:
			return e.Verb
		case 3:
			return query.ResourceKey(&e)
		case 5:
			return fmt.Sprintf("%08d", e.Code)
		}
		return fmt.Sprintf("%020d", e.Latency)
	}
	sorted := func(col int, desc bool) {
		t.Helper()
		r := m.rows().(eventRows)
		if r.order == nil || r.Len() != int(m.res.set.GetCardinality()) {
			t.Fatalf("col %d: no sorted index of all %d rows", col, m.res.set.GetCardinality())
		}
		prev := ""
		for i := range r.Len() {
			id, _ := r.id(i)
			k := key(col, id)
			if i > 0 && (k < prev && !desc || k > prev && desc) {
				t.Fatalf("col %d desc %v: row %d %q after %q", col, desc, i, k, prev)
			}
			prev = k
		}
	}
	for _, col := range []int{1, 2, 3, 5, 6} {
		m = drive(t, m, keys("s")...)
		if m.sorts[tabEvents].col != col {
			t.Fatalf("s: column %d, want %d", m.sorts[tabEvents].col, col)
		}
		if want := "by " + eventColumns[col].Header + " ↑"; !strings.Contains(m.View(), want) {
			t.Fatalf("label %q not shown", want)
		}
		sorted(col, false)
	}
	m = drive(t, m, keys("S")...)
	sorted(6, true)
	// Live: new requests join the sorted rows once a re-sort is due.
	appendGen(t, st, g, 500)
	m = drive(t, m, changedMsg{})
	if got, want := m.rowCount(), int(st.Requests().GetCardinality()); got != want {
		t.Fatalf("after more data: %d sorted rows, %d requests", got, want)
	}
	sorted(6, true)
	// A new filter: the index follows it.
	m = drive(t, m, keys("/")...)
	m = drive(t, m, typed("verb:get")...)
	m = drive(t, m, keys("enter")...)
	if got := m.rowCount(); got != int(m.res.set.GetCardinality()) {
		t.Fatalf("after a filter: %d rows, the filter keeps %d", got, m.res.set.GetCardinality())
	}
	sorted(6, true)
	m = drive(t, m, keys("s", "S")...)
	if m.sorts[tabEvents].col != -1 || m.rows().(eventRows).order != nil || strings.Contains(m.View(), "by ") {
		t.Fatal("s after LATENCY did not return to time order")
	}
}
