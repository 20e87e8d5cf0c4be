package store

import (
	"bytes"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kaudit/kaudit/audit"
)

// churnRaw is the raw segment of churnEvents: every event's bytes are the
// same two.
var churnRaw = bytes.NewReader([]byte("{}"))

// churnEvents makes events from..from+n-1 of a cluster that churns: every
// event names a new pod, every 10 a new namespace (and service account
// with its group), every 3 a new user agent, as generated names and
// rolling deployments do. Event i's fields are a function of i alone
// (churnName), so a reader can check any event it reads.
func churnEvents(from, n int) ([]audit.Event, []int64) {
	evs := make([]audit.Event, n)
	offs := make([]int64, n)
	raw := []byte("{}")
	t0 := time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC)
	for k := range evs {
		i := from + k
		ns := fmt.Sprintf("ns-%d", i/10)
		e := &evs[k]
		e.AuditID = fmt.Sprintf("%08x-0000-4000-8000-%012x", i>>16, i)
		e.Stage, e.Level = audit.StageResponseComplete, audit.LevelMetadata
		e.Verb = []string{"get", "list", "update", "delete"}[i%4]
		e.User = audit.UserInfo{
			Name:   "system:serviceaccount:" + ns + ":builder",
			Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
		}
		e.Object = audit.ObjectRef{Resource: "pods", Namespace: ns, Name: churnName(i), APIVersion: "v1"}
		e.UserAgent = fmt.Sprintf("builder/%d", i/3)
		e.SourceIP = fmt.Sprintf("10.0.%d.%d", i/250%250, i%250)
		e.Code = 200
		if i%7 == 0 {
			e.Code, e.Decision, e.Reason = 403, "forbid", "no rule for "+ns
		}
		e.Received = t0.Add(time.Duration(i) * time.Millisecond)
		e.StageTime = e.Received.Add(time.Duration(i%100) * time.Millisecond)
		e.Raw = raw
	}
	return evs, offs
}

func churnName(i int) string { return fmt.Sprintf("web-%d-%x", i, i*2654435761%1000003) }

// dictSizes is the size of every dictionary of s.
func dictSizes(s *Store) map[string]int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	m := map[string]int{"groups": len(s.groups.strs), "groupSets": len(s.groupSets.strs), "setMembers": len(s.setMembers)}
	for col := range s.dicts {
		m[fmt.Sprint("col", col)] = len(s.dicts[col].strs)
		if p := s.dicts[col].postings; p != nil && len(p) != len(s.dicts[col].strs) {
			m[fmt.Sprint("postings", col)] = len(p) // caught below: it must equal strs
		}
		if len(s.dicts[col].ids) != len(s.dicts[col].strs) {
			m[fmt.Sprint("ids", col)] = len(s.dicts[col].ids)
		}
	}
	return m
}

// TestCompactBoundsDictionaries: with retention, a store given an endless
// stream of new names keeps dictionaries about the size of what it keeps,
// not of everything it was ever given.
func TestCompactBoundsDictionaries(t *testing.T) {
	for _, lazy := range []bool{false, true} {
		t.Run(fmt.Sprint("lazy=", lazy), func(t *testing.T) { testCompactBounds(t, lazy) })
	}
}

// newChurnStore is a test store, with LazyPostings if lazy.
func newChurnStore(lazy bool) *Store {
	if lazy {
		return New(ChunkEvents(testChunk), LazyPostings())
	}
	return newTestStore()
}

func testCompactBounds(t *testing.T, lazy bool) {
	const batch, batches, keep = 512, 200, 4 * testChunk
	s := newChurnStore(lazy)
	for b := range batches {
		evs, offs := churnEvents(b*batch, batch)
		s.Append(evs, churnRaw, offs)
		s.Retain(keep, 0)
	}
	// At most keep+testChunk events are kept, each with at most a few new
	// strings per column; a dictionary compacts once it doubled.
	bound := 2*(keep+testChunk) + 2*batch + minCompact
	for name, n := range dictSizes(s) {
		if strings.HasPrefix(name, "postings") || strings.HasPrefix(name, "ids") {
			t.Errorf("%s: %d, not the dictionary's size", name, n)
		}
		if n > bound {
			t.Errorf("dictionary %s holds %d strings after %d events with %d kept; want at most %d", name, n, batch*batches, s.Kept(), bound)
		}
	}
	if s.KeyGen() == 0 {
		t.Error("no compaction happened")
	}
	checkChurnStore(t, s, 0)
}

