//go:build !purego

package render

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// transposeTile8 is a tileKernel of 8x8 blocks in AVX2 registers.
//
//go:noescape
func transposeTile8(dst unsafe.Pointer, dstStride, dstNext int, src unsafe.Pointer, srcStride, srcNext, strips, n int)

// platformKernels are the tile kernels for 90° and 270° copies into
// XRGB8888, widest first. It is set once from the CPU's features.
var platformKernels = amd64Kernels(cpu.X86.HasAVX2)

func amd64Kernels(avx2 bool) []tileKernel {
	sse2 := tileKernel{4, 4, transposeTile}
	if avx2 {
		return []tileKernel{{8, 8, transposeTile8}, sse2}
	}
	return []tileKernel{sse2}
}
