//go:build !purego

package render

// platformKernels are the tile kernels for 90° and 270° copies into
// XRGB8888: NEON, which every arm64 CPU has.
var platformKernels = []tileKernel{{4, 4, transposeTile}}