// checkChurnStore checks every kept event of a store of churnEvents (IDs
// from base on are event base+ID) through Entry, Row and the postings.
func checkChurnStore(t *testing.T, s *Store, base int) {
	t.Helper()
	all := s.All()
	n := 0
	s.Each(all, func(e *Entry) bool {
		n++
		want, _ := churnEvents(base+int(e.ID), 1)
		w := &want[0]
		if e.Object.Name != w.Object.Name || e.User.Name != w.User.Name || e.UserAgent != w.UserAgent ||
			e.Object.Namespace != w.Object.Namespace || e.SourceIP != w.SourceIP || e.Reason != w.Reason ||
			!reflect.DeepEqual(e.User.Groups, w.User.Groups) || e.Verb != w.Verb {
			t.Fatalf("event %d: %+v, want %+v", e.ID, e, w)
		}
		return true
	})
	if n != s.Kept() {
		t.Fatalf("Each saw %d events of %d kept", n, s.Kept())
	}
	for _, f := range Fields() {
		total := 0
		for _, v := range s.Values(f) {
			p := s.Postings(f, v)
			if f != FieldGroup {
				total += int(p.GetCardinality())
			}
			s.Each(p, func(e *Entry) bool {
				if got := entryValue(e, f); f != FieldGroup && got != v {
					t.Fatalf("%s=%q postings hold event %d, whose value is %q", f, v, e.ID, got)
				}
				return true
			})
		}
		if f != FieldGroup && total != s.Kept() {
			t.Fatalf("%s: postings hold %d events of %d kept", f, total, s.Kept())
		}
	}
}

func entryValue(e *Entry, f Field) string {
	switch f {
	case FieldUser:
		return e.User.Name
	case FieldImpersonated:
		return e.Impersonated.Name
	case FieldVerb:
		return e.Verb
	case FieldAPIGroup:
		return e.Object.APIGroup
	case FieldResource:
		return e.Object.Resource
	case FieldSubresource:
		return e.Object.Subresource
	case FieldNamespace:
		return e.Object.Namespace
	case FieldCode:
		return codeText(uint16(e.Code))
	case FieldDecision:
		return e.Decision
	case FieldStage:
		return e.Stage.String()
	case FieldLevel:
		return e.Level.String()
	case FieldUserAgent:
		return e.UserAgent
	case FieldSourceIP:
		return e.SourceIP
	case FieldSource:
		return e.Source
	}
	return ""
}

// answers is what a store says about its events, for comparison before
// and after a compaction: no dictionary ID in it.
type answers struct {
	entries  []Entry
	values   map[Field]map[string][]uint32
	requests []uint32
	stages   map[ID][]ID
	matching []uint32
	byName   []uint32
}

func answersOf(s *Store) answers {
	a := answers{values: map[Field]map[string][]uint32{}, stages: map[ID][]ID{}}
	all := s.All()
	s.Each(all, func(e *Entry) bool {
		a.entries = append(a.entries, *e)
		a.stages[e.ID] = s.Stages(e.ID)
		return true
	})
	for _, f := range Fields() {
		a.values[f] = map[string][]uint32{}
		for _, v := range s.Values(f) {
			a.values[f][v] = s.Postings(f, v).ToArray()
		}
	}
	a.requests = s.Requests().ToArray()
	a.matching = s.SelectMatching(all, []TextColumn{ColumnName, ColumnReason}, func(v string) bool {
		return strings.HasSuffix(v, "7") || strings.Contains(v, "ns-3")
	}).ToArray()
	a.byName = s.Select(all, func(r Row) bool { return strings.HasPrefix(r.Name(), "web-1") }).ToArray()
	return a
}

