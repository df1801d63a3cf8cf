//go:build (!amd64 && !arm64) || purego

package render

// platformYUVRow is the portable kernel where there are no vector ones.
var platformYUVRow yuvRowKernel = yuvRowGo

const yuvVectorBuild = false
