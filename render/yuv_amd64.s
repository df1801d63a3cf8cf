//go:build !purego

#include "textflag.h"

// func yuvRow8(d, y, c unsafe.Pointer, n int, v *yuvConsts)
//
// Eight pixels a round in SSE2: luma and chroma widened to int16 and
// offset, then PMADDWD does the fixed-point products in int32 (luma
// paired with 1 so the same multiply adds the rounding term; each
// channel's two chroma terms in one multiply), one chroma result is
// duplicated for the two pixels that share it, shifted, and packed with
// saturation (int32 → int16 → uint8, the clamp to 0-255) into B, G, R, X
// bytes.
//
// yuvConsts offsets: yPair 0, rPair 16, gPair 32, bPair 48, yoff 64,
// c128 80, ones 96.
TEXT ·yuvRow8(SB), NOSPLIT, $0-40
	MOVQ d+0(FP), DI
	MOVQ y+8(FP), SI
	MOVQ c+16(FP), DX
	MOVQ n+24(FP), CX
	MOVQ v+32(FP), AX
	SHRQ $3, CX
	JZ done
	PXOR X15, X15
	MOVOU 64(AX), X14 // yoff
	MOVOU 80(AX), X13 // 128
	MOVOU 96(AX), X12 // 1
	MOVOU 0(AX), X11  // cy, round
	MOVOU 16(AX), X10 // ra, rb
	MOVOU 32(AX), X9  // ga, gb
	MOVOU 48(AX), X8  // ba, bb

loop:
	MOVQ (SI), X0
	PUNPCKLBW X15, X0 // Y0..Y7 as int16
	PSUBW X14, X0
	MOVQ (DX), X1
	PUNPCKLBW X15, X1 // a0 b0 a1 b1 a2 b2 a3 b3
	PSUBW X13, X1

	MOVO X0, X2
	PUNPCKLWL X12, X2 // Y0 1 Y1 1 Y2 1 Y3 1
	PMADDWL X11, X2   // luma terms of pixels 0-3
	PUNPCKHWL X12, X0
	PMADDWL X11, X0   // pixels 4-7
	MOVO X0, X3

	MOVO X1, X4
	PMADDWL X10, X4 // R chroma terms of the 4 pairs
	MOVO X1, X5
	PMADDWL X9, X5  // G
	MOVO X1, X6
	PMADDWL X8, X6  // B

	MOVO X4, X0
	PUNPCKLLQ X4, X0 // c0 c0 c1 c1
	PUNPCKHLQ X4, X4 // c2 c2 c3 c3
	PADDL X2, X0
	PADDL X3, X4
	PSRAL $13, X0
	PSRAL $13, X4
	PACKSSLW X4, X0  // R0..R7

	MOVO X5, X1
	PUNPCKLLQ X5, X1
	PUNPCKHLQ X5, X5
	PADDL X2, X1
	PADDL X3, X5
	PSRAL $13, X1
	PSRAL $13, X5
	PACKSSLW X5, X1  // G0..G7

	MOVO X6, X7
	PUNPCKLLQ X6, X7
	PUNPCKHLQ X6, X6
	PADDL X2, X7
	PADDL X3, X6
	PSRAL $13, X7
	PSRAL $13, X6
	PACKSSLW X6, X7  // B0..B7

	PACKUSWB X7, X7
	PACKUSWB X1, X1
	PUNPCKLBW X1, X7 // B0 G0 B1 G1 ...
	PACKUSWB X0, X0
	PCMPEQB X6, X6   // 0xff bytes
	PUNPCKLBW X6, X0 // R0 ff R1 ff ...
	MOVO X7, X2
	PUNPCKLWL X0, X7 // pixels 0-3
	PUNPCKHWL X0, X2 // pixels 4-7
	MOVOU X7, (DI)
	MOVOU X2, 16(DI)

	ADDQ $8, SI
	ADDQ $8, DX
	ADDQ $32, DI
	DECQ CX
	JNZ loop

done:
	RET