// TestCompactKeepsAnswers: a compaction changes no answer the store gives
// (entries, postings, requests, stages, text matches), over the realistic
// generator's events (multi-stage requests, groups, impersonation) and
// churned ones, and the store answers as a fresh store of the kept events.
func TestCompactKeepsAnswers(t *testing.T) {
	gevs, goffs, graw := generated(t, 6*testChunk)
	cevs, coffs := churnEvents(0, 6*testChunk)
	type part struct {
		evs  []audit.Event
		offs []int64
		raw  *bytes.Reader
	}
	var parts []part
	for i := 0; i < len(gevs); i += 500 {
		j := min(i+500, len(gevs))
		parts = append(parts, part{gevs[i:j], goffs[i:j], graw}, part{cevs[i:j], coffs[i:j], churnRaw})
	}
	s := newTestStore()
	for _, p := range parts {
		s.Append(p.evs, p.raw, p.offs)
	}
	// Drop without compacting, then compact every dictionary by hand.
	s.mu.Lock()
	for range 5 {
		s.dropOldest()
	}
	s.keptMin = s.minKept()
	s.mu.Unlock()
	before := answersOf(s)
	sizes := dictSizes(s)
	gen := s.KeyGen()
	s.mu.Lock()
	var cols []int
	for col := range s.dicts {
		cols = append(cols, col)
	}
	s.apply(s.plan(cols, true))
	s.mu.Unlock()
	if s.KeyGen() == gen {
		t.Fatal("the key generation did not move")
	}
	after := answersOf(s)
	if !reflect.DeepEqual(before, after) {
		t.Fatal("answers differ after compaction")
	}
	if got := dictSizes(s); got["col10"] >= sizes["col10"] || got["groups"] >= sizes["groups"] {
		t.Fatalf("compaction left names %d (was %d), groups %d (was %d)", got["col10"], sizes["col10"], got["groups"], sizes["groups"])
	}

	// A fresh store of the kept events answers alike, and its dictionaries
	// are no smaller.
	fresh := newTestStore()
	skip := int(s.First())
	for _, p := range parts {
		k := min(skip, len(p.evs))
		skip -= k
		if k < len(p.evs) {
			fresh.Append(p.evs[k:], p.raw, p.offs[k:])
		}
	}
	fa := answersOf(fresh)
	if len(fa.entries) != len(after.entries) {
		t.Fatalf("fresh store keeps %d events, compacted %d", len(fa.entries), len(after.entries))
	}
	for i := range fa.entries {
		fe, ce := fa.entries[i], after.entries[i]
		fe.ID, ce.ID = 0, 0
		if !reflect.DeepEqual(fe, ce) {
			t.Fatalf("event %d: fresh %+v, compacted %+v", i, fe, ce)
		}
	}
	if !reflect.DeepEqual(fa.values[FieldUser], shiftValues(after.values[FieldUser], s.First())) {
		t.Fatal("users' postings differ from a fresh store's")
	}
	for name, n := range dictSizes(s) {
		if fn := dictSizes(fresh)[name]; n > fn {
			t.Errorf("dictionary %s: %d strings after compaction, %d in a fresh store of the kept events", name, n, fn)
		}
	}
}

// shiftValues is values with off taken from every ID.
func shiftValues(values map[string][]uint32, off ID) map[string][]uint32 {
	out := map[string][]uint32{}
	for v, ids := range values {
		for _, id := range ids {
			out[v] = append(out[v], id-off)
		}
	}
	return out
}

// TestCompactConcurrentReaders: readers walking the store while the
// writer appends churn and retention compacts always read each event's
// own values (run with -race).
func TestCompactConcurrentReaders(t *testing.T) {
	for _, lazy := range []bool{false, true} {
		t.Run(fmt.Sprint("lazy=", lazy), func(t *testing.T) { testCompactConcurrent(t, lazy) })
	}
}

