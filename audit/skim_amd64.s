#include "textflag.h"

// func specialBlocks(p *byte, n int, bm *uint64) (high uint64)
// For each of the n 64-byte blocks from p, bm gets a word whose bit k says
// that byte k is '"', '\\' or below 0x20; high is nonzero when some byte
// is >= 0x80. SSE2 only, which every amd64 processor has.
TEXT ·specialBlocks(SB), NOSPLIT, $0-32
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ bm+16(FP), DI
	XORQ R9, R9
	MOVQ $0x2222222222222222, AX
	MOVQ AX, X10
	PUNPCKLQDQ X10, X10
	MOVQ $0x5c5c5c5c5c5c5c5c, AX
	MOVQ AX, X11
	PUNPCKLQDQ X11, X11
	MOVQ $0x1f1f1f1f1f1f1f1f, AX
	MOVQ AX, X12
	PUNPCKLQDQ X12, X12
	TESTQ CX, CX
	JEQ done

loop:
	MOVOU 0(SI), X0
	MOVOU 16(SI), X4
	MOVOU 32(SI), X5
	MOVOU 48(SI), X6

	// high bytes: the top bits of all four
	MOVOU X0, X7
	POR X4, X7
	POR X5, X7
	POR X6, X7
	PMOVMSKB X7, AX
	ORQ AX, R9

	// block 0
	MOVOU X0, X1
	PCMPEQB X10, X1
	MOVOU X0, X2
	PCMPEQB X11, X2
	PMAXUB X12, X0
	PCMPEQB X12, X0
	POR X2, X1
	POR X0, X1
	PMOVMSKB X1, AX

	// block 1
	MOVOU X4, X1
	PCMPEQB X10, X1
	MOVOU X4, X2
	PCMPEQB X11, X2
	PMAXUB X12, X4
	PCMPEQB X12, X4
	POR X2, X1
	POR X4, X1
	PMOVMSKB X1, BX
	SHLQ $16, BX
	ORQ BX, AX

	// block 2
	MOVOU X5, X1
	PCMPEQB X10, X1
	MOVOU X5, X2
	PCMPEQB X11, X2
	PMAXUB X12, X5
	PCMPEQB X12, X5
	POR X2, X1
	POR X5, X1
	PMOVMSKB X1, BX
	SHLQ $32, BX
	ORQ BX, AX

	// block 3
	MOVOU X6, X1
	PCMPEQB X10, X1
	MOVOU X6, X2
	PCMPEQB X11, X2
	PMAXUB X12, X6
	PCMPEQB X12, X6
	POR X2, X1
	POR X6, X1
	PMOVMSKB X1, BX
	SHLQ $48, BX
	ORQ BX, AX

	MOVQ AX, 0(DI)
	ADDQ $64, SI
	ADDQ $8, DI
	DECQ CX
	JNZ loop

done:
	MOVQ R9, high+24(FP)
	RET
