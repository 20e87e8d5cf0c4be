package store

import (
	"bytes"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/kaudit/kaudit/audit"
)

// testChunk is the chunk size of the tests' stores (ChunkEvents): small,
// so that tests cross many chunk boundaries without building 65536-event
// chunks.
const testChunk = 1 << 10

// newTestStore is New with testChunk-event chunks.
func newTestStore() *Store { return New(ChunkEvents(testChunk)) }

// retainEvents is generated once for the retention tests: sixteen chunks
// and a bit of the realistic generator's events.
var retainEvents = sync.OnceValues(func() ([]audit.Event, []int64) {
	evs, offs, raw := genEvents(&testing.B{}, 16*testChunk+1000)
	retainRaw = raw
	return withLaterStages(evs, offs)
})

// withLaterStages adds, 500 events after every 13th event, another stage
// of the same request (RequestReceived, a second later), so that many
// requests have stages on both sides of a chunk boundary: the generator
// makes few multi-stage requests, none in the first 6000 events.
func withLaterStages(evs []audit.Event, offs []int64) ([]audit.Event, []int64) {
	const gap = 500
	var outE []audit.Event
	var outO []int64
	for i := range evs {
		outE, outO = append(outE, evs[i]), append(outO, offs[i])
		if j := i - gap; j >= 0 && j%13 == 0 && evs[j].AuditID != "" && evs[j].Stage != audit.StageRequestReceived {
			e := evs[j]
			e.Stage, e.StageTime = audit.StageRequestReceived, e.StageTime.Add(time.Second)
			outE, outO = append(outE, e), append(outO, offs[j])
		}
	}
	return outE, outO
}

var retainRaw *bytes.Reader

func generated(t *testing.T, n int) ([]audit.Event, []int64, *bytes.Reader) {
	evs, offs := retainEvents()
	return evs[:n], offs[:n], retainRaw
}

// shift returns set with off added to every ID.
func shift(set *Set, off ID) *Set {
	out := &Set{}
	it := set.Iterator()
	for it.HasNext() {
		out.Add(it.Next() + off)
	}
	return out
}

// TestRetainEqualsFreshStore: a store that dropped its oldest chunks
// answers exactly like a new store given only the events it kept — the
// same postings for every value of every field, the same requests (each
// counted once, also when a request's first stages were dropped), the same
// stages per request.
func TestRetainEqualsFreshStore(t *testing.T) {
	n := 16*testChunk + 1000
	evs, offs, raw := generated(t, n)
	full := newTestStore()
	full.Append(evs, raw, offs)
	dropped := full.Retain(8*testChunk+2000, 0)
	if dropped != 8*testChunk {
		t.Fatalf("Retain dropped %d events, want %d", dropped, 8*testChunk)
	}
	keep := ID(dropped)
	kept := newTestStore()
	kept.Append(evs[keep:], raw, offs[keep:])

	fs, ks := full.Stats(), kept.Stats()
	if fs.Events != ks.Events || fs.Requests != ks.Requests || fs.Evicted != dropped {
		t.Fatalf("stats after retain %+v; fresh store of the kept events %+v", fs, ks)
	}
	if !full.Requests().Equals(shift(kept.Requests(), keep)) {
		t.Fatal("requests differ from a fresh store's")
	}
	if !full.All().Equals(shift(kept.All(), keep)) {
		t.Fatal("All differs")
	}
	for _, f := range Fields() {
		fv, kv := nonEmpty(full, f), nonEmpty(kept, f)
		if len(fv) != len(kv) {
			t.Fatalf("%s: %d values after retain, %d in a fresh store", f, len(fv), len(kv))
		}
		for _, v := range kv {
			if !full.Postings(f, v).Equals(shift(kept.Postings(f, v), keep)) {
				t.Fatalf("%s=%q: postings differ", f, v)
			}
		}
	}
	multi := 0
	it := kept.Requests().Iterator()
	for it.HasNext() {
		id := it.Next()
		want := kept.Stages(id)
		got := full.Stages(id + keep)
		if len(got) != len(want) {
			t.Fatalf("request %d: %d stages after retain, %d fresh", id, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i]+keep {
				t.Fatalf("request %d: stages %v, fresh %v", id, got, want)
			}
		}
		if len(want) > 1 {
			multi++
		}
	}
	if multi == 0 {
		t.Fatal("the generator gave no multi-stage request: the test checks less than it says")
	}
}

func nonEmpty(s *Store, f Field) []string {
	var vs []string
	for _, v := range s.Values(f) {
		if !s.Postings(f, v).IsEmpty() {
			vs = append(vs, v)
		}
	}
	sort.Strings(vs)
	return vs
}

// releasing is a segment that counts its Release calls.
type releasing struct {
	*bytes.Reader
	released int
}

func (r *releasing) Release() { r.released++ }

func TestRetainReleasesSegmentsAndForgetsDroppedIDs(t *testing.T) {
	n := 2*testChunk + 10
	evs, offs, raw := generated(t, n)
	data := make([]byte, raw.Len())
	raw.ReadAt(data, 0)
	old := &releasing{Reader: bytes.NewReader(data)}
	cur := &releasing{Reader: bytes.NewReader(data)}
	s := newTestStore()
	// The first 1000 events come from one segment (a rotated file), the
	// rest from another (the current file).
	s.Append(evs[:1000], old, offs[:1000])
	s.Append(evs[1000:], cur, offs[1000:])
	before := s.All()

	if got := s.Retain(0, 0); got != 0 {
		t.Fatalf("Retain without bounds dropped %d", got)
	}
	if got := s.Retain(1, 0); got != 2*testChunk {
		t.Fatalf("Retain(1) dropped %d; want every full chunk (%d), never the one being filled", got, 2*testChunk)
	}
	if old.released != 1 || cur.released != 0 {
		t.Fatalf("released: old segment %d times, current %d times; want 1 and 0", old.released, cur.released)
	}
	if _, err := s.Raw(5, nil); err == nil {
		t.Error("Raw of a dropped event: no error")
	}
	if b, err := s.Raw(ID(n-1), nil); err != nil || len(b) == 0 {
		t.Errorf("Raw of a kept event: %q, %v", b, err)
	}
	seen := 0
	s.Each(before, func(e *Entry) bool { seen++; return true })
	if seen != 10 {
		t.Errorf("Each over a set computed before the drop saw %d events; want the 10 kept", seen)
	}
	if e := s.Entry(3); e.User.Name != "" || len(s.Stages(3)) != 0 {
		t.Errorf("Entry of a dropped event: %+v", e)
	}
	timed := 0
	s.Times(before, func(int64, bool, bool) { timed++ })
	if timed != 10 {
		t.Errorf("Times saw %d events; want 10", timed)
	}
	if st := s.Stats(); st.Events != 10 || st.Evicted != 2*testChunk {
		t.Errorf("stats %+v", st)
	}
}

func TestRetainByMemory(t *testing.T) {
	evs, offs, raw := generated(t, 3*testChunk+5)
	s := newTestStore()
	s.Append(evs, raw, offs)
	all := s.Stats().IndexBytes
	limit := int64(all) / 2
	dropped := s.Retain(0, limit)
	if dropped == 0 || int64(s.Stats().IndexBytes) > limit {
		t.Fatalf("Retain(0, %d) dropped %d events; estimate now %d (was %d)", limit, dropped, s.Stats().IndexBytes, all)
	}
}
