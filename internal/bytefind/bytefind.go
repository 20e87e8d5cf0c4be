// Package bytefind finds a fixed string in audit-log JSON. bytes.Index
// skips ahead with bytes.IndexByte on the needle's first byte while that
// finds few false starts, then changes to a vectorised search once they
// are many. In audit JSON a first byte such as s or t (one byte in 20) is
// the worst case: too common for IndexByte to skip far, too rare for the
// change. A Finder skips on the needle's rarest byte instead, by a table
// of byte frequencies measured on audit logs, and leaves a needle that
// starts with a very common byte (a quote, e) to bytes.Index, which
// changes at once.
package bytefind

import "bytes"

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

// stdFrom is the first-byte frequency from which bytes.Index soon finds
// so many false starts that it changes to its vectorised search, faster
// than skipping on any byte of an audit-log needle.
const stdFrom = 800

// Finder finds one needle. Its zero value finds the empty needle.
type Finder struct {
	needle []byte
	rare   int  // offset of the needle's rarest byte
	std    bool // use bytes.Index
}

// New returns a Finder of needle (which it keeps: do not modify it).
func New(needle []byte) *Finder {
	f := &Finder{needle: needle, std: len(needle) < 2}
	if f.std {
		return f
	}
	for i, b := range needle {
		if frequency(b) < frequency(needle[f.rare]) {
			f.rare = i
		}
	}
	f.std = frequency(needle[0]) >= stdFrom
	return f
}

// Index returns the offset of the first needle in s, or -1.
func (f *Finder) Index(s []byte) int {
	if f.std {
		return bytes.Index(s, f.needle)
	}
	n, b := len(f.needle), f.needle[f.rare]
	last := len(s) - n // the last possible start
	for start := 0; start <= last; start++ {
		j := bytes.IndexByte(s[start+f.rare:last+f.rare+1], b)
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

// Contains reports whether s holds the needle.
func (f *Finder) Contains(s []byte) bool { return f.Index(s) >= 0 }
