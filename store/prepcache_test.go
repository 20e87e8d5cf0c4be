package store

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestValueWordsExact: for values of up to 16 bytes, equal words and
// length mean equal values (the cache compares no bytes for them). Every
// value differing from another in one byte, at each position and length,
// must differ in its words.
func TestValueWordsExact(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for n := 1; n <= 16; n++ {
		for range 200 {
			b := make([]byte, n)
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			w1, w2 := valueWords(string(b))
			for i := range n {
				c := append([]byte(nil), b...)
				c[i] ^= byte(1 + r.IntN(255))
				if v1, v2 := valueWords(string(c)); v1 == w1 && v2 == w2 {
					t.Fatalf("%q and %q have the same words", b, c)
				}
			}
		}
	}
}

// TestPrepCacheLookup looks values up through one cache, over many calls,
// against the snapshot's maps: short and long values, long ones alike at
// both ends and in length (one set of slots for many), values the
// snapshot lacks, and a new key generation.
func TestPrepCacheLookup(t *testing.T) {
	var vals []string
	for i := range 300 {
		vals = append(vals,
			fmt.Sprint("v", i),
			fmt.Sprintf("system:node:ip-10-0-%d-%03d.ec2.internal", i%4, i), // alike at both ends
			strings.Repeat("x", i%40+1),
			fmt.Sprintf("%s%04d%s", strings.Repeat("a", 20), i, strings.Repeat("b", 20)))
		// Two long values with the same words: only their bytes tell.
		a, b := sameWords(uint64(i) * 0x9e3779b97f4a7c15)
		vals = append(vals, a, b)
	}
	s := New()
	s.Prepare(nil, nil)
	r := rand.New(rand.NewPCG(5, 6))
	for gen := range 2 {
		d := &s.dicts[colUserAgent]
		for _, v := range vals[:len(vals)/2] {
			d.intern(v)
		}
		s.compact.gen = uint64(gen)
		s.refreshKeys(true)
		snap := s.keys.snap.Load()
		for range 20 {
			c := s.keys.cache(snap)
			for range 2000 {
				v := vals[r.IntN(len(vals))]
				v = strings.Clone(v) // not the snapshot's copy
				want, ok := snap.ids[colUserAgent][v]
				if !ok {
					want = keyUnknown
				}
				if got := c.lookup(colUserAgent, snap, v); got != want {
					t.Fatalf("gen %d: lookup(%q) = %d, want %d", gen, v, got, want)
				}
			}
			s.keys.caches.Put(c)
		}
		// The next generation numbers the same values otherwise.
		s.dicts[colUserAgent] = newDict(false)
		vals = append(vals[len(vals)/2:], vals[:len(vals)/2]...)
	}
}

// sameWords returns two 32-byte values that differ in their middle
// words but have the same valueWords.
func sameWords(d uint64) (string, string) {
	a := []byte("prefix--0123456789abcdef-suffix-")
	b := append([]byte(nil), a...)
	binary.LittleEndian.PutUint64(b[8:], binary.LittleEndian.Uint64(a[8:])^d)
	binary.LittleEndian.PutUint64(b[16:], binary.LittleEndian.Uint64(a[16:])^bits.RotateLeft64(d, 23))
	return string(a), string(b)
}

func TestSameWords(t *testing.T) {
	a, b := sameWords(12345)
	a1, a2 := valueWords(a)
	b1, b2 := valueWords(b)
	if a == b || a1 != b1 || a2 != b2 {
		t.Fatalf("%q %q: words %x %x, %x %x", a, b, a1, a2, b1, b2)
	}
}
