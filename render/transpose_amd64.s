//go:build !purego

#include "textflag.h"

// func transposeTile(dst unsafe.Pointer, dstStride, dstNext int, src unsafe.Pointer, srcStride, srcNext, strips, n int)
//
// A strip is n rounds; each round loads 16 bytes from four source rows
// (src, src+srcStride, ...), transposes the 4x4 block of 32-bit pixels
// with SSE2 unpacks and stores it as 16 bytes into each of four
// destination rows (dst, dst+dstStride, ...); then the source moves down
// four rows and the destination right four pixels. The next strip starts
// dstNext and srcNext bytes after this one. Strides may be negative.
TEXT ·transposeTile(SB), NOSPLIT, $0-64
	MOVQ dst+0(FP), DI
	MOVQ dstStride+8(FP), DX
	MOVQ src+24(FP), SI
	MOVQ srcStride+32(FP), R8
	MOVQ strips+48(FP), BX
	MOVQ n+56(FP), R12
	TESTQ R12, R12
	JLE done
	TESTQ BX, BX
	JLE done
	LEAQ (R8)(R8*2), R9  // 3 source rows
	LEAQ (DX)(DX*2), R10 // 3 destination rows
	MOVQ R8, R11
	SHLQ $2, R11         // 4 source rows

strip:
	MOVQ DI, R13
	MOVQ SI, R14
	MOVQ R12, CX

round:
	MOVOU (R14), X0       // a0 a1 a2 a3
	MOVOU (R14)(R8*1), X1 // b
	MOVOU (R14)(R8*2), X2 // c
	MOVOU (R14)(R9*1), X3 // d
	MOVO X0, X4
	PUNPCKLLQ X1, X0      // a0 b0 a1 b1
	PUNPCKHLQ X1, X4      // a2 b2 a3 b3
	MOVO X2, X5
	PUNPCKLLQ X3, X2      // c0 d0 c1 d1
	PUNPCKHLQ X3, X5      // c2 d2 c3 d3
	MOVO X0, X1
	PUNPCKLQDQ X2, X0     // a0 b0 c0 d0
	PUNPCKHQDQ X2, X1     // a1 b1 c1 d1
	MOVO X4, X3
	PUNPCKLQDQ X5, X4     // a2 b2 c2 d2
	PUNPCKHQDQ X5, X3     // a3 b3 c3 d3
	MOVOU X0, (R13)
	MOVOU X1, (R13)(DX*1)
	MOVOU X4, (R13)(DX*2)
	MOVOU X3, (R13)(R10*1)
	ADDQ R11, R14
	ADDQ $16, R13
	DECQ CX
	JNZ round

	ADDQ dstNext+16(FP), DI
	ADDQ srcNext+40(FP), SI
	DECQ BX
	JNZ strip

done:
	RET

// func transposeTile8(dst unsafe.Pointer, dstStride, dstNext int, src unsafe.Pointer, srcStride, srcNext, strips, n int)
//
// transposeTile with AVX2 and 8x8 blocks: each round loads 32 bytes from
// eight source rows and stores 32 bytes into eight destination rows.
TEXT ·transposeTile8(SB), NOSPLIT, $0-64
	MOVQ dst+0(FP), DI
	MOVQ dstStride+8(FP), DX
	MOVQ src+24(FP), SI
	MOVQ srcStride+32(FP), R8
	MOVQ strips+48(FP), BX
	MOVQ n+56(FP), R12
	TESTQ R12, R12
	JLE done8
	TESTQ BX, BX
	JLE done8
	LEAQ (R8)(R8*2), R9  // 3 source rows
	LEAQ (DX)(DX*2), R10 // 3 destination rows
	MOVQ R8, R11
	SHLQ $3, R11         // 8 source rows

strip8:
	MOVQ DI, R13
	MOVQ SI, R14
	MOVQ R12, CX

round8:
	LEAQ (R14)(R8*4), R15
	VMOVDQU (R14), Y0        // a
	VMOVDQU (R14)(R8*1), Y1  // b
	VMOVDQU (R14)(R8*2), Y2  // c
	VMOVDQU (R14)(R9*1), Y3  // d
	VMOVDQU (R15), Y4        // e
	VMOVDQU (R15)(R8*1), Y5  // f
	VMOVDQU (R15)(R8*2), Y6  // g
	VMOVDQU (R15)(R9*1), Y7  // h
	VPUNPCKLDQ Y1, Y0, Y8    // a0 b0 a1 b1 | a4 b4 a5 b5
	VPUNPCKHDQ Y1, Y0, Y9    // a2 b2 a3 b3 | a6 b6 a7 b7
	VPUNPCKLDQ Y3, Y2, Y10   // c0 d0 c1 d1 | ...
	VPUNPCKHDQ Y3, Y2, Y11   // c2 d2 c3 d3 | ...
	VPUNPCKLDQ Y5, Y4, Y12   // e f
	VPUNPCKHDQ Y5, Y4, Y13
	VPUNPCKLDQ Y7, Y6, Y14   // g h
	VPUNPCKHDQ Y7, Y6, Y15
	VPUNPCKLQDQ Y10, Y8, Y0  // a0 b0 c0 d0 | a4 b4 c4 d4
	VPUNPCKHQDQ Y10, Y8, Y1  // a1 b1 c1 d1 | a5 ...
	VPUNPCKLQDQ Y11, Y9, Y2  // a2 ... | a6 ...
	VPUNPCKHQDQ Y11, Y9, Y3  // a3 ... | a7 ...
	VPUNPCKLQDQ Y14, Y12, Y4 // e0 f0 g0 h0 | e4 ...
	VPUNPCKHQDQ Y14, Y12, Y5 // e1 ... | e5 ...
	VPUNPCKLQDQ Y15, Y13, Y6 // e2 ... | e6 ...
	VPUNPCKHQDQ Y15, Y13, Y7 // e3 ... | e7 ...
	VPERM2I128 $0x20, Y4, Y0, Y8  // row 0
	VPERM2I128 $0x20, Y5, Y1, Y9  // row 1
	VPERM2I128 $0x20, Y6, Y2, Y10 // row 2
	VPERM2I128 $0x20, Y7, Y3, Y11 // row 3
	VPERM2I128 $0x31, Y4, Y0, Y12 // row 4
	VPERM2I128 $0x31, Y5, Y1, Y13 // row 5
	VPERM2I128 $0x31, Y6, Y2, Y14 // row 6
	VPERM2I128 $0x31, Y7, Y3, Y15 // row 7
	LEAQ (R13)(DX*4), R15
	VMOVDQU Y8, (R13)
	VMOVDQU Y9, (R13)(DX*1)
	VMOVDQU Y10, (R13)(DX*2)
	VMOVDQU Y11, (R13)(R10*1)
	VMOVDQU Y12, (R15)
	VMOVDQU Y13, (R15)(DX*1)
	VMOVDQU Y14, (R15)(DX*2)
	VMOVDQU Y15, (R15)(R10*1)
	ADDQ R11, R14
	ADDQ $32, R13
	DECQ CX
	JNZ round8

	ADDQ dstNext+16(FP), DI
	ADDQ srcNext+40(FP), SI
	DECQ BX
	JNZ strip8
	VZEROUPPER

done8:
	RET
