package tui

import (
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

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

// Hits found while the browser runs are marked ◆ in the Events tab (no
// colour needed), and D lists them by rule, most severe first.
func TestDetectionsMarksAndPane(t *testing.T) {
	st := genStore(t, 3000)
	log := NewDetectionLog()
	m := detectModel(t, st, log, 160, 45)
	if strings.Contains(m.View(), hitRune) {
		t.Fatal("a hit mark before any hit")
	}
	r := m.rows().(eventRows)
	plain := plainRows(t, m, 3)
	var hits []Detection
	for i, row := range plain {
		id, _ := r.id(row)
		rule, sev := "exec-into-pod", "high"
		if i == 2 {
			rule, sev = "secret-read", "medium"
		}
		hits = append(hits, Detection{Rule: rule, Severity: sev, ID: id, Time: st.Entry(id).Time})
	}
	log.Add(hits)
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
	if m.over.pane != paneDetections {
		t.Fatalf("D opened pane %d", m.over.pane)
	}
	v := m.View()
	ei, si := strings.Index(v, "exec-into-pod"), strings.Index(v, "secret-read")
	if ei < 0 || si < 0 || ei > si {
		t.Errorf("want exec-into-pod (high, 2) before secret-read (medium, 1):\n%s", v)
	}
	if !strings.Contains(v, "3 hits of 2 rules") {
		t.Errorf("no count line:\n%s", v)
	}
	m = drive(t, m, keys("esc")...)
	if m.over.pane != paneTable {
		t.Errorf("esc left pane %d open", m.over.pane)
	}
	// 1 in the pane drills into the first rule's hits: its two events.
	m = drive(t, m, keys("D", "1")...)
	if m.over.pane != paneTable || m.tab != tabEvents || !strings.HasPrefix(m.filter.String(), "auditid:") {
		t.Fatalf("drill: pane %d tab %d filter %q", m.over.pane, m.tab, m.filter.String())
	}
	if n := m.rowCount(); n != 2 {
		t.Errorf("drill into exec-into-pod: %d rows, want 2:\n%s", n, m.View())
	}
	m = drive(t, m, keys("esc")...)
	if m.filter.String() != "" || m.rowCount() != 2999 {
		t.Errorf("esc after the drill: filter %q, %d rows", m.filter.String(), m.rowCount())
	}
}

// Without --detect, D does nothing and nothing is marked.
func TestDetectionsOff(t *testing.T) {
	m := started(t, genStore(t, 300), 80, 24)
	m = drive(t, m, keys("D")...)
	if m.over.pane != paneTable || strings.Contains(m.View(), hitRune) {
		t.Errorf("D without detections:\n%s", m.View())
	}
}

func TestSummarizeDetections(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	got := summarizeDetections([]Detection{
		{Rule: "a", Severity: "low", Time: t0}, {Rule: "b", Severity: "critical", Time: t0},
		{Rule: "a", Severity: "low", Time: t0.Add(time.Hour)}, {Rule: "c", Severity: "low", Time: t0},
	})
	want := []detectionSummary{{"b", "critical", 1, t0}, {"a", "low", 2, t0.Add(time.Hour)}, {"c", "low", 1, t0}}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestGoldenDetections(t *testing.T) {
	st := genStore(t, 3000)
	log := NewDetectionLog()
	m := detectModel(t, st, log, 80, 24)
	r := m.rows().(eventRows)
	for i, row := range plainRows(t, m, 2) {
		id, _ := r.id(row)
		log.Add([]Detection{{Rule: []string{"exec-into-pod", "hostpath-sensitive-mount"}[i], Severity: "high", ID: id, Time: st.Entry(id).Time}})
	}
	m = drive(t, m, changedMsg{})
	golden(t, "events_detect_80x24.golden", m.View())
	m = drive(t, m, keys("D")...)
	golden(t, "detections_80x24.golden", m.View())
}
