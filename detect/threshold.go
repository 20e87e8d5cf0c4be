package detect

import (
	"container/list"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/kaudit/kaudit/store"
)

// Threshold turns a rule into "Count events (or Count distinct values of
// Distinct) per value of By within Window". The rule's filter and
// suppressions pick the events that count; a hit is reported on the event
// that reaches Count. That key then stays quiet for one Window (its events
// are not counted) and starts afresh: a long burst gives one hit per
// Window, not one per Count events.
type Threshold struct {
	Count    int      `yaml:"count" json:"count"`
	Distinct string   `yaml:"distinct,omitempty" json:"distinct,omitempty"`
	By       string   `yaml:"by" json:"by"`
	Window   Duration `yaml:"window" json:"window"`
}

// MaxThresholdCount bounds Count: a key's state holds fewer than Count
// entries, so this bounds the memory per key.
const MaxThresholdCount = 10000

// DefaultMaxKeys bounds the keys (values of By) a threshold rule tracks at
// once; beyond it the key seen least recently is forgotten.
const DefaultMaxKeys = 10000

// keyFields are the fields By and Distinct may name, read from the store.
var keyFields = map[string]func(e *store.Entry) string{
	"user":      func(e *store.Entry) string { return e.User.Name },
	"subject":   func(e *store.Entry) string { return e.Subject().Name },
	"sourceip":  func(e *store.Entry) string { return e.SourceIP },
	"name":      func(e *store.Entry) string { return e.Object.Name },
	"namespace": func(e *store.Entry) string { return e.Object.Namespace },
	"resource":  func(e *store.Entry) string { return e.Object.Resource },
	"verb":      func(e *store.Entry) string { return e.Verb },
	"useragent": func(e *store.Entry) string { return e.UserAgent },
}

func keyFieldNames() string {
	names := make([]string, 0, len(keyFields))
	for n := range keyFields {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func (t *Threshold) check() error {
	switch {
	case t.Count < 2 || t.Count > MaxThresholdCount:
		return fmt.Errorf("count %d: want 2 to %d", t.Count, MaxThresholdCount)
	case t.Window <= 0:
		return fmt.Errorf("window: want a positive duration such as 10m")
	case keyFields[t.By] == nil:
		return fmt.Errorf("by %q: want one of %s", t.By, keyFieldNames())
	case t.Distinct != "" && keyFields[t.Distinct] == nil:
		return fmt.Errorf("distinct %q: want one of %s", t.Distinct, keyFieldNames())
	}
	return nil
}

func (t *Threshold) String() string {
	what := "events"
	if t.Distinct != "" {
		what = "distinct " + t.Distinct
	}
	return fmt.Sprintf("%d %s per %s within %s", t.Count, what, t.By, time.Duration(t.Window))
}

// counter is the state of one threshold rule over the time-ordered stream.
//
// Memory is bounded: at most maxKeys keys, each holding fewer than Count
// entries (a key is reset when it reaches Count), so at most
// maxKeys×(Count−1) entries in all. When a new key would exceed maxKeys,
// the key seen least recently is dropped (its partial count is lost: a
// slow enumeration spread over more than maxKeys busy sources can be
// missed, which is documented in the package doc).
//
// Events whose By value (or Distinct value) is empty are not counted: a
// request without a source address cannot be attributed to one.
//
// Time is the events' stageTimestamp; the stream is assumed to be in time
// order (ingest merges by it), and a timestamp earlier than one already seen
// counts as the latest seen, so late events never widen a window. Events
// without a timestamp count at the latest time seen.
//
// A counter is used by one goroutine at a time (the Engine's caller).
type counter struct {
	t       *Threshold
	by, val func(*store.Entry) string
	maxKeys int
	now     time.Time
	keys    map[string]*list.Element // of *keyState, most recent at the back
	lru     *list.List
	evicted int
}

type keyState struct {
	key     string
	times   []time.Time          // count-only: times of the events, oldest first
	values  map[string]time.Time // distinct: each value's latest time
	firstAt time.Time            // earliest time in the window
	quiet   time.Time            // fired: not counting before this time
}

func newCounter(t *Threshold, maxKeys int) *counter {
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	c := &counter{t: t, by: keyFields[t.By], maxKeys: maxKeys, keys: map[string]*list.Element{}, lru: list.New()}
	if t.Distinct != "" {
		c.val = keyFields[t.Distinct]
	}
	return c
}

// Fired describes a threshold reached.
type Fired struct {
	Key   string    `json:"key"`   // the value of By
	Count int       `json:"count"` // events, or distinct values, within the window
	First time.Time `json:"first"` // the earliest of them
	Quiet bool      `json:"-"`     // not counted: the key fired less than a window ago
}

// add counts one event and reports whether it reached the threshold, and
// the count at this event either way.
func (c *counter) add(e *store.Entry) (Fired, bool) {
	at := e.Time
	if at.IsZero() || at.Before(c.now) {
		at = c.now
	}
	c.now = at
	key := c.by(e)
	if key == "" || c.val != nil && c.val(e) == "" {
		return Fired{}, false // cannot be attributed (no source address, no name)
	}
	ks := c.state(key)
	if at.Before(ks.quiet) {
		return Fired{Key: key, Quiet: true}, false
	}
	ks.expire(at.Add(-time.Duration(c.t.Window)))
	n := 0
	if c.val != nil {
		ks.values[c.val(e)] = at
		n = len(ks.values)
	} else {
		ks.times = append(ks.times, at)
		n = len(ks.times)
	}
	ks.updateFirst(at)
	f := Fired{Key: key, Count: n, First: ks.firstAt}
	if n >= c.t.Count {
		ks.reset()
		ks.quiet = at.Add(time.Duration(c.t.Window))
		return f, true
	}
	return f, false
}

func (c *counter) state(key string) *keyState {
	if el, ok := c.keys[key]; ok {
		c.lru.MoveToBack(el)
		return el.Value.(*keyState)
	}
	if len(c.keys) >= c.maxKeys {
		old := c.lru.Front()
		c.lru.Remove(old)
		delete(c.keys, old.Value.(*keyState).key)
		c.evicted++
	}
	ks := &keyState{key: key}
	if c.val != nil {
		ks.values = map[string]time.Time{}
	}
	c.keys[key] = c.lru.PushBack(ks)
	return ks
}

// expire drops what happened before cutoff.
func (ks *keyState) expire(cutoff time.Time) {
	if ks.values != nil {
		for v, at := range ks.values {
			if at.Before(cutoff) {
				delete(ks.values, v)
			}
		}
		return
	}
	i := 0
	for i < len(ks.times) && ks.times[i].Before(cutoff) {
		i++
	}
	ks.times = append(ks.times[:0], ks.times[i:]...)
}

func (ks *keyState) updateFirst(at time.Time) {
	ks.firstAt = at
	for _, t := range ks.times {
		if t.Before(ks.firstAt) {
			ks.firstAt = t
		}
	}
	for _, t := range ks.values {
		if t.Before(ks.firstAt) {
			ks.firstAt = t
		}
	}
}

func (ks *keyState) reset() {
	ks.times = ks.times[:0]
	clear(ks.values)
}
