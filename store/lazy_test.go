package store

import (
	"sync"
	"testing"

	"github.com/kaudit/kaudit/audit"
)

// samePostings fails unless a and b hold the same values of every field
// with the same postings, and the same requests.
func samePostings(t *testing.T, a, b *Store) {
	t.Helper()
	if !a.Requests().Equals(b.Requests()) {
		t.Errorf("requests differ")
	}
	for _, f := range Fields() {
		va, vb := a.Values(f), b.Values(f)
		if len(va) != len(vb) || len(va) == 0 {
			t.Errorf("%v: %d values and %d", f, len(va), len(vb))
		}
		for _, v := range va {
			pa, pb := a.Postings(f, v), b.Postings(f, v)
			if !pa.Equals(pb) || pa.IsEmpty() {
				t.Errorf("%v %q: postings differ (%d and %d events)", f, v, pa.GetCardinality(), pb.GetCardinality())
			}
		}
	}
}

// withDuplicates returns evs with a RequestReceived stage before every
// fifth event and copies of earlier events: what dedup and pairing see.
func withDuplicates(evs []audit.Event, offs []int64) ([]audit.Event, []int64) {
	var all []audit.Event
	var allOffs []int64
	for i := range evs {
		if i%5 == 0 {
			rr := evs[i]
			rr.Stage = audit.StageRequestReceived
			all, allOffs = append(all, rr), append(allOffs, offs[i])
		}
		all, allOffs = append(all, evs[i]), append(allOffs, offs[i])
		if i%7 == 0 && i >= 3 {
			all, allOffs = append(all, evs[i-3]), append(allOffs, offs[i-3])
		}
	}
	return all, allOffs
}

// TestLazyPostingsSame stores the same events in a store keeping postings
// and in a lazy one, and checks that the lazy one's postings, built on
// the first ask, are the same; then again after more appends (which a
// built lazy store posts as it goes) and after retention dropped chunks.
func TestLazyPostingsSame(t *testing.T) {
	evs, offs, raw := genEvents(t, 6000)
	all, allOffs := withDuplicates(evs, offs)
	half := len(all) / 2
	for _, retain := range []bool{false, true} {
		eager, lazy := New(ChunkEvents(1024)), New(ChunkEvents(1024), LazyPostings())
		load := func(lo, hi int) {
			for i := lo; i < hi; i += 500 {
				j := min(i+500, hi)
				eager.Append(all[i:j], raw, allOffs[i:j])
				lazy.Append(all[i:j], raw, allOffs[i:j])
				if retain {
					eager.Retain(3000, 0)
					lazy.Retain(3000, 0)
				}
			}
		}
		load(0, half)
		if lazy.posted.Load() {
			t.Fatal("a lazy store has postings before any reader asked")
		}
		if got, want := lazy.Stats().Events, eager.Stats().Events; got != want {
			t.Fatalf("lazy store holds %d events, the other %d", got, want)
		}
		samePostings(t, eager, lazy)
		if !lazy.posted.Load() {
			t.Fatal("postings asked for, not built")
		}
		load(half, len(all))
		samePostings(t, eager, lazy)
		if retain && lazy.First() == 0 {
			t.Error("retention dropped nothing: the test does not cover it")
		}
	}
}

// TestLazyPostingsConcurrentBuild has several readers ask a lazy store for
// postings at once: one builds, the others wait and see whole lists (run
// with -race).
func TestLazyPostingsConcurrentBuild(t *testing.T) {
	evs, offs, raw := genEvents(t, 3000)
	eager, lazy := New(ChunkEvents(1024)), New(ChunkEvents(1024), LazyPostings())
	eager.Append(evs, raw, offs)
	lazy.Append(evs, raw, offs)
	user := evs[0].User.Name
	want := eager.Postings(FieldUser, user)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			_ = lazy.Stats()
			if got := lazy.Postings(FieldUser, user); !got.Equals(want) {
				t.Errorf("user %q: %d events, want %d", user, got.GetCardinality(), want.GetCardinality())
			}
		})
	}
	wg.Wait()
}
