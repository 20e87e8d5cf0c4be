package audit

// maskBlocks writes the masks of each 64-byte block of src (a multiple of
// 64 bytes long) to dst and the blocks after it: 32 bytes per instruction
// with AVX2, else 16 with SSE2, which every amd64 machine has. (A switch,
// not a function variable: through one, dst would escape and every
// decoder would be allocated.)
func maskBlocks(dst *blockMask, src []byte) {
	switch maskImpl {
	case maskAVX2:
		maskBlocksAVX2(dst, src)
	case maskSSE2:
		maskBlocksSSE2(dst, src)
	default:
		maskBlocksGo(dst, src)
	}
}

// maskImpl is the implementation maskBlocks uses; tests change it.
var maskImpl = pickMask()

func pickMask() maskKind {
	if cpuAVX2() {
		return maskAVX2
	}
	return maskSSE2
}

//go:noescape
func maskBlocksSSE2(dst *blockMask, src []byte)

//go:noescape
func maskBlocksAVX2(dst *blockMask, src []byte)

// cpuAVX2 reports whether the CPU has AVX2 and the OS saves its registers.
func cpuAVX2() bool
