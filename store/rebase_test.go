package store

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/kaudit/kaudit/audit"
)

// rebaseStream is churned events with later stages of some requests (see
// withLaterStages), so that chains of stages cross chunks and rebases.
func rebaseStream(n int) ([]audit.Event, []int64) {
	evs, offs := churnEvents(0, n)
	return withLaterStages(evs, offs)
}

// feed appends evs in batches, retaining keep events after each.
func feed(s *Store, evs []audit.Event, offs []int64, batch, keep int) {
	for i := 0; i < len(evs); i += batch {
		j := min(i+batch, len(evs))
		s.Append(evs[i:j], churnRaw, offs[i:j])
		s.Retain(keep, 0)
	}
}

// normalized is a with off taken from every ID: answers of a store whose
// kept events start at off, as a fresh store numbers them.
func normalized(a answers, off ID) answers {
	sub := func(ids []uint32) []uint32 {
		out := make([]uint32, len(ids))
		for i, id := range ids {
			out[i] = id - off
		}
		return out
	}
	out := answers{values: map[Field]map[string][]uint32{}, stages: map[ID][]ID{}}
	for _, e := range a.entries {
		e.ID -= off
		out.entries = append(out.entries, e)
	}
	for f, vs := range a.values {
		out.values[f] = map[string][]uint32{}
		for v, ids := range vs {
			out.values[f][v] = sub(ids)
		}
	}
	for id, st := range a.stages {
		out.stages[id-off] = sub(st)
	}
	out.requests, out.matching, out.byName = sub(a.requests), sub(a.matching), sub(a.byName)
	return out
}

// freshOf is a store given only the events s keeps, the last kept of evs.
func freshOf(s *Store, evs []audit.Event, offs []int64, lazy bool) *Store {
	opts := []Option{ChunkEvents(s.chunkEvents())}
	if lazy {
		opts = append(opts, LazyPostings())
	}
	fresh := New(opts...)
	from := len(evs) - s.Kept()
	fresh.Append(evs[from:], churnRaw, offs[from:])
	return fresh
}

// TestRebaseEqualsFreshStore: a store appended far past its ID space
// several times over, under retention, answers exactly like a fresh store
// of the events it kept (entries, postings, requests, stages, text
// matches), lazy or not.
func TestRebaseEqualsFreshStore(t *testing.T) {
	for _, lazy := range []bool{false, true} {
		t.Run(fmt.Sprint("lazy=", lazy), func(t *testing.T) {
			const space = 8 * testChunk
			evs, offs := rebaseStream(60 * testChunk)
			opts := []Option{ChunkEvents(testChunk), IDSpace(space)}
			if lazy {
				opts = append(opts, LazyPostings())
			}
			s := New(opts...)
			s.Postings(FieldUser, "") // a lazy store builds on the way
			feed(s, evs, offs, 300, 3*testChunk)
			st := s.RebaseStats()
			if st.Rebases < 5 || st.Refused != 0 {
				t.Fatalf("%+v: want >= 5 rebases and nothing refused", st)
			}
			if int(st.Base)+s.Len() != len(evs) {
				t.Fatalf("base %d + Len %d != %d events appended", st.Base, s.Len(), len(evs))
			}
			got := normalized(answersOf(s), s.First())
			want := answersOf(freshOf(s, evs, offs, lazy))
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("answers differ from a fresh store's:\nentries %d vs %d, requests %d vs %d",
					len(got.entries), len(want.entries), len(got.requests), len(want.requests))
			}
		})
	}
}

// TestRebaseContainerShift: with 65,536-event chunks the shift is whole
// roaring containers (AddOffset64's fast path), and the store still
// answers like a fresh one.
func TestRebaseContainerShift(t *testing.T) {
	if testing.Short() {
		t.Skip("appends 650 k events")
	}
	const chunk = 1 << 16
	evs, offs := churnEvents(0, 10*chunk+1000)
	s := New(IDSpace(4 * chunk))
	feed(s, evs, offs, 4096, chunk)
	st := s.RebaseStats()
	if st.Rebases < 3 || st.Base%chunk != 0 {
		t.Fatalf("%+v: want >= 3 rebases by whole containers", st)
	}
	checkChurnStore(t, s, int(st.Base))
	got := normalized(answersOf(s), s.First())
	if want := answersOf(freshOf(s, evs, offs, false)); !reflect.DeepEqual(got, want) {
		t.Fatal("answers differ from a fresh store's")
	}
}

