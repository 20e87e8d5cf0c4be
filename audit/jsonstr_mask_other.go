//go:build !amd64

package audit

// maskBlocks writes the masks of each 64-byte block of src (a multiple of
// 64 bytes long) to dst and the blocks after it.
func maskBlocks(dst *blockMask, src []byte) {
	maskBlocksGo(dst, src)
}

// maskImpl is what maskBlocks uses: Go, the only one here.
var maskImpl = maskGo
