//go:build !(386 || amd64 || arm || arm64 || loong64 || mips64le || mipsle || ppc64le || riscv64 || wasm)

package render

// littleEndian is false on big-endian (and unknown) machines: CopyOut uses
// its byte path there, which spells out the byte order.
const littleEndian = false
