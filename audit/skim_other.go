//go:build !amd64

package audit

import "unsafe"

func specialBlocks(p *byte, n int, bm *uint64) (high uint64) {
	return specialBlocksGo(unsafe.Slice(p, 64*n), unsafe.Slice(bm, n))
}
