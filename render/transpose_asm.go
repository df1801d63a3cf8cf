//go:build (amd64 || arm64) && !purego

package render

import "unsafe"

// transposeTile is a tileKernel of 4x4 blocks in vector registers (SSE2 on
// amd64, NEON on arm64).
//
//go:noescape
func transposeTile(dst unsafe.Pointer, dstStride, dstNext int, src unsafe.Pointer, srcStride, srcNext, strips, n int)
