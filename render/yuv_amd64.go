//go:build !purego

package render

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// yuvRow16AVX2 is yuvRow8 sixteen pixels at a time; n is a multiple of
// 16.
//
//go:noescape
func yuvRow16AVX2(d, y, c unsafe.Pointer, n int, v *yuvConsts)

// yuvRowAVX2 takes blocks of 16 pixels in AVX2, then 8 in SSE2, then
// the rest with yuvRowGo.
func yuvRowAVX2(d, y, c []byte, n int, k *yuvCoef, v *yuvConsts) {
	d, y, c = d[:4*n], y[:n], c[:n]
	if m := n &^ 15; m > 0 {
		yuvRow16AVX2(unsafe.Pointer(&d[0]), unsafe.Pointer(&y[0]), unsafe.Pointer(&c[0]), m, v)
		d, y, c, n = d[4*m:], y[m:], c[m:], n-m
	}
	if n > 0 {
		yuvRowVector(d, y, c, n, k, v)
	}
}

// yuvKernels are this CPU's vector row kernels, fastest first; set once
// from the CPU's features.
var yuvKernels = amd64YUVKernels(cpu.X86.HasAVX2)

func amd64YUVKernels(avx2 bool) []yuvRowKernel {
	if avx2 {
		return []yuvRowKernel{yuvRowAVX2, yuvRowVector}
	}
	return []yuvRowKernel{yuvRowVector}
}
