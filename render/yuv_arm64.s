//go:build !purego

#include "textflag.h"

// func yuvRow8(d, y, c unsafe.Pointer, n int, v *yuvConsts)
//
// The NEON twin of yuv_amd64.s: eight pixels a round, luma and chroma
// widened to int16 and offset, widening multiplies by lanes of the
// coefficient vector into int32, one chroma result duplicated for its
// two pixels (ZIP), then a saturating narrowing shift to int16 and a
// saturating narrow to uint8 (the clamp to 0-255), stored as B, G, R, X
// with ST4. The Go assembler lacks SMULL, SMLAL, SQSHRN and SQXTUN;
// they are WORDs, each with its instruction beside it.
//
// yuvConsts offsets: yoff 64, c128 80, lanes 112 (cy, yoff, ra, rb, ga,
// gb, ba, bb).
TEXT ·yuvRow8(SB), NOSPLIT, $0-40
	MOVD d+0(FP), R0
	MOVD y+8(FP), R1
	MOVD c+16(FP), R2
	MOVD n+24(FP), R3
	MOVD v+32(FP), R4
	LSR $3, R3, R3
	CBZ R3, done
	ADD $64, R4, R5
	VLD1 (R5), [V14.H8] // yoff
	ADD $80, R4, R5
	VLD1 (R5), [V13.H8] // 128
	ADD $112, R4, R5
	VLD1 (R5), [V15.H8] // lanes
	MOVW $4096, R6
	VDUP R6, V12.S4     // rounding term
	MOVW $255, R6
	VDUP R6, V23.B8     // X byte

loop:
	VLD1 (R1), [V0.B8]
	VLD1 (R2), [V1.B8]
	VUXTL V0.B8, V0.H8
	VSUB V14.H8, V0.H8, V0.H8 // Y - yoff
	VUXTL V1.B8, V1.H8
	VSUB V13.H8, V1.H8, V1.H8 // chroma - 128
	VUZP1 V1.H8, V1.H8, V2.H8 // a0 a1 a2 a3
	VUZP2 V1.H8, V1.H8, V3.H8 // b0 b1 b2 b3

	WORD $0x0f4fa004 // smull  v4.4s, v0.4h, v15.h[0]
	WORD $0x4f4fa005 // smull2 v5.4s, v0.8h, v15.h[0]
	VADD V12.S4, V4.S4, V4.S4
	VADD V12.S4, V5.S4, V5.S4

	WORD $0x0f6fa046 // smull v6.4s, v2.4h, v15.h[2]
	WORD $0x0f7f2066 // smlal v6.4s, v3.4h, v15.h[3]
	WORD $0x0f4fa847 // smull v7.4s, v2.4h, v15.h[4]
	WORD $0x0f5f2867 // smlal v7.4s, v3.4h, v15.h[5]
	WORD $0x0f6fa850 // smull v16.4s, v2.4h, v15.h[6]
	WORD $0x0f7f2870 // smlal v16.4s, v3.4h, v15.h[7]

	VZIP1 V6.S4, V6.S4, V17.S4 // c0 c0 c1 c1
	VZIP2 V6.S4, V6.S4, V18.S4 // c2 c2 c3 c3
	VADD V4.S4, V17.S4, V17.S4
	VADD V5.S4, V18.S4, V18.S4
	WORD $0x0f139633 // sqshrn  v19.4h, v17.4s, #13
	WORD $0x4f139653 // sqshrn2 v19.8h, v18.4s, #13
	WORD $0x2e212a76 // sqxtun  v22.8b, v19.8h  (R)

	VZIP1 V7.S4, V7.S4, V24.S4
	VZIP2 V7.S4, V7.S4, V25.S4
	VADD V4.S4, V24.S4, V24.S4
	VADD V5.S4, V25.S4, V25.S4
	WORD $0x0f139713 // sqshrn  v19.4h, v24.4s, #13
	WORD $0x4f139733 // sqshrn2 v19.8h, v25.4s, #13
	WORD $0x2e212a75 // sqxtun  v21.8b, v19.8h  (G)

	VZIP1 V16.S4, V16.S4, V26.S4
	VZIP2 V16.S4, V16.S4, V27.S4
	VADD V4.S4, V26.S4, V26.S4
	VADD V5.S4, V27.S4, V27.S4
	WORD $0x0f139753 // sqshrn  v19.4h, v26.4s, #13
	WORD $0x4f139773 // sqshrn2 v19.8h, v27.4s, #13
	WORD $0x2e212a74 // sqxtun  v20.8b, v19.8h  (B)

	VST4 [V20.B8, V21.B8, V22.B8, V23.B8], (R0)

	ADD $8, R1, R1
	ADD $8, R2, R2
	ADD $32, R0, R0
	SUBS $1, R3, R3
	BNE loop

done:
	RET
