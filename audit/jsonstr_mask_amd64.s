#include "textflag.h"

// func maskBlocks(dst *blockMask, src []byte)
//
// For each 64-byte block of src: any = the bytes that are '"', '\\',
// below 0x20 or at least 0x80; hi = those at least 0x80 (bit j for byte j).
TEXT ·maskBlocks(SB), NOSPLIT, $0-32
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

loop:
	TESTQ CX, CX
	JZ    done
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
	JMP  loop

done:
	RET
