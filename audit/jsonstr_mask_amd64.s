#include "textflag.h"

// func maskBlocksSSE2(dst *blockMask, src []byte)
//
// For each 64-byte block of src: any = the bytes that are '"', '\\',
// below 0x20 or at least 0x80; hi = those at least 0x80 (bit j for byte j).
TEXT ·maskBlocksSSE2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src_base+8(FP), SI
	MOVQ src_len+16(FP), CX
	SHRQ $6, CX
	MOVQ $0x2222222222222222, AX
	MOVQ AX, X10
	PUNPCKLQDQ X10, X10
	MOVQ $0x5c5c5c5c5c5c5c5c, AX
	MOVQ AX, X11
	PUNPCKLQDQ X11, X11
	MOVQ $0x1f1f1f1f1f1f1f1f, AX
	MOVQ AX, X12
	PUNPCKLQDQ X12, X12

sseloop:
	TESTQ CX, CX
	JZ    ssedone
	XORQ  R9, R9  // any
	XORQ  R10, R10 // hi

#define PART(off, shift) \
	MOVOU      off(SI), X0 \
	MOVOU      X0, X1 \
	PCMPEQB    X10, X1 \
	MOVOU      X0, X2 \
	PCMPEQB    X11, X2 \
	MOVOU      X0, X3 \
	PMINUB     X12, X3 \
	PCMPEQB    X0, X3 \
	POR        X2, X1 \
	POR        X3, X1 \
	POR        X0, X1 \
	PMOVMSKB   X1, AX \
	PMOVMSKB   X0, BX \
	SHLQ       $shift, AX \
	SHLQ       $shift, BX \
	ORQ        AX, R9 \
	ORQ        BX, R10

	PART(0, 0)
	PART(16, 16)
	PART(32, 32)
	PART(48, 48)

	MOVQ R9, 0(DI)
	MOVQ R10, 8(DI)
	ADDQ $64, SI
	ADDQ $16, DI
	DECQ CX
	JMP  sseloop

ssedone:
	RET

// func maskBlocksAVX2(dst *blockMask, src []byte)
TEXT ·maskBlocksAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src_base+8(FP), SI
	MOVQ src_len+16(FP), CX
	SHRQ $6, CX
	MOVQ $0x2222222222222222, AX
	MOVQ AX, X10
	VPBROADCASTQ X10, Y10
	MOVQ $0x5c5c5c5c5c5c5c5c, AX
	MOVQ AX, X11
	VPBROADCASTQ X11, Y11
	MOVQ $0x1f1f1f1f1f1f1f1f, AX
	MOVQ AX, X12
	VPBROADCASTQ X12, Y12

avxloop:
	TESTQ CX, CX
	JZ    avxdone
	VMOVDQU   0(SI), Y0
	VMOVDQU   32(SI), Y1
	VPCMPEQB  Y10, Y0, Y2
	VPCMPEQB  Y11, Y0, Y3
	VPMINUB   Y12, Y0, Y4
	VPCMPEQB  Y4, Y0, Y4
	VPOR      Y2, Y3, Y2
	VPOR      Y4, Y2, Y2
	VPOR      Y0, Y2, Y2
	VPMOVMSKB Y2, AX
	VPMOVMSKB Y0, BX
	VPCMPEQB  Y10, Y1, Y5
	VPCMPEQB  Y11, Y1, Y6
	VPMINUB   Y12, Y1, Y7
	VPCMPEQB  Y7, Y1, Y7
	VPOR      Y5, Y6, Y5
	VPOR      Y7, Y5, Y5
	VPOR      Y1, Y5, Y5
	VPMOVMSKB Y5, DX
	VPMOVMSKB Y1, R8
	SHLQ      $32, DX
	ORQ       DX, AX
	SHLQ      $32, R8
	ORQ       R8, BX
	MOVQ      AX, 0(DI)
	MOVQ      BX, 8(DI)
	ADDQ      $64, SI
	ADDQ      $16, DI
	DECQ      CX
	JMP       avxloop

avxdone:
	VZEROUPPER
	RET

// func cpuAVX2() bool
TEXT ·cpuAVX2(SB), NOSPLIT, $0-1
	MOVB $0, ret+0(FP)
	// CPUID leaf 0: the highest leaf, which must reach 7.
	XORL AX, AX
	XORL CX, CX
	CPUID
	CMPL AX, $7
	JB   no
	// CPUID leaf 1: ECX bit 27 OSXSAVE, bit 28 AVX.
	MOVL $1, AX
	XORL CX, CX
	CPUID
	MOVL CX, R8
	ANDL $0x18000000, R8
	CMPL R8, $0x18000000
	JNE  no
	// XCR0: the OS saves XMM (bit 1) and YMM (bit 2) state.
	XORL CX, CX
	XGETBV
	ANDL $6, AX
	CMPL AX, $6
	JNE  no
	// CPUID leaf 7, subleaf 0: EBX bit 5 AVX2.
	MOVL $7, AX
	XORL CX, CX
	CPUID
	BTL  $5, BX
	JCC  no
	MOVB $1, ret+0(FP)
no:
	RET