// TestIDsNearTheRealLimit puts a store's next ID just under 2^32, as 4.29
// G appended events would, and appends on under retention: the IDs must
// not wrap into the dropped chunks (before rebasing, event 2^32 went into
// chunk 0, the shared gone chunk, and the store answered garbage).
func TestIDsNearTheRealLimit(t *testing.T) {
	s := newTestStore()
	start := ID(1<<32 - 4*testChunk)
	s.mu.Lock()
	gone := s.goneChunk()
	s.chunks = make([]*chunk, start>>s.bits)
	for i := range s.chunks {
		s.chunks[i] = gone
	}
	s.first, s.n, s.sizedAt = start, start, len(s.chunks)
	s.mu.Unlock()
	evs, offs := rebaseStream(12 * testChunk)
	feed(s, evs, offs, 500, 2*testChunk)
	if s.RebaseStats().Rebases == 0 {
		t.Fatal("no rebase")
	}
	got := normalized(answersOf(s), s.First())
	if want := answersOf(freshOf(s, evs, offs, false)); !reflect.DeepEqual(got, want) {
		t.Fatal("answers differ from a fresh store's")
	}
}

// TestRefuseWithoutRetention: a store that never dropped anything cannot
// rebase; it refuses the events past its ID space, counts them, and keeps
// the events it has intact.
func TestRefuseWithoutRetention(t *testing.T) {
	const space = 4 * testChunk
	evs, offs := churnEvents(0, 6*testChunk)
	s := New(ChunkEvents(testChunk), IDSpace(space))
	var added, refused int
	for i := 0; i < len(evs); i += 700 {
		j := min(i+700, len(evs))
		r := s.Append(evs[i:j], churnRaw, offs[i:j])
		added, refused = added+r.Added, refused+r.Refused
		s.Retain(0, 0) // no bound: nothing dropped, nothing to rebase
	}
	if added != space || refused != len(evs)-space || s.Len() != space || s.RebaseStats().Refused != refused {
		t.Fatalf("added %d, refused %d (stats %d), Len %d; want %d, %d", added, refused, s.RebaseStats().Refused, s.Len(), space, len(evs)-space)
	}
	fresh := New(ChunkEvents(testChunk))
	fresh.Append(evs[:space], churnRaw, offs[:space])
	if !reflect.DeepEqual(answersOf(s), answersOf(fresh)) {
		t.Fatal("answers differ from a fresh store of the events accepted")
	}
}

