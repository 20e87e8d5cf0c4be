package tui

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/kaudit/kaudit/store"
)

// Detection is one rule's hit on one stored event, as the browser shows
// it. cmd/kaudit turns package detect's hits into these (tui does not
// import detect).
type Detection struct {
	Rule, Severity string
	Technique      string // MITRE ATT&CK ID, "" when none applies
	ID             store.ID
	Time           time.Time
}

// MaxLoggedHits bounds the hits the browser keeps (--detect): past it the
// oldest are dropped (counted, and said on the Detections tab). A kept hit
// costs about 20 bytes (the log's ring and the rule's set of events), so
// the bound is about 20 MiB. Counts by rule go on counting every hit; a
// dropped hit is no longer on the timeline nor selected by rule:NAME.
const MaxLoggedHits = 1 << 20

// DetectionLog collects hits as the writer finds them (--detect) and
// answers the browser: counts by rule, the events each rule flagged
// (rule:NAME, the ◆ marks) and hits per time slot (the timeline's marker
// row), all kept up to date as hits arrive, so that no frame walks them.
//
// Goroutines: the writer calls Add; the UI's event loop and its
// computations call the rest. A mutex orders them; what is handed out is a
// copy.
type DetectionLog struct {
	mu      sync.Mutex
	max     int // MaxLoggedHits (tests lower it)
	byName  map[string]int
	rules   []*ruleLog  // in order of first hit
	ring    []loggedHit // the kept hits, oldest at head once full
	head    int         // next slot to overwrite once len(ring) == max
	all     *store.Set  // events with a kept hit of any rule
	slots   *timeline   // kept hits per time slot (counts in [0])
	span    [2]int64    // the kept hits' time span, for the slots' width
	total   int64       // hits ever added
	dropped int64       // hits dropped past max
	base    uint64      // the store's ID base of the IDs (store.Store.IDBase)
}

// ruleLog is one rule's hits.
type ruleLog struct {
	name, severity, technique string
	count                     int64      // every hit, dropped ones too
	last                      time.Time  // the latest hit's time
	ids                       *store.Set // the events of its kept hits
}

// loggedHit is a kept hit: what dropping it must undo.
type loggedHit struct {
	id   store.ID
	rule int32
	t    int64 // Unix ns; 0 when the event has no time
}

// NewDetectionLog returns an empty log.
func NewDetectionLog() *DetectionLog {
	return &DetectionLog{max: MaxLoggedHits, byName: map[string]int{}, all: roaring.New(), slots: newTimeline()}
}

// Add records hits.
func (l *DetectionLog) Add(hits []Detection) {
	if len(hits) == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, h := range hits {
		l.add(h)
	}
}

func (l *DetectionLog) add(h Detection) {
	ri, ok := l.byName[h.Rule]
	if !ok {
		ri = len(l.rules)
		l.byName[h.Rule] = ri
		l.rules = append(l.rules, &ruleLog{name: h.Rule, severity: h.Severity, technique: h.Technique, ids: roaring.New()})
	}
	r := l.rules[ri]
	if r.ids.Contains(h.ID) {
		return // the same rule on the same event (a repeated Add): one hit
	}
	l.total++
	r.count++
	if h.Time.After(r.last) {
		r.last = h.Time
	}
	var t int64
	if !h.Time.IsZero() {
		t = h.Time.UnixNano()
	}
	lh := loggedHit{id: h.ID, rule: int32(ri), t: t}
	if len(l.ring) < l.max {
		l.ring = append(l.ring, lh)
	} else {
		l.drop(l.ring[l.head])
		l.ring[l.head] = lh
		l.head = (l.head + 1) % l.max
	}
	r.ids.Add(h.ID)
	l.all.Add(h.ID)
	if t > 0 {
		if l.span[0] == 0 || t < l.span[0] {
			l.span[0] = t
		}
		l.span[1] = max(l.span[1], t)
		l.slots.fit(l.span[1] - l.span[0])
		l.slots.addAt(t, 1)
	}
}

// Rebased moves the kept hits' IDs to the store's ID base base, as the
// store moved its events' (see store.Store.IDBase); hits on events gone
// stay counted but flag nothing. The writer calls it before each Add.
func (l *DetectionLog) Rebased(base uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if base <= l.base {
		return // bases only grow: an older reading of the store's is no news
	}
	d := base - l.base
	l.base = base
	for i := range l.ring {
		if h := &l.ring[i]; uint64(h.id) >= d && h.id != goneHit {
			h.id -= store.ID(d)
		} else {
			h.id = goneHit
		}
	}
	for _, r := range l.rules {
		r.ids = roaring.AddOffset64(r.ids, -int64(d))
	}
	l.all = roaring.AddOffset64(l.all, -int64(d))
}

