package render

import (
	"encoding/binary"
	"unsafe"
)

// A tileKernel transposes strips of pixels: a strip is rows destination
// rows, filled cols pixels at a time. Strip i starts at dst+i*dstNext and
// src+i*srcNext; in its round r it reads rows pixels from each of the
// source rows src+(cols*r+j)*srcStride (j < cols) and writes pixel k of
// row j to destination row k (dst+k*dstStride), pixel cols*r+j. Strides
// and steps are in bytes, of either sign; the caller has checked every
// address.
type tileKernel struct {
	rows, cols int
	run        func(dst unsafe.Pointer, dstStride, dstNext int, src unsafe.Pointer, srcStride, srcNext, strips, n int)
}

// transposeRect copies a rectangle whose rows become columns (sy is ±1,
// sx ± the source stride in pixels) straight into XRGB8888 dst: strips of
// blocks through the widest of kernels that fits, the ragged right and
// bottom edges through the narrower ones, and what is left pixel by
// pixel. A strip is a few destination rows filled left to right, a block's
// width of each at a time, so every destination cache line is written
// whole before the next one on its row, which write-combining memory
// needs.
func transposeRect(dst *Image, src []uint32, g rectCopy, kernels []tileKernel) {
	off, sx, sy := g.off/4, g.stepX/4, g.stepY/4
	if g.w <= 0 || g.h <= 0 {
		return
	}
	if !insideAffine(src, off, sx, sy, g.w, g.h) || (sy != 1 && sy != -1) {
		panic("render: transposeRect: extent outside the image")
	}
	// Slicing the first and last rows checks that dst holds them all.
	_, _ = g.dstRow(dst, 0), g.dstRow(dst, g.h-1)
	t := transposer{dst: dst, src: src, g: g, off: off, sx: sx, sy: sy}
	t.area(0, 0, g.w, g.h, kernels)
}

// transposer is one transposeRect call's state.
type transposer struct {
	dst         *Image
	src         []uint32
	g           rectCopy
	off, sx, sy int
}

// area transposes the w×h part of the rectangle at (x0, y0), in
// destination pixels.
func (t *transposer) area(x0, y0, w, h int, kernels []tileKernel) {
	if w <= 0 || h <= 0 {
		return
	}
	if len(kernels) == 0 {
		for y := y0; y < y0+h; y++ {
			row := t.g.dstRow(t.dst, y)
			for x := x0; x < x0+w; x++ {
				binary.LittleEndian.PutUint32(row[x*4:], t.src[t.off+x*t.sx+y*t.sy])
			}
		}
		return
	}
	k, rest := kernels[0], kernels[1:]
	wb, hb := w-w%k.cols, h-h%k.rows
	if wb == 0 {
		hb = 0
	}
	if hb > 0 {
		// Each source row holds a strip's pixels side by side: for
		// destination rows y..y+rows-1 in that order or, when sy is
		// -1, in the reverse order, and then the strip is stored from
		// its last row upwards. Strips always walk the source columns
		// left to right (so when sy is -1, the destination strips
		// bottom to top): the other way round measured 1.7x slower,
		// the hardware prefetchers only helping a rising walk.
		g := &t.g
		s, d, step, next := t.off+x0*t.sx+y0*t.sy, y0, g.dstStride, k.rows*g.dstStride
		if t.sy < 0 {
			last := y0 + hb - k.rows // the strip whose source columns come first
			s, d, step, next = t.off+x0*t.sx+last*t.sy-(k.rows-1), last+k.rows-1, -step, -next
		}
		k.run(unsafe.Pointer(&g.dstRow(t.dst, d)[x0*4]), step, next,
			unsafe.Pointer(&t.src[s]), t.sx*4, k.rows*4, hb/k.rows, wb/k.cols)
		t.area(x0+wb, y0, w-wb, hb, rest)
	}
	t.area(x0, y0+hb, w, h-hb, rest)
}
