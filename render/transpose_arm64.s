//go:build !purego

#include "textflag.h"

// func transposeTile(dst unsafe.Pointer, dstStride, dstNext int, src unsafe.Pointer, srcStride, srcNext, strips, n int)
//
// The NEON twin of transpose_amd64.s: per round four 16-byte loads from
// four source rows, a 4x4 transpose of 32-bit pixels (TRN1/TRN2 on words,
// then on doublewords), four 16-byte stores into four destination rows.
TEXT ·transposeTile(SB), NOSPLIT, $0-64
	MOVD dst+0(FP), R0
	MOVD dstStride+8(FP), R1
	MOVD dstNext+16(FP), R11
	MOVD src+24(FP), R2
	MOVD srcStride+32(FP), R3
	MOVD srcNext+40(FP), R12
	MOVD strips+48(FP), R13
	MOVD n+56(FP), R4
	CMP $0, R4
	BLE done
	CMP $0, R13
	BLE done

strip:
	MOVD R0, R14
	MOVD R2, R15
	MOVD R4, R16

round:
	ADD R3, R15, R5
	ADD R3, R5, R6
	ADD R3, R6, R7
	VLD1 (R15), [V0.S4] // a0 a1 a2 a3
	VLD1 (R5), [V1.S4]  // b
	VLD1 (R6), [V2.S4]  // c
	VLD1 (R7), [V3.S4]  // d
	VTRN1 V1.S4, V0.S4, V4.S4 // a0 b0 a2 b2
	VTRN2 V1.S4, V0.S4, V5.S4 // a1 b1 a3 b3
	VTRN1 V3.S4, V2.S4, V6.S4 // c0 d0 c2 d2
	VTRN2 V3.S4, V2.S4, V7.S4 // c1 d1 c3 d3
	VTRN1 V6.D2, V4.D2, V0.D2 // a0 b0 c0 d0
	VTRN1 V7.D2, V5.D2, V1.D2 // a1 b1 c1 d1
	VTRN2 V6.D2, V4.D2, V2.D2 // a2 b2 c2 d2
	VTRN2 V7.D2, V5.D2, V3.D2 // a3 b3 c3 d3
	ADD R1, R14, R8
	ADD R1, R8, R9
	ADD R1, R9, R10
	VST1 [V0.S4], (R14)
	VST1 [V1.S4], (R8)
	VST1 [V2.S4], (R9)
	VST1 [V3.S4], (R10)
	ADD R3<<2, R15, R15
	ADD $16, R14, R14
	SUBS $1, R16, R16
	BNE round

	ADD R11, R0, R0
	ADD R12, R2, R2
	SUBS $1, R13, R13
	BNE strip

done:
	RET
