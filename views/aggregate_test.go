package views

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/gen"
	"github.com/kaudit/kaudit/store"
)

// reference builds view v the way Build did before views became
// aggregates: one walk, then sort (the functions below are that code).
func reference(st *store.Store, requests *store.Set, v View, top int) *Table {
	var t *Table
	switch v {
	case ViewUsers:
		t = refGroupTable(st, requests, v, text("USER", "user"), userKey)
	case ViewVerbs:
		t = refGroupTable(st, requests, v, text("VERB", "verb"), func(e *store.Entry) string { return e.Verb })
	case ViewResources:
		t = refGroupTable(st, requests, v, text("RESOURCE", "resource"), ResourceKey)
	case ViewNamespaces:
		t = refGroupTable(st, requests, v, text("NAMESPACE", "namespace"), func(e *store.Entry) string { return e.Object.Namespace })
	case ViewCodes:
		t = refGroupTable(st, requests, v, text("CODE", "code"), func(e *store.Entry) string { return codeKey(e.Code) })
	case ViewUserAgents:
		t = refGroupTable(st, requests, v, text("USER AGENT", "user_agent"), func(e *store.Entry) string { return e.UserAgent })
	case ViewSourceIPs:
		t = refGroupTable(st, requests, v, text("SOURCE IP", "source_ip"), func(e *store.Entry) string { return e.SourceIP })
	case ViewLatency:
		t = refLatencyTable(st, requests)
	case ViewDenials:
		t = refDenialsTable(st, requests)
	}
	if top > 0 && len(t.Rows) > top {
		t.Rows = t.Rows[:top]
		if t.IDs != nil {
			t.IDs = t.IDs[:top]
		}
	}
	return t
}

var aggViews = []View{ViewUsers, ViewVerbs, ViewResources, ViewNamespaces, ViewCodes, ViewLatency, ViewDenials, ViewUserAgents, ViewSourceIPs}

// genEvents decodes n generated events, and stages the generator leaves
// out so that later stages replace earlier ones as in a real log: a
// RequestReceived event for half of the requests, some events apart from
// the final one, and now and then a second ResponseComplete (a later
// stageTimestamp: a new latency).
func genEvents(t testing.TB, seed uint64, n int) ([]audit.Event, []byte, []int64) {
	t.Helper()
	g := gen.New(gen.Config{Seed: seed})
	rng := rand.New(rand.NewPCG(seed, 7))
	var buf, line []byte
	var evs []audit.Event
	var offs []int64
	emit := func(l []byte) {
		start := len(buf)
		buf = append(append(buf, l...), '\n')
		k := len(evs)
		var err error
		if evs, err = audit.Decode(l, evs); err != nil {
			t.Fatal(err)
		}
		for range evs[k:] {
			offs = append(offs, int64(start))
		}
	}
	type later struct {
		at   int
		line []byte
	}
	var queue []later
	for i := range n {
		line = bytes.TrimRight(g.Next(line[:0]), "\n")
		var ev map[string]any
		if err := json.Unmarshal(line, &ev); err != nil {
			t.Fatal(err)
		}
		final := slices.Clone(line)
		if rng.IntN(2) == 0 {
			rr := maps.Clone(ev)
			rr["stage"] = "RequestReceived"
			rr["stageTimestamp"] = ev["requestReceivedTimestamp"]
			delete(rr, "responseStatus")
			b, _ := json.Marshal(rr)
			emit(b)
			queue = append(queue, later{i + rng.IntN(30), final})
		} else {
			emit(final)
		}
		if rng.IntN(20) == 0 {
			again := maps.Clone(ev)
			if ts, err := time.Parse(time.RFC3339Nano, fmt.Sprint(ev["stageTimestamp"])); err == nil {
				again["stageTimestamp"] = ts.Add(time.Duration(rng.IntN(3000)) * time.Millisecond).Format(time.RFC3339Nano)
				b, _ := json.Marshal(again)
				queue = append(queue, later{i + 30 + rng.IntN(30), b})
			}
		}
		for len(queue) > 0 && queue[0].at <= i {
			emit(queue[0].line)
			queue = queue[1:]
		}
		sort.SliceStable(queue, func(a, b int) bool { return queue[a].at < queue[b].at })
	}
	for _, q := range queue {
		emit(q.line)
	}
	return evs, buf, offs
}