// TestWalksFollowRebase: a walk whose set was made before a rebase that
// happens between two of its windows goes on with the same events (Each,
// Select, Times, ObjectRows), and Select's result is in the new base.
func TestWalksFollowRebase(t *testing.T) {
	// Most of the space is kept, so that a rebase drops a little of the set.
	const space, keep = 16 * testChunk, 12 * testChunk
	evs, offs := churnEvents(0, 60*testChunk)
	s := New(ChunkEvents(testChunk), IDSpace(space))
	at := 0
	feedTo := func(n int) {
		for ; at < n; at += 256 {
			s.Append(evs[at:at+256], churnRaw, offs[at:at+256])
			s.Retain(keep, 0)
		}
	}
	// rebaseNow appends until the next rebase, from a walk's callback (the
	// test is the writer).
	rebaseNow := func() {
		r := s.RebaseStats().Rebases
		for s.RebaseStats().Rebases == r {
			feedTo(at + 256)
		}
	}
	feedTo(keep + testChunk)
	for _, walk := range []string{"Each", "Select", "Times", "ObjectRows"} {
		t.Run(walk, func(t *testing.T) {
			base := s.IDBase()
			set := roaring.New()
			set.AddRange(uint64(s.First()), uint64(s.Len()))
			want := absOf(set, base)
			var got []uint64
			abs := func(id ID) { got = append(got, s.IDBase()+uint64(id)) }
			calls := 0
			betweenWindows = func() {
				if calls++; calls == 1 {
					rebaseNow()
				}
			}
			t.Cleanup(func() { betweenWindows = nil })
			switch walk {
			case "Each":
				s.Each(set, func(e *Entry) bool {
					abs(e.ID)
					if want := churnName(int(s.IDBase() + uint64(e.ID))); e.Object.Name != want {
						t.Fatalf("event %d: name %q, want %q", e.ID, e.Object.Name, want)
					}
					return true
				})
			case "Select":
				out := s.Select(set, func(r Row) bool { return true })
				got = absOf(out, s.IDBase())
			case "Times":
				s.Times(set, func(int64, bool, bool) { got = append(got, 0) })
			case "ObjectRows":
				s.ObjectRows(set, func(r *ObjectRow) bool {
					abs(r.ID)
					if want := churnName(int(s.IDBase() + uint64(r.ID))); r.Name != want {
						t.Fatalf("row %d: name %q, want %q", r.ID, r.Name, want)
					}
					return true
				})
			}
			betweenWindows = nil
			if s.IDBase() == base {
				t.Fatal("no rebase during the walk")
			}
			// Retention dropped some of the set during the walk: those are
			// left out, the rest comes in order.
			if walk == "Times" {
				if len(got) > len(want) || len(got) < walkWindow {
					t.Fatalf("Times: %d calls for a set of %d", len(got), len(want))
				}
				return
			}
			if !isSuffixIn(got, want) {
				t.Fatalf("%s walked %d events, not the set's %d less a run dropped", walk, len(got), len(want))
			}
		})
	}
}

// absOf is set's IDs under base as places among all events appended.
func absOf(set *Set, base uint64) []uint64 {
	var out []uint64
	for _, id := range set.ToArray() {
		out = append(out, base+uint64(id))
	}
	return out
}

// isSuffixIn reports whether got is increasing, part of want, and ends
// where want does: a walk that lost some of its set to retention.
func isSuffixIn(got, want []uint64) bool {
	if len(got) < walkWindow || got[len(got)-1] != want[len(want)-1] {
		return false
	}
	for i, g := range got {
		if _, ok := slices.BinarySearch(want, g); !ok || (i > 0 && g <= got[i-1]) {
			return false
		}
	}
	return true
}

// TestRebaseConcurrentReaders: readers walking, filtering and reading
// single events while the writer appends far past the ID space under
// retention always read each event's own values (run with -race).
func TestRebaseConcurrentReaders(t *testing.T) {
	const space, batch, batches, keep = 6 * testChunk, 256, 160, 2 * testChunk
	s := New(ChunkEvents(testChunk), IDSpace(space))
	evs, offs := churnEvents(0, batch*batches)
	s.Append(evs[:batch], churnRaw, offs[:batch])
	done := make(chan struct{})
	var wg sync.WaitGroup
	// own checks that a row's name is that of the event its auditID
	// numbers (churnEvents): whatever its ID, it is read whole.
	own := func(auditID []byte, name string) {
		i, err := strconv.ParseUint(string(auditID[len(auditID)-12:]), 16, 64)
		if err != nil || name != churnName(int(i)) {
			t.Errorf("event %s: name %q", auditID, name)
		}
	}
	for range 2 {
		wg.Go(func() {
			var held ID
			heldBase := s.IDBase()
			for {
				select {
				case <-done:
					return
				default:
				}
				all := s.All()
				s.Each(all, func(e *Entry) bool {
					own([]byte(e.AuditID), e.Object.Name)
					return true
				})
				s.ObjectRows(all, func(r *ObjectRow) bool {
					own(r.AuditID, r.Name)
					return true
				})
				var buf []byte
				s.Select(all, func(r Row) bool {
					buf = r.AppendAuditID(buf[:0])
					own(buf, r.Name())
					return false
				})
				s.Times(all, func(int64, bool, bool) {})
				// An ID kept from an earlier round, moved to today's base,
				// is the same event or gone; unmoved, it may be past the end.
				if id, ok := s.MapID(held, heldBase); ok {
					if e := s.Entry(id); e.Object.Name != "" { // "": dropped since

						own([]byte(e.AuditID), e.Object.Name)
					}
				}
				_ = s.Entry(held) // stale: must not crash
				_ = s.Stages(held)
				_, _ = s.Raw(held, nil)
				_ = s.Source(held)
				rr := s.AcquireRawReader()
				_, _ = rr.Raw(held)
				s.ReleaseRawReader(rr)
				held, heldBase = ID(s.Len()-1), s.IDBase() // past the end after a rebase
			}
		})
	}
	for b := 1; b < batches; b++ {
		s.Append(evs[b*batch:(b+1)*batch], churnRaw, offs[b*batch:(b+1)*batch])
		s.Retain(keep, 0)
	}
	close(done)
	wg.Wait()
	if s.RebaseStats().Rebases < 3 {
		t.Fatalf("%d rebases: the readers saw too few", s.RebaseStats().Rebases)
	}
	checkChurnStore(t, s, int(s.IDBase()))
}

