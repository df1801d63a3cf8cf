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

// emit writes the XRGB8888 pixels s to d as len(s) pixels of format f, in
// increasing addresses, never reading d. XRGB8888 rows go out with copy().
// Conversions store straight into d when it is 4-byte aligned, as
// scanout rows are: a pass through a system-memory buffer and copy()
// measured 20-25% slower here, and the kernels' stores are 8-byte,
// sequential and never read back, which write-combining memory merges
// into whole lines like memmove's. Unaligned rows are converted a chunk at
// a time into system memory and copied.
func (c *Copier) emit(d []byte, s []uint32, f Format) {
	if f == XRGB8888 {
		copy(d, bytesOf(s))
		return
	}
	conv := convertWordsARGB
	switch f {
	case XBGR8888, ABGR8888:
		conv = convertWordsXBGR
	case RGB565:
		conv = convertWords565
	}
	if aligned4(d) {
		conv(d, s)
		return
	}
	if len(c.out) < rowChunk/2 {
		c.out = make([]uint64, rowChunk/2)
	}
	buf := bytesOf64(c.out)
	bpp := f.BytesPerPixel()
	for len(s) > 0 {
		n := min(len(s), rowChunk)
		conv(buf, s[:n])
		copy(d[:n*bpp], buf[:n*bpp])
		d, s = d[n*bpp:], s[n:]
	}
}

func aligned4(d []byte) bool {
	return uintptr(unsafe.Pointer(unsafe.SliceData(d)))%4 == 0
}

// The row kernels below take slices whose lengths they check on entry
// and then walk them with raw offsets: with indexing, the bounds checks
// sit between neighbouring loads and stop the compiler from merging two
// 4-byte loads or stores into one 8-byte access, which is half the speed.

// checkedDst returns the address of d after checking that it holds n bytes
// and is 4-byte aligned, which is what the converters' stores need.
func checkedDst(d []byte, n int) unsafe.Pointer {
	p := unsafe.Pointer(unsafe.SliceData(d))
	if len(d) < n || uintptr(p)%4 != 0 {
		panic("render: conversion into a short or unaligned row")
	}
	return p
}

// convertWordsARGB stores s into d as ARGB8888 with alpha forced to 0xff.
func convertWordsARGB(d []byte, s []uint32) {
	n := len(s)
	dp, sp := checkedDst(d, n*4), ptr32(s)
	const opaque = 0xff000000ff000000
	o := 0
	for end := n &^ 3 * 4; o < end; o += 16 {
		a := load64(sp, o)
		b := load64(sp, o+8)
		store64(dp, o, a|opaque)
		store64(dp, o+8, b|opaque)
	}
	for i := n &^ 3; i < n; i++ {
		store32(dp, i*4, s[i]|0xff000000)
	}
}

// convertWordsXBGR swaps red and blue and forces alpha to 0xff (right for
// XBGR8888 and, the shadow being opaque, for ABGR8888). Reversing the
// eight bytes of a pixel pair and rotating by three bytes puts R, G and B
// of both pixels in XBGR order in three instructions; the bytes left in
// the X positions belong to the other pixel and are overwritten.
func convertWordsXBGR(d []byte, s []uint32) {
	n := len(s)
	dp, sp := checkedDst(d, n*4), ptr32(s)
	const opaque = 0xff000000ff000000
	o := 0
	for end := n &^ 3 * 4; o < end; o += 16 {
		a := load64(sp, o)
		b := load64(sp, o+8)
		store64(dp, o, bits.RotateLeft64(bits.ReverseBytes64(a), 24)|opaque)
		store64(dp, o+8, bits.RotateLeft64(bits.ReverseBytes64(b), 24)|opaque)
	}
	for i := n &^ 3; i < n; i++ {
		store32(dp, i*4, swapRB(s[i])|0xff000000)
	}
}

