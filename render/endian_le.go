//go:build 386 || amd64 || arm || arm64 || loong64 || mips64le || mipsle || ppc64le || riscv64 || wasm

package render

// littleEndian enables CopyOut's word path, which reads pixels as native
// uint32s; the formats are defined as little-endian words.
const littleEndian = true