func testCompactConcurrent(t *testing.T, lazy bool) {
	const batch, batches, keep = 256, 60, 3 * testChunk
	s := newChurnStore(lazy)
	evs, offs := churnEvents(0, batch)
	s.Append(evs, churnRaw, offs)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for r := range 2 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				all := s.All()
				// Row: each event's name and user agent are its own.
				s.Select(all, func(row Row) bool {
					want := churnName(int(row.ID()))
					if row.Name() != want || row.Field(FieldUserAgent) != fmt.Sprintf("builder/%d", row.ID()/3) {
						t.Errorf("row %d: name %q, want %q", row.ID(), row.Name(), want)
					}
					return false
				})
				// A text match over many windows finds exactly its event.
				id := s.First() + ID(r*100)
				got := s.SelectMatching(all, []TextColumn{ColumnName}, func(v string) bool { return v == churnName(int(id)) })
				if got.GetCardinality() > 1 || (got.GetCardinality() == 1 && got.Minimum() != id) {
					t.Errorf("match of event %d's name: %v", id, got.ToArray())
				}
				// A value's postings hold its events only (a lazy store
				// builds them on this first ask, beside the writer).
				ua := fmt.Sprintf("builder/%d", id/3)
				s.Each(s.Postings(FieldUserAgent, ua), func(e *Entry) bool {
					if e.UserAgent != ua {
						t.Errorf("postings of %q hold event %d of %q", ua, e.ID, e.UserAgent)
					}
					return true
				})
				// A key taken before the walk holds while its generation does.
				gen := s.KeyGen()
				key, ok := s.Key(churnName(int(id)))
				s.Select(all, func(row Row) bool {
					if ok && row.KeyGen() == gen && (row.NameKey() == key) != (row.ID() == id) {
						t.Errorf("key %d of event %d's name matched event %d", key, id, row.ID())
					}
					return false
				})
			}
		})
	}
	for b := 1; b < batches; b++ {
		evs, offs := churnEvents(b*batch, batch)
		s.Append(evs, churnRaw, offs)
		s.Retain(keep, 0)
	}
	close(done)
	wg.Wait()
	if s.KeyGen() < 2 {
		t.Fatalf("%d compactions: the readers saw too few", s.KeyGen())
	}
	t.Logf("%d compactions", s.KeyGen())
	checkChurnStore(t, s, 0)
}

// BenchmarkChurn appends 5 M events of a churning cluster (1 M distinct
// object names, 100 k user agents, 5 k namespaces) in batches of 512 under
// retention of 500 k events, as a long watch does, and reports the cost
// of Append and Retain per event, the live heap and dictionary sizes at
// the end, and the longest compaction (the write lock's hold). The "off"
// variant never compacts: today's growth. Run each alone
// (-bench 'Churn/off' -benchtime 1x) to compare their RSS too.
func BenchmarkChurn(b *testing.B) {
	for _, off := range []bool{false, true} {
		name := "compact"
		if off {
			name = "off"
		}
		b.Run(name, func(b *testing.B) { benchmarkChurn(b, off) })
	}
}

func benchmarkChurn(b *testing.B, off bool) {
	const total, batch, keep = 5_000_000, 512, 500_000
	for b.Loop() {
		s := New()
		s.compact.off = off
		var took time.Duration
		for from := 0; from < total; from += batch {
			evs, offs := churnEvents(from, batch)
			for k := range evs {
				i := from + k
				ns := fmt.Sprintf("ns-%d", i/1000)
				evs[k].Object.Name = churnName(i / 5)
				evs[k].Object.Namespace = ns
				evs[k].User.Name = "system:serviceaccount:" + ns + ":builder"
				evs[k].User.Groups[1] = "system:serviceaccounts:" + ns
				evs[k].UserAgent = fmt.Sprintf("builder/%d", i/50)
			}
			start := time.Now()
			s.Append(evs, churnRaw, offs)
			s.Retain(keep, 0)
			took += time.Since(start)
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		st := s.Stats()
		b.ReportMetric(float64(took.Nanoseconds())/total, "ns/event")
		b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MiB")
		b.ReportMetric(float64(st.IndexBytes)/(1<<20), "index-MiB")
		b.ReportMetric(float64(st.Strings), "strings")
		b.ReportMetric(float64(len(s.dicts[colName].strs)), "names")
		b.ReportMetric(float64(s.compact.gen), "compactions")
		b.ReportMetric(float64(s.compact.took.Microseconds())/1000, "max-lock-ms")
		b.ReportMetric(float64(s.compact.spent.Nanoseconds())/total, "compact-ns/event")
		runtime.KeepAlive(s)
	}
}
