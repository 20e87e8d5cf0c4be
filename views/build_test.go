package views

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/store"
)

// serialTable is view v over set on one goroutine: what Build wrote
// before it split its work.
func serialTable(t *testing.T, st *store.Store, set *store.Set, v View, top int) *Table {
	t.Helper()
	a, err := NewAggregate(v, top)
	if err != nil {
		t.Fatal(err)
	}
	a.Add(st, set)
	return a.Table()
}

// grouped lists every view but events.
func grouped() []View {
	var out []View
	for _, v := range Views {
		if v != ViewEvents {
			out = append(out, v)
		}
	}
	return out
}

// splitStore is genEvents(seed, n) in a store of 64-event chunks, its
// requests, and every third of them: what the split tests cut up.
func splitStore(t *testing.T, seed uint64, n int) (st *store.Store, req, every3 *store.Set) {
	t.Helper()
	evs, buf, offs := genEvents(t, seed, n)
	st = store.New(store.ChunkEvents(64))
	st.Append(evs, bytes.NewReader(buf), offs)
	req = st.Requests()
	every3 = roaring.New()
	for i, id := range req.ToArray() {
		if i%3 == 0 {
			every3.Add(id)
		}
	}
	return st, req, every3
}

// TestBuildAggregateSplit builds every view over sets cut into parts (from
// more parts than requests to a few large ones, in stores of 64-event
// chunks) and compares the table with the one-goroutine build and, where
// the test has one, the reference.
func TestBuildAggregateSplit(t *testing.T) {
	defer func(m uint64) { splitMin = m }(splitMin)
	splitMin = 0
	st, req, every3 := splitStore(t, 6, 1500)
	first := req.Minimum()
	around64 := req.Clone() // two requests each side of a chunk boundary, and the boundaries between
	around64.And(roaring.BitmapOf(62, 63, 64, 65, 126, 127, 128, 129))
	sets := []struct {
		name string
		set  *store.Set
	}{
		{"all", req},
		{"empty", roaring.New()},
		{"one", roaring.BitmapOf(first)},
		{"around-chunks", around64},
		{"every-third", every3},
	}
	checked := 0
	for _, s := range sets {
		for _, v := range grouped() {
			for _, top := range []int{0, 1, 3, 10} {
				want := serialTable(t, st, s.set, v, top)
				if v != ViewSources {
					if ref := reference(st, s.set, v, top); !reflect.DeepEqual(want, ref) {
						t.Fatalf("%s %s top %d: the serial build differs from the reference", s.name, v, top)
					}
				}
				for _, parts := range []int{1, 2, 3, 7, 900} {
					got, err := BuildAggregate(st, s.set, v, top, parts)
					if err != nil {
						t.Fatal(err)
					}
					if g := got.Table(); !reflect.DeepEqual(g, want) {
						t.Errorf("%s %s top %d parts %d:\n got %v\nwant %v", s.name, v, top, parts, g.Rows, want.Rows)
					}
					checked++
				}
			}
		}
	}
	if rows := serialTable(t, st, req, ViewDenials, 0).Rows; len(rows) < 3 {
		t.Fatalf("only %d denial rows: the merge of denials is hardly tested", len(rows))
	}
	if _, err := BuildAggregate(st, req, ViewEvents, 0, 2); err == nil {
		t.Error("events is not an aggregate")
	}
	t.Logf("%d builds compared", checked)
}

// Build splits a big set itself and writes what the one-goroutine build
// writes.
func TestBuildSplitsBigSets(t *testing.T) {
	defer func(m uint64) { splitMin = m }(splitMin)
	splitMin = 100
	evs, buf, offs := genEvents(t, 8, 1500)
	st := store.New()
	st.Append(evs, bytes.NewReader(buf), offs)
	req := st.Requests()
	if req.GetCardinality() < splitMin {
		t.Fatalf("%d requests: Build would not split them", req.GetCardinality())
	}
	for _, v := range grouped() {
		got, err := Build(st, req, v, 0)
		if err != nil {
			t.Fatal(err)
		}
		if want := serialTable(t, st, req, v, 0); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: Build differs from the serial build", v)
		}
	}
}