// goneHit is the ID of a kept hit whose event a rebase dropped: no
// event's (store IDs stay below it).
const goneHit = ^store.ID(0)

// drop forgets the oldest kept hit.
func (l *DetectionLog) drop(h loggedHit) {
	l.dropped++
	l.rules[h.rule].ids.Remove(h.id)
	if h.t > 0 {
		l.slots.addAt(h.t, -1)
	}
	for _, r := range l.rules {
		if r.ids.Contains(h.id) {
			return // another rule still flags the event
		}
	}
	l.all.Remove(h.id)
}

// Flagged returns the events that rules whose names match flagged
// (query.Flagged: what rule:NAME selects).
func (l *DetectionLog) Flagged(match func(rule string) bool) *store.Set {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.flagged(match, l.base)
}

// flagged is Flagged in ID base base. The caller holds l.mu.
func (l *DetectionLog) flagged(match func(rule string) bool, base uint64) *store.Set {
	out := roaring.New()
	for _, r := range l.rules {
		if match(r.name) {
			out.Or(r.ids)
		}
	}
	return moveSet(out, l.base, base)
}

// Kept returns a copy of the kept hits, oldest first.
func (l *DetectionLog) Kept() []Detection {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Detection, 0, len(l.ring))
	for i := range l.ring {
		h := l.ring[(l.head+i)%len(l.ring)]
		r := l.rules[h.rule]
		d := Detection{Rule: r.name, Severity: r.severity, Technique: r.technique, ID: h.id}
		if h.t > 0 {
			d.Time = time.Unix(0, h.t).UTC()
		}
		out = append(out, d)
	}
	return out
}

// flaggedEvent reports whether a rule flagged event id, an ID of base.
func (l *DetectionLog) flaggedEvent(id store.ID, base uint64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	at, ok := moveID(id, base, l.base)
	return ok && l.all.Contains(at)
}

// flaggedIn is the log as query.Flagged sees it: its sets in the store's
// current ID base (a rebase during the evaluation makes compute start
// again).
type flaggedIn struct {
	l  *DetectionLog
	st *store.Store
}

func (f flaggedIn) Flagged(match func(rule string) bool) *store.Set {
	base := f.st.IDBase()
	f.l.mu.Lock()
	defer f.l.mu.Unlock()
	return f.l.flagged(match, base)
}

// counts is the hits ever added and those dropped.
func (l *DetectionLog) counts() (total, dropped int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total, l.dropped
}

// slotHistogram is the kept hits per bucket of [from, to), from the
// per-slot counts: its cost is the slots', not the hits'.
func (l *DetectionLog) slotHistogram(from, to int64, buckets int) []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.slots.histogram(from, to, buckets).counts
}

// ruleSummary is one rule's line on the Detections tab.
type ruleSummary struct {
	rule, severity, technique string
	count                     int64     // every hit
	last                      time.Time // the latest hit
	ids                       *store.Set
}

// rulesSnapshot is every rule's counts and a copy of its kept events, in
// ID base base.
func (l *DetectionLog) rulesSnapshot(base uint64) []ruleSummary {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]ruleSummary, len(l.rules))
	for i, r := range l.rules {
		ids := moveSet(r.ids, l.base, base)
		if ids == r.ids {
			ids = r.ids.Clone()
		}
		out[i] = ruleSummary{rule: r.name, severity: r.severity, technique: r.technique, count: r.count, last: r.last, ids: ids}
	}
	return out
}

var severityRank = map[string]int{"critical": 4, "high": 3, "medium": 2, "low": 1}

// sortSummaries puts the most severe first, then the most frequent.
func sortSummaries(s []ruleSummary) {
	slices.SortFunc(s, func(a, b ruleSummary) int {
		return cmp.Or(severityRank[b.severity]-severityRank[a.severity], cmp.Compare(b.count, a.count), strings.Compare(a.rule, b.rule))
	})
}

// hitRune flags an event some rule fired on ("◆", readable without colour).
const hitRune = "◆"

// hitCheck is how the Events tab tells a flagged request (nil without
// --detect): a rule fires on one event of a request (its first past
// RequestReceived) and the tab shows another (its last), so every stage
// is looked at — for the visible rows only.
// id is in the store's current ID base, base.
func (m Model) hitCheck() func(id store.ID, base uint64) bool {
	dl, st := m.detections, m.st
	if dl == nil {
		return nil
	}
	return func(id store.ID, base uint64) bool {
		if dl.flaggedEvent(id, base) {
			return true
		}
		for _, s := range st.Stages(id) {
			if s != id && dl.flaggedEvent(s, base) {
				return true
			}
		}
		return false
	}
}