// BenchmarkRebase appends 3 M churned events in batches of 512 under
// retention of 500 k events, with the ID space lowered to 1 M (16 chunks)
// so that it rebases every ~500 k events, and reports the rebases' cost:
// per rebase, per kept event moved, and the longest hold of the write lock.
func BenchmarkRebase(b *testing.B) {
	const total, batch, keep = 3 << 20, 512, 500_000
	evs, offs := churnEvents(0, total)
	for b.Loop() {
		s := New(IDSpace(1 << 20))
		kept := 0
		for i := 0; i < total; i += batch {
			s.Append(evs[i:i+batch], churnRaw, offs[i:i+batch])
			s.Retain(keep, 0)
			if r := s.RebaseStats().Rebases; r > 0 && kept == 0 {
				kept = s.Kept()
			}
		}
		st := s.RebaseStats()
		b.ReportMetric(float64(st.Rebases), "rebases")
		b.ReportMetric(float64(st.Spent.Milliseconds())/float64(st.Rebases), "ms/rebase")
		b.ReportMetric(float64(st.Spent.Nanoseconds())/float64(st.Rebases)/float64(kept), "ns/kept-event")
		b.ReportMetric(float64(st.LongestWL.Microseconds()), "µs-write-lock")
	}
}

// TestMapIDAndSet: IDs and sets of an older base move down by the shifts
// since; those that fall below the kept events are gone.
func TestMapIDAndSet(t *testing.T) {
	s := New(ChunkEvents(testChunk), IDSpace(8*testChunk))
	evs, offs := churnEvents(0, 20*testChunk)
	feed(s, evs[:6*testChunk], offs[:6*testChunk], 512, 2*testChunk)
	base := s.IDBase()
	id := ID(s.Len() - 10)
	set := roaring.BitmapOf(uint32(s.First()), uint32(id))
	for at := 6 * testChunk; s.IDBase() == base && at < len(evs); at += 256 {
		s.Append(evs[at:at+256], churnRaw, offs[at:at+256])
		s.Retain(6*testChunk, 0) // keeps id
	}
	d := s.IDBase() - base
	if d == 0 {
		t.Fatal("no rebase")
	}
	got, ok := s.MapID(id, base)
	if !ok || uint64(got) != uint64(id)-d || s.Entry(got).Object.Name != churnName(int(s.IDBase())+int(got)) {
		t.Fatalf("MapID(%d) = %d, %v; want %d", id, got, ok, uint64(id)-d)
	}
	if _, ok := s.MapID(0, base); ok {
		t.Fatal("a dropped ID mapped")
	}
	if m := s.MapSet(set, base).ToArray(); len(m) != 1 || m[0] != got {
		t.Fatalf("MapSet: %v, want [%d]", m, got)
	}
	if MoveSet(set, base, base) != set {
		t.Fatal("MoveSet to the same base copied")
	}
}
