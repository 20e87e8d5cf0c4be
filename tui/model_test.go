package tui

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/kaudit/kaudit/gen"
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
		if got := m.tables[tabEvents].Cursor(); got != s.want {
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
	// Without --detect there is no Detections tab: tab goes through the
	// others, Sources (which has no number key) included, and wraps.
	for i := range tabDetections {
		m = drive(t, m, keys("tab")...)
		want := (i + 1) % tabDetections
		if m.tab != want || m.rows() == nil {
			t.Fatalf("after %d tabs: tab %d (rows %v), want %d", i+1, m.tab, m.rows() != nil, want)
		}
		if i+1 == tabSources && !strings.Contains(m.View(), "[Sources]") {
			t.Fatalf("the Sources tab is not named current:\n%s", m.View())
		}
	}
	m = drive(t, m, keys("shift+tab")...)
	if m.tab != tabSources {
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
	m.tables[m.tab].SetCursor(row)
	m = drive(t, m, keys("enter")...)
	user, as, _ := strings.Cut(strings.TrimSuffix(key, ")"), " (as ")
	if f := m.filter.String(); f != "user:"+user+" as:"+as {
		t.Fatalf("drill on %q: filter %q", key, f)
	}
	if got := m.rowCount(); got != want {
		t.Errorf("drill on %q kept %d requests, the row says %d", key, got, want)
	}
	// Enter on a Latency row opens that request; ] the next row's.
	m = drive(t, m, keys("esc", "6", "j", "enter")...)
	if m.over.pane != paneEvent || m.over.want.id != m.res.table.IDs[1] {
		t.Fatalf("latency enter: pane %d event %d, want %d", m.over.pane, m.over.want.id, m.res.table.IDs[1])
	}
	m = drive(t, m, keys("]")...)
	if m.over.pane != paneEvent || m.over.want.id != m.res.table.IDs[2] || m.cursor() != 2 {
		t.Fatalf("]: event %d cursor %d, want %d", m.over.want.id, m.cursor(), m.res.table.IDs[2])
	}
	// A Denials row is a SUBJECT's: whose permissions were checked, not
	// whoever impersonated them.
	m = drive(t, m, keys("esc", "7")...)
	want = m.res.table.Rows[0][4].(int)
	m = drive(t, m, keys("enter")...)
	if f := m.filter.String(); !strings.HasPrefix(f, "denied subject:") {
		t.Fatalf("denials drill: filter %q", f)
	}
	if got := m.rowCount(); got != want {
		t.Errorf("denials drill kept %d requests, the row says %d", got, want)
	}
}

func TestDetail(t *testing.T) {
	m := started(t, genStore(t, 200), 80, 24)
	m = drive(t, m, keys("j", "enter")...)
	if !m.over.paged() || !strings.Contains(m.View(), `"auditID"`) {
		t.Fatalf("no detail page:\n%s", m.View())
	}
	top := m.View()
	m = drive(t, m, keys("j", "j", "j")...)
	if m.View() == top {
		t.Error("j does not scroll the detail page")
	}
	m = drive(t, m, keys("esc")...)
	if m.over.paged() || m.tables[tabEvents].Cursor() != 1 {
		t.Fatal("esc did not return to the table")
	}
}

func TestStaleResultDropped(t *testing.T) {
	m := started(t, genStore(t, 100), 80, 24)
	before := m.rowCount()
	nm, _ := m.Update(resultMsg{seq: m.work.seq - 1, set: &store.Set{}})
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
	m.env.clock = stepClock(time.Second)
	m.follow = true
	m = run(t, m, m.work.initCmd)
	m = drive(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
	m = drive(t, m, changedMsg{})
	n1 := m.rowCount()
	if !m.follow || m.tables[tabEvents].Cursor() != n1-1 {
		t.Fatalf("follow: cursor %d of %d", m.tables[tabEvents].Cursor(), n1)
	}
	appendN(100)
	m = drive(t, m, changedMsg{})
	if n2 := m.rowCount(); n2 <= n1 || m.tables[tabEvents].Cursor() != n2-1 {
		t.Fatalf("after more data: %d rows (was %d), cursor %d", n2, n1, m.tables[tabEvents].Cursor())
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
	if m.tables[tabEvents].Cursor() != 3 {
		t.Fatalf("jjj moved to %d", m.tables[tabEvents].Cursor())
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
	m.env.clock = stepClock(time.Second)
	m = run(t, m, m.work.initCmd)
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
	if !strings.HasPrefix(m.status.note, "wrote ") {
		t.Fatalf("w: %q", m.status.note)
	}
	path := m.status.note[strings.LastIndex(m.status.note, " ")+1:]
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(data, []byte("\n")); n != m.rowCount() || n == 0 {
		t.Fatalf("wrote %d lines, the filter keeps %d", n, m.rowCount())
	}
}

// setWriteDir points w at dir.
func (m *Model) setWriteDir(dir string) { m.env.dir = dir }

// The caret points at the error in cells, as the input draws the text:
// CJK before it takes two cells a character.
func TestFilterCaretWide(t *testing.T) {
	m := started(t, genStore(t, 50), 80, 24)
	m = drive(t, m, keys("/")...)
	m = drive(t, m, typed("user:日本語 usr:x")...)
	lines := strings.Split(ansi.Strip(m.bar.View()), "\n")
	if len(lines) != 3 {
		t.Fatalf("bar:\n%s", strings.Join(lines, "\n"))
	}
	want := ansi.StringWidth("/ user:日本語 ")
	if got := strings.Index(lines[1], "^"); got != want || !strings.Contains(lines[2], `unknown key "usr"`) {
		t.Errorf("caret at cell %d, want %d:\n%s", got, want, strings.Join(lines, "\n"))
	}
}
