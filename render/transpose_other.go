//go:build (!amd64 && !arm64) || purego

package render

// platformKernels is empty without vector registers: the band transpose
// (words.go) is faster than the scalar kernels there, so 90° and 270°
// copies take it.
var platformKernels []tileKernel
