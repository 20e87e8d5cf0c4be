package audit

// maskBlocks writes the masks of each 64-byte block of src (a multiple of
// 64 bytes long) to dst and the blocks after it, 16 bytes per SSE2
// instruction (every amd64 machine has SSE2).
//
//go:noescape
func maskBlocks(dst *blockMask, src []byte)