// A part that took requests back, then merged with the next part, writes
// the table of what is left whenever every Remove said it stayed exact;
// a capped latency part that dropped requests bounds what the merge keeps.
func TestMergeAfterRemove(t *testing.T) {
	evs, buf, offs := genEvents(t, 9, 1200)
	st := store.New()
	st.Append(evs, bytes.NewReader(buf), offs)
	req := st.Requests()
	parts := splitSet(req, 2)
	lo, hi := parts[0], parts[1]
	rng := rand.New(rand.NewPCG(9, 1))
	exact := 0
	for round := range 20 {
		gone := roaring.New()
		for _, id := range lo.ToArray() {
			if rng.IntN(4) == 0 {
				gone.Add(id)
			}
		}
		left := roaring.Or(roaring.AndNot(lo, gone), hi)
		for _, v := range grouped() {
			for _, top := range []int{0, 3, 25} {
				a, _ := NewAggregate(v, top)
				a.Add(st, lo)
				if !a.Remove(st, gone) {
					continue // stale: the UI would rebuild it
				}
				b, _ := NewAggregate(v, top)
				b.Add(st, hi)
				b.Flush()
				a.Merge(b)
				if got, want := a.Table(), serialTable(t, st, left, v, top); !reflect.DeepEqual(got, want) {
					t.Fatalf("round %d %s top %d:\n got %v\nwant %v", round, v, top, got.Rows, want.Rows)
				}
				exact++
			}
		}
	}
	if exact < 100 {
		t.Fatalf("only %d exact removals: the test hardly merges after one", exact)
	}
}

// A capped latency ranking merged with a part that dropped requests: the
// merge keeps nothing that ranks below what that part kept.
func TestMergeSlowDropped(t *testing.T) {
	mk := func(top int, dropped bool, lats ...int) *Aggregate {
		a, _ := NewAggregate(ViewLatency, top)
		for _, l := range lats {
			// ID l, l ms: a higher ID ranks first.
			a.slow = append(a.slow, slowReq{store.Entry{ID: store.ID(l), Latency: time.Duration(l) * time.Millisecond}})
		}
		a.dropped = dropped
		return a
	}
	for _, c := range []struct {
		name string
		a, b *Aggregate
		want []store.ID // IDs kept, in rank order
		drop bool
	}{
		{"neither dropped", mk(5, false, 9, 7), mk(5, false, 8, 1), []store.ID{9, 8, 7, 1}, false},
		{"b dropped below 6", mk(5, false, 9, 7, 2), mk(5, true, 8, 6), []store.ID{9, 8, 7, 6}, true},
		{"a dropped, empty", mk(5, true), mk(5, false, 8, 6), nil, true},
		{"over the cap", mk(1, false, 9), mk(1, false, 8, 7), []store.ID{9, 8}, true},
		{"empty both", mk(3, false), mk(3, false), nil, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.a.Merge(c.b)
			var got []store.ID
			for _, s := range c.a.slow {
				got = append(got, s.e.ID)
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) || c.a.dropped != c.drop {
				t.Errorf("kept %v dropped %v, want %v dropped %v", got, c.a.dropped, c.want, c.drop)
			}
		})
	}
}

// splitSet cuts a set into consecutive parts that hold each ID once,
// across roaring's 65536-ID containers too.
func TestSplitSet(t *testing.T) {
	span := roaring.New()
	span.AddRange(65530, 65542)
	sparse := roaring.BitmapOf(1, 70000, 140000, 1<<31)
	for _, c := range []struct {
		name  string
		set   *store.Set
		parts int
	}{
		{"empty", roaring.New(), 2},
		{"one", roaring.BitmapOf(7), 3},
		{"container boundary", span, 2},
		{"container boundary in 5", span, 5},
		{"more parts than IDs", span, 40},
		{"sparse", sparse, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := splitSet(c.set, c.parts)
			n := c.set.GetCardinality()
			if want := min(uint64(c.parts), max(n, 1)); uint64(len(got)) != want {
				t.Fatalf("%d parts, want %d", len(got), want)
			}
			all, prev := roaring.New(), int64(-1)
			for i, p := range got {
				if !p.IsEmpty() {
					if int64(p.Minimum()) <= prev {
						t.Fatalf("part %d starts at %d, not after %d", i, p.Minimum(), prev)
					}
					prev = int64(p.Maximum())
				}
				if c := p.GetCardinality(); c+1 < n/uint64(len(got)) || c > n/uint64(len(got))+1 {
					t.Errorf("part %d holds %d of %d", i, c, n)
				}
				all.Or(p)
			}
			if !all.Equals(c.set) || sum(got) != n {
				t.Fatalf("parts hold %v (%d), want %v", all, sum(got), c.set)
			}
		})
	}
}

func sum(sets []*store.Set) uint64 {
	n := uint64(0)
	for _, s := range sets {
		n += s.GetCardinality()
	}
	return n
}

