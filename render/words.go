package render

import (
	"math/bits"
	"unsafe"
)

// This file is CopyOut's fast path. The shadow is viewed as a []uint32 of
// native-endian pixels instead of going through encoding/binary byte by
// byte: with 32-bit indexing the compiler drops most bounds checks and
// merges neighbouring loads into 64-bit ones, and the transpose kernel
// uses raw offsets because no bounds check can be hoisted out of a strided
// walk. The unsafe parts are confined to this file and each one runs only
// after the extent it touches has been checked against the slice lengths.
//
// The path needs a little-endian machine (the pixel formats are defined as
// little-endian words; amd64, arm64 and arm are) and a shadow whose rows
// start on 4-byte boundaries (any Go allocation, mmap'd memory, and every
// stride a client can sensibly choose). Anything else takes the byte path
// in copyout_bytes.go.

// rowChunk is how many pixels of a row are reversed or converted into system
// memory before being copied out: 8 KiB stays in the L1 cache, and copy()
// into scanout memory still gets long sequential runs.
const rowChunk = 2048

// wordsOf views the 4-byte aligned b as native-endian uint32s; it returns
// nil when b is not 4-byte aligned, so callers must check.
func wordsOf(b []byte) []uint32 {
	if len(b) < 4 || uintptr(unsafe.Pointer(unsafe.SliceData(b)))%4 != 0 {
		return nil
	}
	return unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/4)
}

// bytesOf views w as bytes, to hand a system-memory row to copy(). Any
// address is aligned for bytes, so this cannot fail.
func bytesOf(w []uint32) []byte {
	if len(w) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(w))), len(w)*4)
}

// bytesOf64 is bytesOf for the conversion buffer.
func bytesOf64(w []uint64) []byte {
	if len(w) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(w))), len(w)*8)
}

// shadowWords returns src's pixels as words when the fast path applies.
func shadowWords(src *Image) []uint32 {
	if !littleEndian || src.Stride%4 != 0 {
		return nil
	}
	return wordsOf(src.Pix)
}

// emitWords writes the XRGB8888 pixels s to d as len(s) pixels of format
// f, in increasing addresses, never reading d. XRGB8888 rows go out with
// one copy(); the others are converted a chunk at a time into out, in
// system memory, and copied, so scanout memory only ever sees memmove's
// long sequential stores. out must hold (rowChunk+1)/2 words.
func emitWords(d []byte, s []uint32, f Format, out []uint64) {
	if f == XRGB8888 {
		copy(d, bytesOf(s))
		return
	}
	bpp := f.BytesPerPixel()
	for len(s) > 0 {
		n := min(len(s), rowChunk)
		o := out[:(n+1)/2]
		switch f {
		case ARGB8888:
			convertWordsARGB(o, s[:n])
		case XBGR8888, ABGR8888:
			convertWordsXBGR(o, s[:n])
		case RGB565:
			o = out[:(n+3)/4]
			convertWords565(o, s[:n])
		}
		copy(d[:n*bpp], bytesOf64(o))
		d, s = d[n*bpp:], s[n:]
	}
}

// The row kernels below take slices whose lengths they check on entry
// and then walk them with raw offsets: with indexing, the bounds checks
// sit between neighbouring loads and stop the compiler from merging two
// 4-byte loads or stores into one 8-byte access, which is half the speed.

// convertWordsARGB stores s with alpha forced to 0xff into d, two pixels
// per word; an odd last pixel fills the low half of the last word.
func convertWordsARGB(d []uint64, s []uint32) {
	n := len(s)
	if len(d) < (n+1)/2 {
		panic("render: convertWordsARGB: short buffer")
	}
	dp, sp := ptr64(d), ptr32(s)
	i := 0
	for ; i+2 <= n; i += 2 {
		store64(dp, i*4, load64(sp, i*4)|0xff000000ff000000)
	}
	if i < n {
		store32(dp, i*4, s[i]|0xff000000)
	}
}