// TestAggregateIncremental appends generated events in random batches and
// folds each batch's change of the request set into aggregates (Remove the
// requests a later stage replaced, Add the new ones); after every batch
// each aggregate's table equals the reference built from scratch. A false
// Remove is answered by a rebuild, as the terminal UI does.
func TestAggregateIncremental(t *testing.T) {
	for _, seed := range []uint64{1} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			evs, buf, offs := genEvents(t, seed, 1500)
			rng := rand.New(rand.NewPCG(seed, 99))
			st := store.New()
			raw := bytes.NewReader(buf)
			type live struct {
				v    View
				top  int
				a    *Aggregate
				lost int // Removes answered false
			}
			var aggs []*live
			for _, v := range aggViews {
				for _, top := range []int{0, 3} {
					a, _ := NewAggregate(v, top)
					aggs = append(aggs, &live{v: v, top: top, a: a})
				}
			}
			prev, removedAny := roaring.New(), false
			for i := 0; i < len(evs); {
				n := min(len(evs)-i, 1+rng.IntN(400))
				st.Append(evs[i:i+n], raw, offs[i:i+n])
				i += n
				req := st.Requests()
				added, removed := roaring.AndNot(req, prev), roaring.AndNot(prev, req)
				removedAny = removedAny || !removed.IsEmpty()
				for _, l := range aggs {
					if l.a.Add(st, added); !l.a.Remove(st, removed) {
						l.lost++
						l.a, _ = NewAggregate(l.v, l.top)
						l.a.Add(st, req)
					}
					got, want := l.a.Table(), reference(st, req, l.v, l.top)
					if !reflect.DeepEqual(got, want) {
						t.Fatalf("%s top %d after %d events:\n got %v\nwant %v", l.v, l.top, i, got.Rows, want.Rows)
					}
				}
				prev = req
			}
			if !removedAny {
				t.Fatal("no request was replaced by a later stage: the test covers only Add")
			}
			for _, l := range aggs {
				if l.v != ViewLatency && l.lost > len(evs)/100 {
					t.Errorf("%s top %d: %d rebuilds", l.v, l.top, l.lost)
				}
			}
		})
	}
}

// Build is an aggregate filled at once; it still equals the reference.
func TestBuildMatchesReference(t *testing.T) {
	evs, buf, offs := genEvents(t, 5, 3000)
	st := store.New()
	st.Append(evs, bytes.NewReader(buf), offs)
	for _, v := range aggViews {
		for _, top := range []int{0, 1, 10} {
			got, err := Build(st, st.Requests(), v, top)
			if err != nil {
				t.Fatal(err)
			}
			if want := reference(st, st.Requests(), v, top); !reflect.DeepEqual(got, want) {
				t.Errorf("%s top %d differs", v, top)
			}
			if len(got.Rows) == 0 {
				t.Errorf("%s: no rows", v)
			}
		}
	}
	if _, err := NewAggregate(ViewEvents, 0); err == nil {
		t.Error("events is not an aggregate")
	}
}

// refGroup accumulates one row of a grouped view.
type refGroup struct {
	key       string
	requests  int
	denied    int
	errors5xx int
	latencies []time.Duration
}

func refGroupTable(st *store.Store, requests *store.Set, v View, keyCol Column, key func(*store.Entry) string) *Table {
	groups := map[string]*refGroup{}
	total := 0
	st.Each(requests, func(e *store.Entry) bool {
		k := key(e)
		g := groups[k]
		if g == nil {
			g = &refGroup{key: k}
			groups[k] = g
		}
		total++
		g.requests++
		if e.Denied {
			g.denied++
		}
		if e.Code >= 500 && e.Code < 600 {
			g.errors5xx++
		}
		if !e.LongRunning && e.Latency > 0 {
			g.latencies = append(g.latencies, e.Latency)
		}
		return true
	})
	rows := make([]*refGroup, 0, len(groups))
	for _, g := range groups {
		rows = append(rows, g)
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].requests != rows[j].requests {
			return rows[i].requests > rows[j].requests
		}
		return rows[i].key < rows[j].key
	})
	t := &Table{View: v, Columns: []Column{
		keyCol, integer("REQUESTS", "requests"), percent("SHARE", "share"), integer("DENIED", "denied"),
		integer("5XX", "5xx"), duration("P50", "p50"), duration("P99", "p99"),
	}}
	for _, g := range rows {
		slices.Sort(g.latencies)
		t.Rows = append(t.Rows, []any{g.key, g.requests, 100 * float64(g.requests) / float64(total), g.denied, g.errors5xx,
			quantile(g.latencies, 0.50), quantile(g.latencies, 0.99)})
	}
	return t
}

