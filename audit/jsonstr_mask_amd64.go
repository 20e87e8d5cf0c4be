package audit

// maskBlocks writes the masks of each 64-byte block of src (a multiple of
// 64 bytes long) to dst and the blocks after it: 32 bytes per instruction
// with AVX2, else 16 with SSE2, which every amd64 machine has.
func maskBlocks(dst *blockMask, src []byte) {
	if hasAVX2 {
		maskBlocksAVX2(dst, src)
	} else {
		maskBlocksSSE2(dst, src)
	}
}

var hasAVX2 = cpuAVX2()

//go:noescape
func maskBlocksSSE2(dst *blockMask, src []byte)

//go:noescape
func maskBlocksAVX2(dst *blockMask, src []byte)

// cpuAVX2 reports whether the CPU has AVX2 and the OS saves its registers.
func cpuAVX2() bool
