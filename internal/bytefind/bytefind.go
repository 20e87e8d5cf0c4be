// Package bytefind finds a fixed string in audit-log JSON. bytes.Index
// skips ahead with the needle's first byte, which is slow when that byte
// is common in the text (s, e, a quote: one in every 10–20 bytes of audit
// JSON). A Finder anchors on the needle's rarest bytes instead, by a
// table of byte frequencies measured on audit logs: one rare byte is
// found with bytes.IndexByte; for a needle of common bytes only, eight
// positions at a time are tested for a pair of its bytes (SWAR).
package bytefind

import (
	"bytes"
	"encoding/binary"
	"math/bits"
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

// memchrBelow is the frequency under which skipping with IndexByte beats
// the pair test: each false candidate costs a call, a few nanoseconds.
const memchrBelow = 150

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// Finder finds one needle. Its zero value finds the empty needle.
type Finder struct {
	needle []byte
	i1, i2 int  // offsets of the rarest byte and the next rarest elsewhere
	memchr bool // needle[i1] is rare: skip with IndexByte
	w1, w2 uint64
}

// New returns a Finder of needle (which it keeps: do not modify it).
func New(needle []byte) *Finder {
	f := &Finder{needle: needle}
	if len(needle) < 2 {
		return f
	}
	for i, b := range needle {
		if frequency(b) < frequency(needle[f.i1]) {
			f.i1 = i
		}
	}
	// The second: the rarest of another value (a pair of equal bytes,
	// the two s of "secrets", tells less), else any other place.
	f.i2 = (f.i1 + 1) % len(needle)
	other := false
	for i, b := range needle {
		if b != needle[f.i1] && (!other || frequency(b) < frequency(needle[f.i2])) {
			f.i2, other = i, true
		}
	}
	f.memchr = frequency(needle[f.i1]) < memchrBelow
	f.w1, f.w2 = lsb*uint64(needle[f.i1]), lsb*uint64(needle[f.i2])
	return f
}

// Index returns the offset of the first needle in s, or -1.
func (f *Finder) Index(s []byte) int {
	n := len(f.needle)
	switch {
	case n < 2:
		return bytes.Index(s, f.needle)
	case n > len(s):
		return -1
	case f.memchr:
		return f.indexRare(s)
	}
	return f.indexPair(s)
}

// Contains reports whether s holds the needle.
func (f *Finder) Contains(s []byte) bool { return f.Index(s) >= 0 }

// indexRare finds each place of the rarest byte and checks the needle
// around it.
func (f *Finder) indexRare(s []byte) int {
	n, b := len(f.needle), f.needle[f.i1]
	last := len(s) - n // the last possible start
	for start := 0; start <= last; {
		j := bytes.IndexByte(s[start+f.i1:last+f.i1+1], b)
		if j < 0 {
			return -1
		}
		start += j
		if bytes.Equal(s[start:start+n], f.needle) {
			return start
		}
		start++
	}
	return -1
}

// indexPair tests eight starts at once: the bytes at offsets i1 and i2
// from each start are compared with the needle's in two 64-bit words
// (zero bytes of the XOR are equal ones, found with the borrow trick,
// which may flag a byte above a real zero: every flag is checked).
func (f *Finder) indexPair(s []byte) int {
	n := len(f.needle)
	hi := max(f.i1, f.i2)
	start := 0
	for ; start+hi+8 <= len(s); start += 8 {
		x1 := binary.LittleEndian.Uint64(s[start+f.i1:]) ^ f.w1
		x2 := binary.LittleEndian.Uint64(s[start+f.i2:]) ^ f.w2
		z := (x1 - lsb) & ^x1 & (x2 - lsb) & ^x2 & msb
		for z != 0 {
			at := start + bits.TrailingZeros64(z)/8
			if at+n <= len(s) && bytes.Equal(s[at:at+n], f.needle) {
				return at
			}
			z &= z - 1
		}
	}
	if j := bytes.Index(s[start:], f.needle); j >= 0 {
		return start + j
	}
	return -1
}
