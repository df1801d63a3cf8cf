//go:build !purego

package render

// yuvKernels are the NEON row kernel, which every arm64 CPU has.
var yuvKernels = []yuvRowKernel{yuvRowVector}