// Denials merged from parts hold what one aggregate over every request in
// ID order holds, when requests of both parts share a first or last time:
// the count at the first time, and the latest request's reason (the later
// ID at the same time).
func TestMergeDenialsTies(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	den := func(id store.ID, sec int, reason string) store.Entry {
		return store.Entry{ID: id, Verb: "get", User: audit.UserInfo{Name: "u"}, Code: 403, Denied: true,
			Reason: reason, Time: t0.Add(time.Duration(sec) * time.Second)}
	}
	for _, c := range []struct {
		name string
		a, b []store.Entry // a's IDs below b's
	}{
		{"same first time", []store.Entry{den(1, 0, "r1"), den(2, 5, "r2")}, []store.Entry{den(3, 0, "r3")}},
		{"same last time", []store.Entry{den(1, 0, "r1"), den(2, 5, "r2")}, []store.Entry{den(3, 5, "r3"), den(4, 1, "r4")}},
		{"b earlier and later", []store.Entry{den(1, 3, "r1")}, []store.Entry{den(2, 1, "r2"), den(3, 9, "r3"), den(4, 1, "r4")}},
		{"a later", []store.Entry{den(1, 9, "r1"), den(2, 9, "r2")}, []store.Entry{den(3, 2, "r3")}},
		{"empty b", []store.Entry{den(1, 9, "r1")}, nil},
		{"empty a", nil, []store.Entry{den(1, 9, "r1")}},
	} {
		t.Run(c.name, func(t *testing.T) {
			whole, _ := NewAggregate(ViewDenials, 0)
			a, _ := NewAggregate(ViewDenials, 0)
			b, _ := NewAggregate(ViewDenials, 0)
			for i := range c.a {
				a.add(&c.a[i])
				whole.add(&c.a[i])
			}
			for i := range c.b {
				b.add(&c.b[i])
				whole.add(&c.b[i])
			}
			a.Merge(b)
			if !reflect.DeepEqual(a.denials, whole.denials) {
				for k, d := range a.denials {
					t.Logf("merged %v: %+v; whole %+v", k, *d, *whole.denials[k])
				}
				t.Fatal("merged denials differ")
			}
		})
	}
}

// The events and latency tables, their rows written on several
// goroutines, equal those written on one.
func TestBigTablesSplit(t *testing.T) {
	defer func(m uint64, r int) { splitMin, rowsSplitMin = m, r }(splitMin, rowsSplitMin)
	st, req, every3 := splitStore(t, 11, 700)
	for _, set := range []*store.Set{req, every3, roaring.New(), roaring.BitmapOf(req.Minimum())} {
		for _, v := range []View{ViewEvents, ViewLatency} {
			for _, top := range []int{0, 1, 5} {
				splitMin, rowsSplitMin = 1<<62, 1<<62
				want, err := Build(st, set, v, top)
				if err != nil {
					t.Fatal(err)
				}
				splitMin, rowsSplitMin = 0, 1
				got, _ := Build(st, set, v, top)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s top %d of %d requests: split rows differ", v, top, set.GetCardinality())
				}
				if n := int(set.GetCardinality()); v == ViewEvents && top == 0 && len(got.Rows) != n {
					t.Errorf("events: %d rows of %d requests", len(got.Rows), n)
				}
			}
		}
	}
}

// A set taken before retention dropped the oldest events: the parts
// leave out the dropped ones as the one-goroutine build does.
func TestBuildAfterRetention(t *testing.T) {
	defer func(m uint64, r int) { splitMin, rowsSplitMin = m, r }(splitMin, rowsSplitMin)
	evs, buf, offs := genEvents(t, 12, 900)
	st := store.New(store.ChunkEvents(64))
	st.Append(evs, bytes.NewReader(buf), offs)
	req := st.Requests()
	if st.Retain(st.Len()/2, 0) == 0 || st.First() == 0 {
		t.Fatal("retention dropped nothing")
	}
	for _, v := range Views {
		splitMin, rowsSplitMin = 1<<62, 1<<62
		want, err := Build(st, req, v, 0)
		if err != nil {
			t.Fatal(err)
		}
		if v == ViewEvents && len(want.Rows) >= int(req.GetCardinality()) {
			t.Fatalf("events: %d rows of %d requests, none dropped", len(want.Rows), req.GetCardinality())
		}
		splitMin, rowsSplitMin = 0, 1
		for _, parts := range []int{2, 5} {
			got, _ := Build(st, req, v, 0)
			if v != ViewEvents {
				a, _ := BuildAggregate(st, req, v, 0, parts)
				got = a.Table()
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s parts %d: %d rows, want %d", v, parts, len(got.Rows), len(want.Rows))
			}
		}
	}
}
