//go:build (!amd64 && !arm64) || purego

package render

// platformYUVRow is the portable kernel where there are no vector ones.
var platformYUVRow yuvRowKernel = yuvRowGo

// yuvKernels is empty: there are no vector kernels to compare.
var yuvKernels []yuvRowKernel

const yuvVectorBuild = false