// convertWords565 packs the pixels of s into d, two bytes each. The
// shifts and masks work on a pixel pair at once (pack565x2), four pixels
// make one 8-byte store.
func convertWords565(d []byte, s []uint32) {
	n := len(s)
	dp, sp := checkedDst(d, n*2), ptr32(s)
	o := 0
	for end := n &^ 3 * 4; o < end; o += 16 {
		a := pack565x2(load64(sp, o))
		b := pack565x2(load64(sp, o+8))
		store64(dp, o>>1, uint64(a)|uint64(b)<<32)
	}
	for i := n &^ 3; i < n; i++ {
		*(*uint16)(unsafe.Add(dp, i*2)) = pack565(s[i])
	}
}

// pack565x2 is pack565 on both halves of v, returned as two 16-bit values.
// Red and blue need different shifts; masking them out and multiplying by
// 33 (x + x<<5) lines both up for one shift right by 8, since the partial
// products land on bits that the final mask clears and never overlap, so
// nothing carries. Each lane's 16-bit result is in its low half, and
// t | t>>16 brings the two together.
func pack565x2(v uint64) uint32 {
	rb := (v & 0x00f800f800f800f8) * 33 >> 8 & 0x0000f81f0000f81f
	t := rb | v>>5&0x000007e0000007e0
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
	// Byte offsets: o walks the source down from its end, p the
	// destination up; eight pixels per round.
	o, p := n*4, 0
	for end := n &^ 7 * 4; p < end; {
		a := load64(sp, o-8)
		b := load64(sp, o-16)
		c := load64(sp, o-24)
		e := load64(sp, o-32)
		store64(dp, p, bits.RotateLeft64(a, 32))
		store64(dp, p+8, bits.RotateLeft64(b, 32))
		store64(dp, p+16, bits.RotateLeft64(c, 32))
		store64(dp, p+24, bits.RotateLeft64(e, 32))
		o -= 32
		p += 32
	}
	for i := n &^ 7; i < n; i++ {
		d[i] = s[n-1-i]
	}
}

// wordBand is how many destination rows a 90° or 270° copy transposes at
// once on the word path. The transpose reads each source row's part of the
// band once, in order, and spreads it over the band rows, so the source's
// stride never decides which cache sets are hot; the band rows are padded
// (bandStride) so their own lines do not collide either. 64 rows measured
// best here: 16- and 32-row bands were up to 3x slower at some sizes
// (1920x1080 among them), 128 no better; a 64-row band also makes each
// source read a 256-byte run.
const wordBand = 64

// bandStride is the band's row stride in words for w-pixel rows: a whole
// number of cache lines plus one, so the band rows being filled together
// fall into different cache sets even when w is a multiple of 1024 pixels
// (an unpadded 4096-byte stride would put them all in one set).
func bandStride(w int) int {
	return (w+15)&^15 + 16
}

// transposeBand fills n rows of w pixels in b, row k starting at b[k*bs]:
// row k, pixel x is s[off + x*sx + k*sy], where sy is ±1 (band rows are
// neighbouring source columns) and sx is ± the source stride in pixels. It
// panics if that extent is not inside s or b: CopyOut clips before calling,
// so that would be a bug here, and the unsafe kernel must never see it.
func transposeBand(b, s []uint32, off, sx, sy, w, n, bs int) {
	if w <= 0 || n <= 0 {
		return
	}
	if !insideAffine(s, off, sx, sy, w, n) || bs < w || len(b) < (n-1)*bs+w || (sy != 1 && sy != -1) {
		panic("render: transposeBand: extent outside the image")
	}
	// In each source row the band's n pixels are contiguous from first;
	// pixel j lands in band row j, or n-1-j when the columns run right to
	// left. Either way band rows are filled top to bottom: walking them
	// upwards measured 1.5-2x slower.
	first := off
	kernel := transposeQuad
	if sy < 0 {
		first = off - (n - 1)
		kernel = transposeQuadReversed
	}
	bp, bsb := unsafe.Pointer(&b[0]), bs*4
	x := 0
	for ; x+4 <= w; x += 4 {
		kernel(unsafe.Add(bp, x*4), bsb,
			unsafe.Pointer(&s[first+x*sx]), unsafe.Pointer(&s[first+(x+1)*sx]),
			unsafe.Pointer(&s[first+(x+2)*sx]), unsafe.Pointer(&s[first+(x+3)*sx]), n)
	}
	for ; x < w; x++ {
		o := off + x*sx
		for k := 0; k < n; k++ {
			b[k*bs+x] = s[o+k*sy]
		}
	}
}