// refLatencyTable ranks the slowest requests, leaving out long-running ones
// (watches, exec, logs): their duration is the client's choice, not slowness.
func refLatencyTable(st *store.Store, requests *store.Set) *Table {
	type slow struct {
		e     store.Entry
		phase string
	}
	var rows []slow
	st.Each(requests, func(e *store.Entry) bool {
		if !e.LongRunning && e.Latency > 0 {
			rows = append(rows, slow{*e, largestPhase(e)})
		}
		return true
	})
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].e.Latency > rows[j].e.Latency })
	t := &Table{View: ViewLatency, Columns: []Column{
		timestamp("TIME", "time"), text("USER", "user"), text("VERB", "verb"), text("RESOURCE", "resource"),
		text("NAMESPACE/NAME", "object"), integer("CODE", "code"), duration("LATENCY", "latency"), text("LARGEST PHASE", "largest_phase"),
	}}
	for _, r := range rows {
		e := &r.e
		t.Rows = append(t.Rows, []any{e.Time, userKey(e), e.Verb, ResourceKey(e), objectName(e), int(e.Code), e.Latency, r.phase})
		t.IDs = append(t.IDs, e.ID)
	}
	return t
}

// refDenialsTable groups refused requests by who was refused what, where.
// Subject is the impersonated user when there is one: that is whose
// permissions were checked.
func refDenialsTable(st *store.Store, requests *store.Set) *Table {
	type key struct{ subject, verb, resource, namespace, cause string }
	type denial struct {
		key
		kind        string
		count       int
		first, last time.Time
		reason      string
	}
	groups := map[key]*denial{}
	st.Each(requests, func(e *store.Entry) bool {
		if !e.Denied && e.Code != 403 {
			return true
		}
		k := key{e.Subject().Name, e.Verb, ResourceKey(e), e.Object.Namespace, DenialCause(e)}
		d := groups[k]
		if d == nil {
			d = &denial{key: k, first: e.Time, last: e.Time}
			groups[k] = d
		}
		d.count++
		if e.Time.Before(d.first) {
			d.first = e.Time
		}
		if !e.Time.Before(d.last) {
			d.last = e.Time
			d.kind, d.reason = denialKind(e), denialReason(e)
		}
		return true
	})
	rows := make([]*denial, 0, len(groups))
	for _, d := range groups {
		rows = append(rows, d)
	}
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.count != b.count {
			return a.count > b.count
		}
		if a.subject != b.subject {
			return a.subject < b.subject
		}
		if a.verb != b.verb {
			return a.verb < b.verb
		}
		if a.resource != b.resource {
			return a.resource < b.resource
		}
		if a.namespace != b.namespace {
			return a.namespace < b.namespace
		}
		return a.cause < b.cause
	})
	t := &Table{View: ViewDenials, Columns: []Column{
		text("SUBJECT", "subject"), text("VERB", "verb"), text("RESOURCE", "resource"), text("NAMESPACE", "namespace"),
		integer("COUNT", "count"), timestamp("FIRST", "first"), timestamp("LAST", "last"), text("BY", "by"), text("REASON", "reason"),
	}}
	for _, d := range rows {
		t.Rows = append(t.Rows, []any{d.subject, d.verb, d.resource, d.namespace, d.count, d.first, d.last, d.kind, d.reason})
	}
	return t
}

// A group whose every request was taken back is gone; requests of the same
// key added later make it again (Add finds groups by column IDs, and must
// not fold them into the group it had left).
func TestAggregateGroupRefilled(t *testing.T) {
	evs, buf, offs := genEvents(t, 3, 300)
	st := store.New()
	st.Append(evs, bytes.NewReader(buf), offs)
	req := st.Requests()
	for _, v := range aggViews {
		a, _ := NewAggregate(v, 0)
		a.Add(st, req)
		if !a.Remove(st, req) {
			continue // latency may not take requests back exactly
		}
		if rows := a.Table().Rows; len(rows) != 0 {
			t.Fatalf("%s: %d rows after every request was removed", v, len(rows))
		}
		a.Add(st, req)
		if got, want := a.Table(), reference(st, req, v, 0); !reflect.DeepEqual(got, want) {
			t.Errorf("%s refilled:\n got %v\nwant %v", v, got.Rows, want.Rows)
		}
	}
}

// Merge of aggregates built over two halves of the requests writes the
// same table as one built over all of them, for every grouped view.
func TestAggregateMerge(t *testing.T) {
	evs, buf, offs := genEvents(t, 4, 2000)
	st := store.New()
	st.Append(evs, bytes.NewReader(buf), offs)
	req := st.Requests()
	mid, err := req.Select(uint32(req.GetCardinality() / 2))
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := req.Clone(), req.Clone()
	lo.RemoveRange(uint64(mid), 1<<32)
	hi.RemoveRange(0, uint64(mid))
	for _, v := range aggViews {
		a, _ := NewAggregate(v, 0)
		b, _ := NewAggregate(v, 0)
		a.Add(st, lo)
		b.Add(st, hi)
		b.Flush()
		a.Merge(b)
		if got, want := a.Table(), reference(st, req, v, 0); !reflect.DeepEqual(got, want) {
			t.Errorf("%s merged:\n got %v\nwant %v", v, got.Rows, want.Rows)
		}
	}
}
