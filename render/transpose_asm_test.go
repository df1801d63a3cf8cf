//go:build (amd64 || arm64) && !purego

package render

// vectorBuild tells TestPlatformKernels whether vector kernels are expected.
const vectorBuild = true