// convertWordsXBGR swaps red and blue and forces alpha to 0xff (right for
// XBGR8888 and, the shadow being opaque, for ABGR8888). Reversing the
// eight bytes of a pixel pair and rotating by three bytes puts R, G and B
// of both pixels in XBGR order in three instructions; the bytes left in
// the X positions belong to the other pixel and are overwritten.
func convertWordsXBGR(d []uint64, s []uint32) {
	n := len(s)
	if len(d) < (n+1)/2 {
		panic("render: convertWordsXBGR: short buffer")
	}
	dp, sp := ptr64(d), ptr32(s)
	i := 0
	for ; i+2 <= n; i += 2 {
		v := bits.RotateLeft64(bits.ReverseBytes64(load64(sp, i*4)), 24)
		store64(dp, i*4, v|0xff000000ff000000)
	}
	if i < n {
		store32(dp, i*4, swapRB(s[i])|0xff000000)
	}
}

// convertWords565 packs the pixels of s into d, two bytes each. The
// shifts and masks work on a pixel pair at once (pack565x2), four pixels
// make one 8-byte store.
func convertWords565(d []uint64, s []uint32) {
	n := len(s)
	if len(d) < (n+3)/4 {
		panic("render: convertWords565: short buffer")
	}
	dp, sp := ptr64(d), ptr32(s)
	i := 0
	for ; i+4 <= n; i += 4 {
		a := pack565x2(load64(sp, i*4))
		b := pack565x2(load64(sp, i*4+8))
		store64(dp, i*2, uint64(a)|uint64(b)<<32)
	}
	for ; i < n; i++ {
		*(*uint16)(unsafe.Add(dp, i*2)) = pack565(s[i])
	}
}

// pack565x2 is pack565 on both halves of v: each lane's 16-bit result
// lands in its low half, and t | t>>16 brings the two together.
func pack565x2(v uint64) uint32 {
	t := v>>8&0x0000f8000000f800 | v>>5&0x000007e0000007e0 | v>>3&0x0000001f0000001f
	return uint32(t) | uint32(t>>16)
}

// reverseWords stores s into d last pixel first; d must be as long as s.
// Pixels move in pairs: one 8-byte load, a swap of the halves, one 8-byte
// store.
func reverseWords(d, s []uint32) {
	n := len(s)
	if len(d) < n {
		panic("render: reverseWords: short buffer")
	}
	dp, sp := ptr32(d), ptr32(s)
	i := 0
	for ; i+4 <= n; i += 4 {
		a := load64(sp, (n-2-i)*4)
		b := load64(sp, (n-4-i)*4)
		store64(dp, i*4, bits.RotateLeft64(a, 32))
		store64(dp, i*4+8, bits.RotateLeft64(b, 32))
	}
	for ; i < n; i++ {
		d[i] = s[n-1-i]
	}
}

// wordBand is how many destination rows a 90° or 270° copy transposes at
// once on the word path, and tileX how many source rows it finishes before
// moving on: a 64-row by 16-column tile of the source is 64 cache lines and
// the band's 16 matching 256-byte pieces are another 64, which stay in the
// L1 cache while the kernel walks them. 8- to 64-row bands with 16- to
// 64-row tiles measured within 10% of each other here; 128-row tiles were
// 20% slower.
const (
	wordBand = 16
	tileX    = 64
)

