package tui

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/kaudit/kaudit/store"
)

// Detection is one rule's hit on one stored event, as the browser shows
// it. cmd/kaudit turns package detect's hits into these (tui does not
// import detect).
type Detection struct {
	Rule, Severity string
	ID             store.ID
	Time           time.Time
}

// DetectionLog collects hits as the writer finds them (--detect) and
// hands the browser snapshots of them.
//
// Goroutines: the writer calls Add; the UI's event loop calls Snapshot. A
// mutex orders them; a snapshot is never written after it is returned
// (Add replaces the ID set rather than changing it, and appends only past
// the length a snapshot has).
type DetectionLog struct {
	mu   sync.Mutex
	hits []Detection
	ids  *store.Set
}

// NewDetectionLog returns an empty log.
func NewDetectionLog() *DetectionLog { return &DetectionLog{ids: &store.Set{}} }

// Add records hits.
func (l *DetectionLog) Add(hits []Detection) {
	if len(hits) == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	ids := l.ids.Clone()
	for _, h := range hits {
		ids.Add(h.ID)
	}
	l.hits, l.ids = append(l.hits, hits...), ids
}

// Snapshot returns the hits so far and the set of their events; neither
// may be changed by the caller.
func (l *DetectionLog) Snapshot() ([]Detection, *store.Set) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.hits[:len(l.hits):len(l.hits)], l.ids
}

// markHit flags an event some rule fired on ("◆", readable without colour).
const hitRune = "◆"

// hitIDs is the set of events with hits (nil without --detect).
func (m Model) hitIDs() *store.Set {
	if m.detections == nil {
		return nil
	}
	_, ids := m.detections.Snapshot()
	return ids
}

// detectionSummary is one line per rule: how many hits, how severe, when
// last, most severe and then most frequent first.
type detectionSummary struct {
	rule, severity string
	count          int
	last           time.Time
}

var severityRank = map[string]int{"critical": 4, "high": 3, "medium": 2, "low": 1}

func summarizeDetections(hits []Detection) []detectionSummary {
	idx := map[string]int{}
	var out []detectionSummary
	for _, h := range hits {
		i, ok := idx[h.Rule]
		if !ok {
			i = len(out)
			idx[h.Rule] = i
			out = append(out, detectionSummary{rule: h.Rule, severity: h.Severity})
		}
		out[i].count++
		if h.Time.After(out[i].last) {
			out[i].last = h.Time
		}
	}
	slices.SortFunc(out, func(a, b detectionSummary) int {
		return cmp.Or(severityRank[b.severity]-severityRank[a.severity], b.count-a.count, strings.Compare(a.rule, b.rule))
	})
	return out
}

// detectionsText is the Detections pane (D): hits by rule.
func detectionsText(hits []Detection, tf timeFormat) string {
	var b strings.Builder
	sums := summarizeDetections(hits)
	fmt.Fprintf(&b, "Detections: %d hits of %d rules · %s marks them in Events · esc: back\n\n", len(hits), len(sums), hitRune)
	if len(sums) == 0 {
		b.WriteString("no hits yet\n")
		return b.String()
	}
	w := len("RULE")
	for _, s := range sums {
		w = max(w, len(printable(s.rule)))
	}
	fmt.Fprintf(&b, "   %-*s  %-8s  %6s  %s\n", w, "RULE", "SEVERITY", "COUNT", "LAST")
	for i, s := range sums {
		n := " "
		if i < 9 {
			n = fmt.Sprint(i + 1) // the key that drills into its hits
		}
		fmt.Fprintf(&b, "%s  %-*s  %-8s  %6d  %s\n", n, w, printable(s.rule), printable(s.severity), s.count, tf.format(s.last))
	}
	if len(sums) > 0 {
		b.WriteString("\n1-9: the rule's events in the Events tab (its latest " + fmt.Sprint(maxDrillHits) + " hits)\n")
	}
	return b.String()
}

// showDetections opens the Detections pane.
func (m *Model) showDetections() {
	hits, _ := m.detections.Snapshot()
	m.show(paneDetections, detectionsText(hits, m.timeFormat()))
}

// maxDrillHits bounds a drill-down's filter: it names the hits' audit IDs,
// and a filter of thousands of them would be unreadable in the bar.
const maxDrillHits = 200

// detectionsKey handles D, and 1-9 in the Detections pane: the Nth rule's
// latest hits, as an auditid filter on the Events tab (esc comes back).
func (m Model) detectionsKey(k tea.KeyMsg) (Model, tea.Cmd, bool) {
	if m.detections == nil {
		return m, nil, false
	}
	if m.over.pane == paneTable && key.Matches(k, m.keys.Detections) {
		m.showDetections()
		return m, nil, true
	}
	if m.over.pane != paneDetections || k.Type != tea.KeyRunes || len(k.Runes) != 1 || k.Runes[0] < '1' || k.Runes[0] > '9' {
		return m, nil, false
	}
	hits, _ := m.detections.Snapshot()
	sums := summarizeDetections(hits)
	n := int(k.Runes[0] - '1')
	if n >= len(sums) {
		return m, nil, true
	}
	var ids []string
	seen := map[string]bool{}
	for i := len(hits) - 1; i >= 0 && len(ids) < maxDrillHits; i-- {
		if hits[i].Rule != sums[n].rule {
			continue
		}
		// An ID needing quotes could not sit in a comma list: left out.
		if id := m.st.Entry(hits[i].ID).AuditID; id != "" && quoteValue(id) == id && !strings.Contains(id, ",") && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		m.status.note = "its hits have no audit IDs to filter on"
		return m, nil, true
	}
	m.over = overlay{}
	m.back = append(m.back, backState{m.filter.String(), m.tab, m.cursor()})
	m.fwd = nil
	m.tables[m.tab].SetRows(nil, timeFormat{})
	m.tab = tabEvents
	m.tables[tabEvents].Reset()
	m.follow = false
	slices.Sort(ids)
	nm, cmd := m.applyFilter("auditid:"+strings.Join(ids, ","), false)
	nm.status.note = fmt.Sprintf("%s: %d of its %d hits", printable(sums[n].rule), len(ids), sums[n].count)
	return nm, cmd, true
}

// hitBuckets says which of the sparkline's n buckets hold a hit on a
// request the filter keeps, and how many such hits there are (nil without
// --detect). It walks the hits at every frame: a few milliseconds for
// 100k hits, and frames come at most five times a second.
func (m Model) hitBuckets(n int) ([]bool, int) {
	if m.detections == nil || n <= 0 {
		return nil, 0
	}
	at := make([]bool, n)
	hits, _ := m.detections.Snapshot()
	sp, kept, count := m.res.span, m.res.set, 0
	if !sp.valid() || kept == nil {
		return at, 0
	}
	for _, h := range hits {
		t := h.Time.UnixNano()
		if t < sp.from || t >= sp.to || !kept.Contains(h.ID) {
			continue
		}
		count++
		at[min(int(float64(t-sp.from)/float64(sp.to-sp.from)*float64(n)), n-1)] = true
	}
	return at, count
}
