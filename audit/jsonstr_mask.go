package audit

import (
	"encoding/binary"
	"math/bits"
	"unsafe"
)

// String ends by bitmask. Finding where a string ends is most of the
// decoder's work: an audit event is mostly short strings. Instead of
// testing each string's bytes eight at a time, the decoder marks the bytes
// that can end a plain run ('"', '\\', control characters, and bytes >=
// 0x80) of a window of the input in bitmasks, 64 bytes per word, 16 bytes
// per instruction where the machine allows (maskBlocks), and then finds a
// string's end with a shift and a count of trailing zeros.

// winBlocks is the window's size in 64-byte blocks: enough for a Metadata
// event's bytes in one or two windows, little to clear.
const winBlocks = 16

// maskWin holds the bitmasks of data[base:base+n].
type maskWin struct {
	base, n int
	// any[k] bit j marks data[base+64k+j] as '"', '\\', a control
	// character or >= 0x80; hi[k] marks those >= 0x80 alone. The block
	// after the last one filled marks every byte, so that two blocks can
	// be read as one 64-bit span without a test (see span), and a span
	// with no bit set is 64 bytes seen to hold nothing special.
	m [winBlocks + 1]blockMask
}

// span returns the any-bits of the 64 bytes from data[base+k] on (k
// within the window): two blocks' words shifted together, without a
// branch on whether k is a block's start (Go's shift by 64 gives 0). A
// string's end is then found without a branch on whether it is in the
// block it starts in, which strings of 20 to 100 bytes make a coin toss.
// When no bit is set, the byte after the 64 (TrailingZeros64 gives 64)
// is the first that can end a string.
func (w *maskWin) span(k int) uint64 {
	b, s := k>>6, uint(k&63)
	return w.m[b].any>>s | w.m[b+1].any<<(64-s)
}

// blockMask is one 64-byte block's masks.
type blockMask struct{ any, hi uint64 }

// nextSpecial returns the index of the first byte of data at or after i
// that is '"', '\\' or a control character, or (when high) >= 0x80;
// len(data) when there is none.
func (w *maskWin) nextSpecial(data []byte, i int, high bool) int {
	for i < len(data) {
		k := i - w.base
		if k < 0 || k >= w.n {
			w.fill(data, i)
			k = 0
		}
		b := &w.m[k>>6]
		m := b.any
		if !high {
			m ^= b.hi
		}
		if m >>= k & 63; m != 0 {
			return min(i+bits.TrailingZeros64(m), len(data))
		}
		i += 64 - k&63
	}
	return len(data)
}

// fill computes the masks of the window starting at data[i]. A block past
// the end of data is computed from a zero-padded copy; its zeros mark the
// end of data as a control character would, which nextSpecial clamps.
func (w *maskWin) fill(data []byte, i int) {
	w.base = i
	rest := data[i:]
	full := min(len(rest)/64, winBlocks)
	if full > 0 {
		maskBlocks(&w.m[0], rest[:full*64])
	}
	w.n = full * 64
	if full < winBlocks && len(rest) > full*64 {
		var pad [64]byte
		copy(pad[:], rest[full*64:])
		maskBlocks(&w.m[full], pad[:])
		w.n += 64
	}
	w.m[w.n>>6] = blockMask{any: ^uint64(0)}
}

// maskKind names an implementation of maskBlocks.
type maskKind uint8

const (
	maskGo maskKind = iota
	maskSSE2
	maskAVX2
)

func (k maskKind) String() string { return [...]string{"Go", "SSE2", "AVX2"}[k] }

// maskBlocksGo is maskBlocks in Go, eight bytes at a time; exact for every
// byte (special's lowest-bit-only shortcut would mark bytes after a quote).
func maskBlocksGo(dst *blockMask, src []byte) {
	ms := unsafe.Slice(dst, len(src)/64)
	for k := range ms {
		var anyM, hiM uint64
		for w := range 8 {
			x := binary.LittleEndian.Uint64(src[64*k+8*w:])
			hi := x & msb
			low := x &^ msb // each byte < 0x80, so the adds below carry no further than its own top bit
			q := low ^ (lsb * '"')
			b := low ^ (lsb * '\\')
			// a byte's top bit ends up set when it is a quote, a
			// backslash or below 0x20 (and the byte itself < 0x80).
			zq := ^(q + lsb*0x7f) & msb
			zb := ^(b + lsb*0x7f) & msb
			ctl := ^(low + lsb*(0x80-0x20)) & msb
			sp := (zq | zb | ctl) &^ hi
			anyM |= pack(sp|hi) << (8 * w)
			hiM |= pack(hi) << (8 * w)
		}
		ms[k] = blockMask{any: anyM, hi: hiM}
	}
}

// pack gathers the top bits of x's bytes into the low byte.
func pack(x uint64) uint64 {
	return (x >> 7) * 0x0102040810204080 >> 56
}

// quickEnd is plainEndAt's case small enough to inline: start within the
// window, the closing quote within 65 bytes; -1 otherwise.
func (w *maskWin) quickEnd(data []byte, start int) int {
	if k := start - w.base; uint(k) < uint(w.n) {
		if i := start + bits.TrailingZeros64(w.span(k)); i < len(data) && data[i] == '"' {
			return i
		}
	}
	return -1
}

// plainEndAt is quickEnd for the string body starting at data[start]
// anywhere: the index of its closing quote when the masks show it within
// 65 bytes with nothing special before it; else -1. It moves the window
// to start when start is outside it.
func (w *maskWin) plainEndAt(data []byte, start int) int {
	if k := start - w.base; (k < 0 || k >= w.n) && start < len(data) {
		w.fill(data, start)
	}
	return w.quickEnd(data, start)
}
