package audit

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// maskRef is the definition of the masks, byte by byte.
func maskRef(src []byte) []blockMask {
	ms := make([]blockMask, len(src)/64)
	for i, c := range src[:len(ms)*64] {
		bit := uint64(1) << (i % 64)
		if c == '"' || c == '\\' || c < 0x20 || c >= 0x80 {
			ms[i/64].any |= bit
		}
		if c >= 0x80 {
			ms[i/64].hi |= bit
		}
	}
	return ms
}

// TestMaskBlocks holds maskBlocks (assembly on amd64) and maskBlocksGo to
// the definition: every byte value at every position, and random blocks
// of bytes near the classes' edges.
func TestMaskBlocks(t *testing.T) {
	defer func(keep maskKind) { maskImpl = keep }(maskImpl)
	edges := []byte{0, 0x1f, 0x20, 0x21, '"', '#', '[', '\\', ']', 0x7f, 0x80, 0x81, 0xa2, 0xdc, 0xff, 'a'}
	var srcs [][]byte
	for c := range 256 {
		for at := range 64 {
			src := make([]byte, 128)
			for i := range src {
				src[i] = 'a'
			}
			src[at] = byte(c)
			src[64+63-at] = byte(c)
			srcs = append(srcs, src)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		src := make([]byte, 64*(1+r.IntN(4)))
		for i := range src {
			src[i] = edges[r.IntN(len(edges))]
		}
		srcs = append(srcs, src)
	}
	for _, src := range srcs {
		want := maskRef(src)
		for _, impl := range maskImpls {
			maskImpl = impl
			got := make([]blockMask, len(want)+1)
			got[len(want)] = blockMask{any: 7, hi: 9} // must stay
			maskBlocks(&got[0], src)
			name := fmt.Sprint("maskBlocks ", impl)
			for k := range want {
				if got[k] != want[k] {
					t.Fatalf("%s(%q) block %d = %x, want %x", name, src, k, got[k], want[k])
				}
			}
			if got[len(want)] != (blockMask{any: 7, hi: 9}) {
				t.Fatalf("%s wrote past its blocks", name)
			}
		}
	}
}

// sprinkled is n bytes of 'a' with one in oneIn of them a byte of
// specials, chosen at random.
func sprinkled(r *rand.Rand, n, oneIn int, specials []byte) []byte {
	data := make([]byte, n)
	for i := range data {
		data[i] = 'a'
		if r.IntN(oneIn) == 0 {
			data[i] = specials[r.IntN(len(specials))]
		}
	}
	return data
}

// TestNextSpecial walks strings of every length across window and block
// edges against a byte loop.
func TestNextSpecial(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 300 {
		data := sprinkled(r, r.IntN(3000), 40, []byte{'"', '\\', 0x01, 0x80, 0xff})
		var w maskWin
		for i, high := 0, true; i <= len(data); i += 1 + r.IntN(90) {
			if r.IntN(3) == 0 {
				high = !high
			}
			want := i
			for ; want < len(data); want++ {
				if c := data[want]; c == '"' || c == '\\' || c < 0x20 || c >= 0x80 && high {
					break
				}
			}
			if got := w.nextSpecial(data, i, high); got != want {
				t.Fatalf("len %d: nextSpecial(%d, %v) = %d, want %d", len(data), i, high, got, want)
			}
		}
	}
}

// maskImpls are the implementations of maskBlocks this machine can run.
var maskImpls = []maskKind{maskGo}

// TestDecodeEachMask decodes the fixtures and edge cases with each
// implementation of maskBlocks, against encoding/json.
func TestDecodeEachMask(t *testing.T) {
	defer func(keep maskKind) { maskImpl = keep }(maskImpl)
	docs := fixtureDocs(t, 1<<30)
	for _, tc := range edgeCases {
		docs = append(docs, []byte(tc.doc))
	}
	for _, impl := range maskImpls {
		maskImpl = impl
		t.Run(fmt.Sprint(impl), func(t *testing.T) {
			for _, doc := range docs {
				sameAsStd(t, doc)
			}
		})
	}
}

// TestQuickEnd holds quickEnd and plainEndAt to the definition of a plain
// string's end (the first special byte after start, if it is a quote):
// they return it or -1, never another index, for every start in and
// around windows filled at random places of random data (the window's
// 1 KiB limit, the padded last block, the block after the window); and
// where the end is within 65 bytes of a start inside the window and at
// most one byte past it, quickEnd finds it.
func TestQuickEnd(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 300 {
		data := sprinkled(r, r.IntN(3000), 30, []byte{'"', '"', '"', '\\', 0x01, 0x80, 0xff})
		var w maskWin
		if len(data) > 0 {
			w.fill(data, r.IntN(len(data)))
		}
		for start := max(0, w.base-70); start <= min(len(data), w.base+w.n+70); start++ {
			want := start
			for want < len(data) && !(data[want] == '"' || data[want] == '\\' || data[want] < 0x20 || data[want] >= 0x80) {
				want++
			}
			if want >= len(data) || data[want] != '"' {
				want = -1
			}
			got := w.quickEnd(data, start)
			inWin := start >= w.base && start < w.base+w.n
			if got != -1 && got != want || got == -1 && want >= 0 && want-start <= 64 && want <= w.base+w.n && inWin {
				t.Fatalf("len %d, window %d+%d: quickEnd(%d) = %d, want %d", len(data), w.base, w.n, start, got, want)
			}
			if start < len(data) {
				v := w // plainEndAt may move the window
				if got := v.plainEndAt(data, start); got != -1 && got != want {
					t.Fatalf("len %d, window %d+%d: plainEndAt(%d) = %d, want %d", len(data), w.base, w.n, start, got, want)
				}
			}
		}
	}
}
