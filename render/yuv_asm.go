//go:build (amd64 || arm64) && !purego

package render

import "unsafe"

// yuvRow8 converts n pixels, n a multiple of 8, in vector registers (SSE2
// on amd64, NEON on arm64) with the arithmetic of yuvCoef.
//
//go:noescape
func yuvRow8(d, y, c unsafe.Pointer, n int, v *yuvConsts)

// yuvRowVector is the vector row kernel: blocks of 8 pixels in
// registers, the rest with yuvRowGo.
func yuvRowVector(d, y, c []byte, n int, k *yuvCoef, v *yuvConsts) {
	d, y, c = d[:4*n], y[:n], c[:n]
	if m := n &^ 7; m > 0 {
		yuvRow8(unsafe.Pointer(&d[0]), unsafe.Pointer(&y[0]), unsafe.Pointer(&c[0]), m, v)
		d, y, c, n = d[4*m:], y[m:], c[m:], n-m
	}
	if n > 0 {
		yuvRowGo(d, y, c, n, k, v)
	}
}

// platformYUVRow is the fastest row kernel of this CPU.
var platformYUVRow = yuvKernels[0]

const yuvVectorBuild = true
