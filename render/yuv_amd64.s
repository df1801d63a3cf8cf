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

// func yuvRow16AVX2(d, y, c unsafe.Pointer, n int, v *yuvConsts)
//
// The same arithmetic as yuvRow8, sixteen pixels a round in AVX2
// registers. Widening with VPMOVZXBW keeps pixels in order across the
// two 128-bit lanes; the unpacks and packs then work within lanes, so
// lane 0 holds pixels 0-3 and 4-7 and lane 1 pixels 8-11 and 12-15 of
// each half, and VPERM2I128 puts the four quarters back in order for the
// stores. n is a multiple of 16.
TEXT ·yuvRow16AVX2(SB), NOSPLIT, $0-40
	MOVQ d+0(FP), DI
	MOVQ y+8(FP), SI
	MOVQ c+16(FP), DX
	MOVQ n+24(FP), CX
	MOVQ v+32(FP), AX
	SHRQ $4, CX
	JZ done16
	VBROADCASTI128 64(AX), Y14 // yoff
	VBROADCASTI128 80(AX), Y13 // 128
	VBROADCASTI128 96(AX), Y12 // 1
	VBROADCASTI128 0(AX), Y11  // cy, round
	VBROADCASTI128 16(AX), Y10 // ra, rb
	VBROADCASTI128 32(AX), Y9  // ga, gb
	VBROADCASTI128 48(AX), Y8  // ba, bb
	VPCMPEQB Y15, Y15, Y15     // 0xff bytes

loop16:
	VPMOVZXBW (SI), Y0
	VPSUBW Y14, Y0, Y0
	VPMOVZXBW (DX), Y1
	VPSUBW Y13, Y1, Y1

	VPUNPCKLWD Y12, Y0, Y2
	VPMADDWD Y11, Y2, Y2 // luma, pixels 0-3 | 8-11
	VPUNPCKHWD Y12, Y0, Y3
	VPMADDWD Y11, Y3, Y3 // pixels 4-7 | 12-15

	VPMADDWD Y10, Y1, Y4 // R chroma terms, pairs 0-3 | 4-7
	VPMADDWD Y9, Y1, Y5  // G
	VPMADDWD Y8, Y1, Y6  // B

	VPUNPCKLDQ Y4, Y4, Y0
	VPUNPCKHDQ Y4, Y4, Y4
	VPADDD Y2, Y0, Y0
	VPADDD Y3, Y4, Y4
	VPSRAD $13, Y0, Y0
	VPSRAD $13, Y4, Y4
	VPACKSSDW Y4, Y0, Y0 // R

	VPUNPCKLDQ Y5, Y5, Y1
	VPUNPCKHDQ Y5, Y5, Y5
	VPADDD Y2, Y1, Y1
	VPADDD Y3, Y5, Y5
	VPSRAD $13, Y1, Y1
	VPSRAD $13, Y5, Y5
	VPACKSSDW Y5, Y1, Y1 // G

	VPUNPCKLDQ Y6, Y6, Y7
	VPUNPCKHDQ Y6, Y6, Y6
	VPADDD Y2, Y7, Y7
	VPADDD Y3, Y6, Y6
	VPSRAD $13, Y7, Y7
	VPSRAD $13, Y6, Y6
	VPACKSSDW Y6, Y7, Y7 // B

	VPACKUSWB Y7, Y7, Y7
	VPACKUSWB Y1, Y1, Y1
	VPUNPCKLBW Y1, Y7, Y7 // B G pairs
	VPACKUSWB Y0, Y0, Y0
	VPUNPCKLBW Y15, Y0, Y0 // R X pairs
	VPUNPCKLWD Y0, Y7, Y2  // pixels 0-3 | 8-11
	VPUNPCKHWD Y0, Y7, Y3  // pixels 4-7 | 12-15
	VPERM2I128 $0x20, Y3, Y2, Y4
	VPERM2I128 $0x31, Y3, Y2, Y5
	VMOVDQU Y4, (DI)
	VMOVDQU Y5, 32(DI)

	ADDQ $16, SI
	ADDQ $16, DX
	ADDQ $64, DI
	DECQ CX
	JNZ loop16
	VZEROUPPER

done16:
	RET
