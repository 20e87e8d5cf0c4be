package store

import (
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kaudit/kaudit/audit"
)

// TestAppendBatchSizes stores the same events (with duplicates within a
// batch and across batches, and requests of several stages) one at a time,
// which runs Append's halves one after the other, and in batches of 700,
// which runs them on two goroutines, and checks that both stores hold the
// same entries, requests, stage chains and postings of every value.
func TestAppendBatchSizes(t *testing.T) {
	evs, offs, raw := genEvents(t, 3000)
	// Every 7th event again soon after (in the same batch of 700) and
	// every 11th once more much later (in another batch).
	var all []audit.Event
	var allOffs []int64
	for i := range evs {
		if i%5 == 0 {
			// Its RequestReceived stage first, a millisecond earlier.
			rr := evs[i]
			rr.Stage, rr.StageTime = audit.StageRequestReceived, rr.StageTime.Add(-time.Millisecond)
			all, allOffs = append(all, rr), append(allOffs, offs[i])
		}
		all, allOffs = append(all, evs[i]), append(allOffs, offs[i])
		if i%7 == 0 && i >= 3 {
			all, allOffs = append(all, evs[i-3]), append(allOffs, offs[i-3])
		}
	}
	for i := 0; i < len(evs); i += 11 {
		all, allOffs = append(all, evs[i]), append(allOffs, offs[i])
	}
	one, many := New(ChunkEvents(1024)), New(ChunkEvents(1024))
	for i := range all {
		one.Append(all[i:i+1], raw, allOffs[i:i+1])
	}
	for i := 0; i < len(all); i += 700 {
		j := min(i+700, len(all))
		many.Append(all[i:j], raw, allOffs[i:j])
	}
	if one.Len() != many.Len() || one.Stats().Duplicates != many.Stats().Duplicates || one.Stats().Duplicates == 0 {
		t.Fatalf("len %d / %d, duplicates %d / %d", one.Len(), many.Len(), one.Stats().Duplicates, many.Stats().Duplicates)
	}
	if !one.Requests().Equals(many.Requests()) {
		t.Errorf("requests differ")
	}
	multi := 0
	for id := range ID(one.Len()) {
		if a, b := one.Entry(id), many.Entry(id); !reflect.DeepEqual(a, b) {
			t.Fatalf("entry %d: %+v\nand %+v", id, a, b)
		}
		a, b := one.Stages(id), many.Stages(id)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("stages of %d: %v and %v", id, a, b)
		}
		if len(a) > 1 {
			multi++
		}
	}
	if multi == 0 {
		t.Errorf("no request with several stages: the test does not pair")
	}
	for _, f := range Fields() {
		vals := one.Values(f)
		if len(vals) != len(many.Values(f)) {
			t.Errorf("%v: %d values and %d", f, len(vals), len(many.Values(f)))
		}
		for _, v := range vals {
			if !one.Postings(f, v).Equals(many.Postings(f, v)) {
				t.Errorf("%v %q: postings differ", f, v)
			}
		}
	}
}

// TestReadersSeeWholeBatches reads the newest event while batches large
// enough for Append's second goroutine are stored: every event a reader
// can see (below Len) is already in its postings and among the requests
// or the stages of one, whichever goroutine wrote them. Run with -race.
func TestReadersSeeWholeBatches(t *testing.T) {
	evs, offs, raw := genEvents(t, 20_000)
	s := New(ChunkEvents(4096))
	var done atomic.Bool
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			checked := 0
			for !done.Load() || checked == 0 {
				n := s.Len()
				if n == 0 {
					continue
				}
				id := ID(n - 1)
				e := s.Entry(id)
				if !s.Postings(FieldUser, e.User.Name).Contains(id) || !s.Postings(FieldVerb, e.Verb).Contains(id) ||
					!s.Postings(FieldSource, e.Source).Contains(id) || !s.Postings(FieldStage, e.Stage.String()).Contains(id) {
					t.Errorf("event %d (of %d) is missing from its postings", id, n)
					return
				}
				if len(e.User.Groups) > 0 && !s.Postings(FieldGroup, e.User.Groups[0]).Contains(id) {
					t.Errorf("event %d is missing from group %q", id, e.User.Groups[0])
					return
				}
				checked++
			}
		})
	}
	for i := 0; i < len(evs); i += 500 {
		j := min(i+500, len(evs))
		s.Append(evs[i:j], raw, offs[i:j])
	}
	done.Store(true)
	wg.Wait()
	if s.Len() != len(evs) {
		t.Fatalf("stored %d of %d", s.Len(), len(evs))
	}
}
