// Package bytefind finds a fixed string in audit-log JSON. bytes.Index
// skips ahead with bytes.IndexByte on the needle's first byte while that
// finds few false starts, then changes to a slower compare at every
// position once they are many. In audit JSON most needles are made of
// common bytes (s, e, t, c, r: one byte in 20 to 40), so any single byte
// stops the scan every few dozen bytes. A Finder instead scans for the
// needle's two rarest bytes at their distance from each other, 32
// positions per step with AVX2 (simd.MemchrPair; a word-at-a-time loop
// elsewhere), by a table of byte frequencies measured on audit logs: a
// false start then needs both bytes at once, a few in a kilobyte. A needle
// with a very rare byte (F, W, Q) skips on that one alone with IndexByte.
package bytefind

import (
	"bytes"

	"github.com/gofiber/utils/v2/simd"
)

// freq is each byte's frequency in audit-log JSON, per 10,000 bytes:
// 30 MB of a generated 1 GiB log (gen, seed 1) and the real API server's
// log in testdata/realcluster. Bytes from 128 are under 1 in 10,000.
var freq = [128]uint16{
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	62, 0, 1000, 0, 0, 0, 0, 0, 8, 8, 0, 0, 228, 228, 166, 120,
	222, 206, 143, 85, 118, 113, 102, 80, 124, 97, 378, 0, 0, 13, 0, 4,
	0, 22, 8, 22, 10, 10, 2, 6, 5, 29, 3, 0, 1, 11, 2, 2,
	18, 0, 48, 19, 42, 10, 22, 0, 4, 0, 18, 30, 30, 30, 0, 1,
	0, 508, 145, 283, 234, 884, 86, 72, 56, 386, 13, 102, 181, 184, 371, 401,
	156, 25, 353, 510, 499, 262, 97, 19, 24, 63, 22, 73, 0, 73, 0, 0,
}

func frequency(b byte) uint16 {
	if b >= 128 {
		return 0
	}
	return freq[b]
}

// Rarest returns the offset of the byte of b that audit logs hold least
// often (the first of equals), or 0 for an empty b: where a search for b
// should look first, since JSON is full of quotes and colons.
func Rarest(b []byte) int {
	at := 0
	for i, c := range b {
		if frequency(c) < frequency(b[at]) {
			at = i
		}
	}
	return at
}

// Finder finds one needle. Its zero value finds the empty needle.
type Finder struct {
	needle []byte
	at     int  // offset of the first anchor byte
	dist   int  // how far after it the second one is (> 0); 0: one anchor
	b1, b2 byte // the anchor bytes
}

// rareFrom is the frequency (per 10,000 bytes) under which one anchor
// byte is enough: IndexByte then stops about once a kilobyte or less, and
// its scan is cheaper than the pair's.
const rareFrom = 5

// New returns a Finder of needle (which it keeps: do not modify it).
func New(needle []byte) *Finder {
	f := &Finder{needle: needle}
	if len(needle) < 2 {
		return f
	}
	// The rarest byte, then the rarest at another offset.
	r1 := Rarest(needle)
	r2 := -1
	for i, b := range needle {
		if i != r1 && (r2 < 0 || frequency(b) < frequency(needle[r2])) {
			r2 = i
		}
	}
	if frequency(needle[r1]) < rareFrom {
		f.at, f.b1 = r1, needle[r1]
		return f
	}
	f.at, f.dist = min(r1, r2), max(r1, r2)-min(r1, r2)
	f.b1, f.b2 = needle[f.at], needle[f.at+f.dist]
	return f
}

// Index returns the offset of the first needle in s, or -1.
func (f *Finder) Index(s []byte) int {
	n := len(f.needle)
	if n < 2 {
		return bytes.Index(s, f.needle)
	}
	last := len(s) - n // the last possible start
	for start := 0; start <= last; start++ {
		// The anchors of starts start..last lie in s[start+at : last+at+dist+1].
		var j int
		if f.dist == 0 {
			j = bytes.IndexByte(s[start+f.at:last+f.at+1], f.b1)
		} else {
			j = simd.MemchrPair(s[start+f.at:last+f.at+f.dist+1], f.b1, f.b2, f.dist)
		}
		if j < 0 {
			return -1
		}
		start += j
		if bytes.Equal(s[start:start+n], f.needle) {
			return start
		}
	}
	return -1
}

// Len is the needle's length.
func (f *Finder) Len() int { return len(f.needle) }

// Contains reports whether s holds the needle.
func (f *Finder) Contains(s []byte) bool { return f.Index(s) >= 0 }
