package store

import (
	"math/rand/v2"
	"testing"
)

// TestHeadsAgainstMap drives the heads table and a map with the same
// random adds, moves and deletes (keys that differ in one byte, and
// random ones) and checks every key's answer after each round.
func TestHeadsAgainstMap(t *testing.T) {
	random := func(_ int, r *rand.Rand) (u [16]byte) {
		for j := range u {
			u[j] = byte(r.Uint32())
		}
		return u
	}
	for _, tc := range []struct {
		name    string
		key     func(i int, r *rand.Rand) [16]byte
		reserve int // ExpectEvents' hint
	}{
		{"random", random, 0},
		{"sequential", func(i int, _ *rand.Rand) (u [16]byte) {
			u[3], u[2], u[15] = byte(i), byte(i>>8), byte(i>>16) // i 0: all zero
			return u
		}, 0},
		{"reserved", random, 20000},
		{"reserved too few", random, 3000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			var keys [][16]byte // by ID: the auditID column
			tab := newHeads(func(id ID) *[16]byte { return &keys[id] })
			tab.reserve(tc.reserve)
			if reserved := len(tab.slots); tc.reserve*8 > reserved*5 && reserved < 1<<maxReserveBits {
				t.Fatalf("reserve(%d): %d slots", tc.reserve, reserved)
			}
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
