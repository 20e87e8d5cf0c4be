package store

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/kaudit/kaudit/audit"
)

// TestHeadsAgainstMap drives the heads table and a map with the same
// random adds, moves and deletes (keys that differ in one byte, and
// random ones) and checks every key's answer after each round.
func TestHeadsAgainstMap(t *testing.T) {
	for _, tc := range []struct {
		name string
		key  func(i int, r *rand.Rand) [16]byte
	}{
		{"random", func(_ int, r *rand.Rand) (u [16]byte) {
			for j := range u {
				u[j] = byte(r.Uint32())
			}
			return u
		}},
		{"sequential", func(i int, _ *rand.Rand) (u [16]byte) {
			u[3], u[2], u[15] = byte(i), byte(i>>8), byte(i>>16) // i 0: all zero
			return u
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			var keys [][16]byte // by ID: the auditID column
			tab := newHeads(func(id ID) *[16]byte { return &keys[id] })
			model := map[[16]byte]ID{}
			for round := range 40 {
				for range 500 {
					u := tc.key(len(keys), r)
					id := ID(len(keys))
					keys = append(keys, u)
					if _, ok := model[u]; ok {
						continue
					}
					model[u] = id
					tab.add(&keys[id], id)
				}
				n := 0
				for u := range model {
					if n++; n%3 == 0 {
						tab.del(&u)
						delete(model, u)
					} else if n%5 == 0 {
						// Another event with the same key becomes the head.
						id := ID(len(keys))
						keys = append(keys, u)
						tab.set(&u, id)
						model[u] = id
					}
				}
				for id := range keys {
					u := keys[id]
					want, wantOK := model[u]
					got, ok := tab.get(&u)
					if ok != wantOK || got != want {
						t.Fatalf("round %d: key %x: got %d %v, want %d %v", round, u, got, ok, want, wantOK)
					}
				}
				if tab.live != len(model) {
					t.Fatalf("round %d: live %d, want %d", round, tab.live, len(model))
				}
			}
			if (tab.live+tab.dead)*8 > len(tab.slots)*5 {
				t.Errorf("load above 5/8: %d live, %d dead, %d slots", tab.live, tab.dead, len(tab.slots))
			}
		})
	}
}

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