// transposeQuad moves n pixels from each of four source rows (s0..s3, the
// same n columns) into four neighbouring pixels of n band rows: pixel j of
// row i goes to band row j (at byte offset j*bsb from b), pixel i. A pair
// of columns from two rows is one 8-byte load each and, reshuffled, one
// 8-byte store into each of two band rows. transposeBand has checked that
// every address formed here is inside the band or the rectangle's pixels:
// bounds checks on this walk cannot be hoisted and cost about as much as
// the work.
func transposeQuad(b unsafe.Pointer, bsb int, s0, s1, s2, s3 unsafe.Pointer, n int) {
	// No separate counter: the source offset drives the loop, one register
	// fewer for amd64's register allocator to spill around.
	o, p := 0, 0
	for end := n / 2 * 8; o < end; {
		u := load64(s0, o)
		v := load64(s1, o)
		store64(b, p, uint64(uint32(u))|v<<32)
		store64(b, p+bsb, u>>32|v>>32<<32)
		u = load64(s2, o)
		v = load64(s3, o)
		store64(b, p+8, uint64(uint32(u))|v<<32)
		store64(b, p+bsb+8, u>>32|v>>32<<32)
		o += 8
		p += 2 * bsb
	}
	if n%2 != 0 {
		store32(b, p, *(*uint32)(unsafe.Add(s0, o)))
		store32(b, p+4, *(*uint32)(unsafe.Add(s1, o)))
		store32(b, p+8, *(*uint32)(unsafe.Add(s2, o)))
		store32(b, p+12, *(*uint32)(unsafe.Add(s3, o)))
	}
}

// transposeQuadReversed is transposeQuad with pixel j of each source row
// going to band row n-1-j: it walks the source columns downwards so that
// the band rows are still filled in increasing order.
func transposeQuadReversed(b unsafe.Pointer, bsb int, s0, s1, s2, s3 unsafe.Pointer, n int) {
	o, p := (n-2)*4, 0 // the pair of columns n-2, n-1: band rows 1, 0
	for end := n % 2 * 4; o >= end; {
		u := load64(s0, o)
		v := load64(s1, o)
		store64(b, p, u>>32|v>>32<<32)
		store64(b, p+bsb, uint64(uint32(u))|v<<32)
		u = load64(s2, o)
		v = load64(s3, o)
		store64(b, p+8, u>>32|v>>32<<32)
		store64(b, p+bsb+8, uint64(uint32(u))|v<<32)
		o -= 8
		p += 2 * bsb
	}
	if n%2 != 0 {
		// n is odd: column 0 is left, the high half of the pair that
		// would start at column -1.
		store32(b, p, *(*uint32)(s0))
		store32(b, p+4, *(*uint32)(s1))
		store32(b, p+8, *(*uint32)(s2))
		store32(b, p+12, *(*uint32)(s3))
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

// insideAffine reports whether s[off + x*sx + k*sy] exists for every x in
// [0, w) and k in [0, n). The offset is affine in x and k, so its extremes
// are at the corners.
func insideAffine(s []uint32, off, sx, sy, w, n int) bool {
	lo, hi := off, off
	for _, o := range [...]int{off + (w-1)*sx, off + (n-1)*sy, off + (w-1)*sx + (n-1)*sy} {
		lo, hi = min(lo, o), max(hi, o)
	}
	return lo >= 0 && hi < len(s)
}
