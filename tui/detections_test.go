package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/kaudit/kaudit/store"
)

// plainRows returns n visible Events rows without a denial or 5xx mark,
// so that a hit mark on them can be seen.
func plainRows(t *testing.T, m Model, n int) []int {
	t.Helper()
	r := m.rows().(eventRows)
	_, marks := r.Window(0, m.bodyHeight(), m.timeFormat())
	var out []int
	for i, mk := range marks {
		if mk == markNone && len(out) < n {
			out = append(out, i)
		}
	}
	if len(out) < n {
		t.Fatalf("only %d plain rows on screen", len(out))
	}
	return out
}

func detectModel(t *testing.T, st *store.Store, log *DetectionLog, w, h int) Model {
	t.Helper()
	m := New(Options{Store: st, Now: fixedNow, Detections: log})
	m.env.clock = stepClock(time.Second)
	m = run(t, m, m.Init())
	return drive(t, m, tea.WindowSizeMsg{Width: w, Height: h})
}

// flagRows adds a hit of rules[i] on the event of Events row rows[i].
func flagRows(t *testing.T, m Model, log *DetectionLog, rows []int, rules ...string) {
	t.Helper()
	r := m.rows().(eventRows)
	for i, row := range rows {
		id, _ := r.id(row)
		sev := map[string]string{"exec-into-pod": "high", "secret-read": "medium"}[rules[i]]
		log.Add([]Detection{{Rule: rules[i], Severity: cmpOr(sev, "high"), Technique: "T1609", ID: id, Time: m.st.Entry(id).Time}})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Hits found while the browser runs are marked ◆ in the Events tab (no
// colour needed); D shows the Detections tab, most severe rule first;
// Enter on a rule drills into its requests with rule:NAME, an ordinary
// filter that esc and > go back and forth over.
func TestDetectionsMarksAndTab(t *testing.T) {
	st := genStore(t, 3000)
	log := NewDetectionLog()
	m := detectModel(t, st, log, 160, 45)
	if strings.Contains(m.View(), hitRune) {
		t.Fatal("a hit mark before any hit")
	}
	flagRows(t, m, log, plainRows(t, m, 3), "exec-into-pod", "exec-into-pod", "secret-read")
	m = drive(t, m, changedMsg{}) // the writer signals after adding hits
	lines := strings.Split(m.View(), "\n")
	marked := 0
	for _, l := range lines {
		if strings.HasPrefix(l, " "+hitRune) || strings.HasPrefix(l, ">"+hitRune) {
			marked++
		}
	}
	if !strings.Contains(lines[2], hitRune+" 3 ") || !strings.HasPrefix(lines[2], hitRune) {
		t.Errorf("the timeline's marker row lacks the hits: %q", lines[2])
	}
	if marked != 3 {
		t.Errorf("%d rows marked %s, want 3:\n%s", marked, hitRune, m.View())
	}
	m = drive(t, m, keys("D")...)
	if m.tab != tabDetections || m.over.pane != paneTable {
		t.Fatalf("D showed tab %d pane %d", m.tab, m.over.pane)
	}
	v := m.View()
	ei, si := strings.Index(v, "exec-into-pod"), strings.Index(v, "secret-read")
	if ei < 0 || si < 0 || ei > si || m.rowCount() != 2 {
		t.Errorf("want exec-into-pod (high, 2) before secret-read (medium, 1):\n%s", v)
	}
	if !strings.Contains(v, "[D Detections]") || !strings.Contains(v, "3 hits") {
		t.Errorf("no current tab or count line:\n%s", v)
	}
	m = drive(t, m, keys("enter")...)
	if m.tab != tabEvents || m.filter.String() != "rule:exec-into-pod" {
		t.Fatalf("enter on exec-into-pod: tab %d filter %q", m.tab, m.filter.String())
	}
	if n := m.rowCount(); n != 2 {
		t.Errorf("drill into exec-into-pod: %d rows, want 2:\n%s", n, m.View())
	}
	m = drive(t, m, keys("esc")...)
	if m.tab != tabDetections || m.filter.String() != "" || m.rowCount() != 2 {
		t.Errorf("esc after the drill: tab %d filter %q, %d rows", m.tab, m.filter.String(), m.rowCount())
	}
	m = drive(t, m, keys(">")...)
	if m.filter.String() != "rule:exec-into-pod" || m.rowCount() != 2 {
		t.Errorf("> after esc: filter %q, %d rows", m.filter.String(), m.rowCount())
	}
	// Any rule, by cursor: the second row.
	m = drive(t, m, keys("esc", "j", "enter")...)
	if m.filter.String() != "rule:secret-read" || m.rowCount() != 1 {
		t.Errorf("enter on the second rule: filter %q, %d rows", m.filter.String(), m.rowCount())
	}
	// rule:* with another term, typed: only flagged requests it keeps.
	m = drive(t, m, keys("/")...)
	m = drive(t, m, typed(" -rule:secret-*")...)
	m = drive(t, m, keys("enter")...)
	if m.status.err != "" || m.rowCount() != 0 {
		t.Errorf("rule:secret-read -rule:secret-*: err %q, %d rows", m.status.err, m.rowCount())
	}
	// Sorting the tab by each column keeps its rows.
	m = drive(t, m, filterAppliedMsg{text: ""})
	m = drive(t, m, keys("D", "s", "s", "s", "s", "s", "S")...)
	if m.tab != tabDetections || m.rowCount() != 2 || !strings.Contains(m.View(), "secret-read") {
		t.Errorf("sorting the Detections tab: tab %d, %d rows:\n%s", m.tab, m.rowCount(), m.View())
	}
}

// The tab bar with --detect: tab and shift+tab reach Detections, which
// is named at every size without cutting a name.
func TestDetectionsTabKeys(t *testing.T) {
	st := genStore(t, 300)
	for _, w := range []int{60, 80, 160} {
		m := detectModel(t, st, NewDetectionLog(), w, 24)
		m = drive(t, m, keys("shift+tab")...)
		if m.tab != tabDetections {
			t.Fatalf("%d: shift+tab from Events: tab %d", w, m.tab)
		}
		bar := strings.Split(m.View(), "\n")[4]
		if !strings.Contains(bar, "[D Detections]") || !strings.Contains(bar, "Src") && !strings.Contains(bar, "Sources") || ansi.StringWidth(bar) > w {
			t.Errorf("%d: tab bar %q", w, bar)
		}
		m = drive(t, m, keys("tab")...)
		if m.tab != tabEvents {
			t.Errorf("%d: tab from Detections: tab %d", w, m.tab)
		}
	}
}

// A rule fires on a request's first event past RequestReceived, the
// tables show its last: the request is still marked and selected.
func TestDetectionsOnEarlierStage(t *testing.T) {
	st := store.New()
	var buf []byte
	var starts []int
	for i, stage := range []string{"ResponseStarted", "ResponseComplete"} {
		starts = append(starts, len(buf))
		buf = fmt.Appendf(buf, `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"exec-1","stage":%q,"requestURI":"/api/v1/namespaces/a/pods/p/exec","verb":"create","user":{"username":"alice"},"objectRef":{"resource":"pods","namespace":"a","name":"p","subresource":"exec"},"responseStatus":{"code":101},"requestReceivedTimestamp":"2026-01-01T00:00:00.000000Z","stageTimestamp":"2026-01-01T00:00:0%d.000000Z"}`+"\n", stage, i+1)
	}
	starts = append(starts, len(buf))
	buf = append(buf, `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"get-1","stage":"ResponseComplete","requestURI":"/api/v1/pods","verb":"list","user":{"username":"bob"},"objectRef":{"resource":"pods"},"responseStatus":{"code":200},"requestReceivedTimestamp":"2026-01-01T00:00:03.000000Z","stageTimestamp":"2026-01-01T00:00:03.000000Z"}`+"\n"...)
	appendLines(t, st, buf, starts)
	log := NewDetectionLog()
	log.Add([]Detection{{Rule: "exec-into-pod", Severity: "high", ID: 0, Time: st.Entry(0).Time}})
	m := detectModel(t, st, log, 80, 24)
	if m.rowCount() != 2 {
		t.Fatalf("%d rows, want 2 requests", m.rowCount())
	}
	if _, marks := m.rows().Window(0, 2, m.timeFormat()); marks[0] != markHit || marks[1] != markNone {
		t.Errorf("marks %v: want the exec request marked, not the list", marks)
	}
	m = drive(t, m, keys("D", "enter")...)
	if id, _ := m.eventAt(0); m.rowCount() != 1 || id.id != 1 {
		t.Errorf("rule:exec-into-pod: %d rows (first %d), want the request's ResponseComplete (1)", m.rowCount(), id)
	}
	if !strings.Contains(strings.Split(m.View(), "\n")[2], hitRune+" 1 ") {
		t.Errorf("marker row under a filter: %q", strings.Split(m.View(), "\n")[2])
	}
}

// Without --detect, D does nothing, no tab is added and nothing is
// marked; a rule: term says why it cannot work.
func TestDetectionsOff(t *testing.T) {
	m := started(t, genStore(t, 300), 80, 24)
	m = drive(t, m, keys("D")...)
	if m.tab != tabEvents || strings.Contains(m.View(), hitRune) || strings.Contains(m.View(), "Det") {
		t.Errorf("D without detections:\n%s", m.View())
	}
	m = drive(t, m, keys("/")...)
	m = drive(t, m, typed("rule:exec-into-pod")...)
	m = drive(t, m, keys("enter")...)
	if !strings.Contains(m.status.err, "--detect") {
		t.Errorf("rule: without --detect: error %q", m.status.err)
	}
}

// The log keeps at most max hits: the oldest go, counted; what rule:
// selects and the per-slot counts follow what is kept.
func TestDetectionLogBound(t *testing.T) {
	l := NewDetectionLog()
	l.max = 4
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 10 {
		rule := []string{"a", "b"}[i%2]
		l.Add([]Detection{{Rule: rule, Severity: "low", ID: store.ID(i), Time: t0.Add(time.Duration(i) * time.Second)}})
	}
	l.Add([]Detection{{Rule: "a", Severity: "low", ID: 8, Time: t0.Add(8 * time.Second)}}) // again: one hit
	total, dropped := l.counts()
	if total != 10 || dropped != 6 {
		t.Errorf("total %d dropped %d, want 10 and 6", total, dropped)
	}
	all := l.Flagged(func(string) bool { return true })
	if got := all.ToArray(); fmt.Sprint(got) != "[6 7 8 9]" {
		t.Errorf("kept hits %v, want the latest four", got)
	}
	if a := l.Flagged(func(r string) bool { return r == "a" }).ToArray(); fmt.Sprint(a) != "[6 8]" {
		t.Errorf("rule a: %v", a)
	}
	h := l.slotHistogram(t0.UnixNano(), t0.Add(10*time.Second).UnixNano(), 10)
	if fmt.Sprint(h) != "[0 0 0 0 0 0 1 1 1 1]" {
		t.Errorf("per-slot counts %v", h)
	}
	if l.flaggedEvent(5, l.base) || !l.flaggedEvent(9, l.base) {
		t.Error("a dropped hit still marks its event, or a kept one does not")
	}
	sums := l.rulesSnapshot(0)
	if len(sums) != 2 || sums[0].count != 5 || sums[1].count != 5 {
		t.Errorf("counts by rule must count every hit: %+v", sums)
	}
}

func TestGoldenDetections(t *testing.T) {
	st := genStore(t, 3000)
	for _, size := range [][2]int{{60, 20}, {80, 24}, {160, 45}} {
		w, h := size[0], size[1]
		log := NewDetectionLog()
		m := detectModel(t, st, log, w, h)
		flagRows(t, m, log, plainRows(t, m, 2), "exec-into-pod", "hostpath-sensitive-mount")
		m = drive(t, m, changedMsg{})
		golden(t, fmt.Sprintf("events_detect_%dx%d.golden", w, h), m.View())
		m = drive(t, m, keys("D")...)
		golden(t, fmt.Sprintf("detections_%dx%d.golden", w, h), m.View())
	}
}