// gatherWords fills n rows of w pixels in b (tightly packed): row k, pixel
// x is s[off + x*sx + k*sy], where sy is ±1 (band rows are neighbouring
// source columns) and sx is ± the source stride in pixels. It panics if
// that extent is not inside s or b is short: CopyOut clips before calling,
// so that would be a bug here, and the unsafe kernel must never see it.
func gatherWords(b, s []uint32, off, sx, sy, w, n int) {
	if w <= 0 || n <= 0 {
		return
	}
	// The offset is affine in x and k, so its extremes are at corners.
	lo, hi := off, off
	for _, o := range [...]int{off + (w-1)*sx, off + (n-1)*sy, off + (w-1)*sx + (n-1)*sy} {
		lo, hi = min(lo, o), max(hi, o)
	}
	if lo < 0 || hi >= len(s) || len(b) < n*w || (sy != 1 && sy != -1) {
		panic("render: gatherWords: extent outside the image")
	}
	b = b[:n*w]
	// A tile of tileX source rows at a time, all band rows for each, so
	// a source cache line is used by every band row that needs it before
	// it is evicted.
	for x0 := 0; x0 < w; x0 += tileX {
		x1 := min(x0+tileX, w)
		for k := 0; k+2 <= n; k += 2 {
			// Band rows k and k+1 are two neighbouring source columns:
			// one 64-bit load per source row serves both. With sy = -1
			// the column for row k+1 is the lower address.
			so, ra, rb := off+k*sy, k*w, (k+1)*w
			if sy < 0 {
				so, ra, rb = so-1, rb, ra
			}
			transposePairs(b, s, ra+x0, rb+x0, so+x0*sx, sx, x1-x0)
		}
	}
	if k := n - 1; n%2 != 0 {
		// An odd band: the last row alone, with ordinary indexing.
		o := off + k*sy
		row := b[k*w : (k+1)*w]
		for x := range row {
			row[x] = s[o+x*sx]
		}
	}
}

// transposePairs stores, for x in [0, cnt), the low half of the pixel pair
// at s[so+x*sx] into b[ra+x] and the high half into b[rb+x]. gatherWords
// has checked every offset it can form (so+x*sx and so+x*sx+1 are source
// pixels of the rectangle, ra+x and rb+x are inside b), so the kernel uses
// raw offsets: bounds checks on a strided walk cannot be hoisted and cost
// about as much as the work. Four source rows per iteration give the CPU
// independent loads to overlap.
func transposePairs(b, s []uint32, ra, rb, so, sx, cnt int) {
	bp, sp := ptr32(b), ptr32(s)
	// Few live values, so the loop runs from registers: band row b is
	// addressed relative to row a.
	pa, ab := ra*4, (rb-ra)*4
	o, sxb := so*4, sx*4
	for ; cnt >= 4; cnt -= 4 {
		v0 := load64(sp, o)
		v1 := load64(sp, o+sxb)
		o += 2 * sxb
		store64(bp, pa, uint64(uint32(v0))|v1<<32)
		store64(bp, pa+ab, v0>>32|v1>>32<<32)
		v2 := load64(sp, o)
		v3 := load64(sp, o+sxb)
		o += 2 * sxb
		store64(bp, pa+8, uint64(uint32(v2))|v3<<32)
		store64(bp, pa+ab+8, v2>>32|v3>>32<<32)
		pa += 16
	}
	for ; cnt > 0; cnt-- {
		v := load64(sp, o)
		store32(bp, pa, uint32(v))
		store32(bp, pa+ab, uint32(v>>32))
		o += sxb
		pa += 4
	}
}

// load64 reads the two pixels at byte offset o of p, the first in the low
// half. Two 4-byte loads, so only 4-byte alignment is needed; the compiler
// merges them where unaligned 8-byte loads are allowed.
func load64(p unsafe.Pointer, o int) uint64 {
	return uint64(*(*uint32)(unsafe.Add(p, o))) | uint64(*(*uint32)(unsafe.Add(p, o+4)))<<32
}

func store32(p unsafe.Pointer, o int, v uint32) {
	*(*uint32)(unsafe.Add(p, o)) = v
}

// store64 writes v at byte offset o of p, low half first. Two 4-byte
// stores, merged like load64's loads.
func store64(p unsafe.Pointer, o int, v uint64) {
	*(*uint32)(unsafe.Add(p, o)) = uint32(v)
	*(*uint32)(unsafe.Add(p, o+4)) = uint32(v >> 32)
}

func ptr32(s []uint32) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(s)) }
func ptr64(s []uint64) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(s)) }
