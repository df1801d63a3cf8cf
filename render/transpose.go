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
// square blocks through kernels (widest first), whatever is left pixel by
// pixel. A strip is block destination rows filled left to right, block*4
// bytes of each at a time, so every destination cache line is written
// whole before the next one on its row, which write-combining memory
// needs, and each source cache line is fetched once per strip.
func transposeRect(dst *Image, src []uint32, g rectCopy, kernels []tileKernel) {
	off, sx, sy := g.off/4, g.stepX/4, g.stepY/4
	w, h := g.w, g.h
	if w <= 0 || h <= 0 {
		return
	}
	if !insideAffine(src, off, sx, sy, w, h) || (sy != 1 && sy != -1) {
		panic("render: transposeRect: extent outside the image")
	}
	// Slicing the first and last rows checks that dst holds them all.
	_, _ = g.dstRow(dst, 0), g.dstRow(dst, h-1)
	edge := func(y, from int) {
		row := g.dstRow(dst, y)
		for x := from; x < w; x++ {
			binary.LittleEndian.PutUint32(row[x*4:], src[off+x*sx+y*sy])
		}
	}
	y := 0
	for _, k := range kernels {
		wb, hb := w-w%k.cols, (h-y)-(h-y)%k.rows
		if wb == 0 || hb == 0 {
			continue
		}
		// Each source row holds a strip's pixels side by side: for
		// destination rows y..y+rows-1 in that order or, when sy is
		// -1, in the reverse order, and then the strip is stored from
		// its last row upwards. Strips always walk the source columns
		// left to right (so when sy is -1, the destination strips
		// bottom to top): the other way round measured 1.7x slower,
		// the hardware prefetchers only helping a rising walk.
		s, d, step, next := off+y*sy, y, g.dstStride, k.rows*g.dstStride
		if sy < 0 {
			last := y + hb - k.rows // the strip whose source columns come first
			s, d, step, next = off+last*sy-(k.rows-1), last+k.rows-1, -step, -next
		}
		k.run(unsafe.Pointer(unsafe.SliceData(g.dstRow(dst, d))), step, next,
			unsafe.Pointer(&src[s]), sx*4, k.rows*4, hb/k.rows, wb/k.cols)
		for ; wb < w && hb > 0; hb-- {
			edge(y, wb)
			y++
		}
		y += hb
	}
	for ; y < h; y++ {
		edge(y, 0)
	}
}

// transposeScalar is the portable tileKernel body, the reference the vector
// kernels are tested against and what -tags purego runs.
func transposeScalar(rows, cols int, dst unsafe.Pointer, dstStride, dstNext int, src unsafe.Pointer, srcStride, srcNext, strips, n int) {
	for s := 0; s < strips; s++ {
		d, p := unsafe.Add(dst, s*dstNext), unsafe.Add(src, s*srcNext)
		for i := 0; i < n; i++ {
			for j := 0; j < cols; j++ {
				row := unsafe.Add(p, (cols*i+j)*srcStride)
				for k := 0; k < rows; k++ {
					store32(d, k*dstStride+(cols*i+j)*4, *(*uint32)(unsafe.Add(row, 4*k)))
				}
			}
		}
	}
}

// scalarKernel is transposeScalar as a tileKernel.
func scalarKernel(rows, cols int) tileKernel {
	return tileKernel{rows, cols, func(dst unsafe.Pointer, dstStride, dstNext int, src unsafe.Pointer, srcStride, srcNext, strips, n int) {
		transposeScalar(rows, cols, dst, dstStride, dstNext, src, srcStride, srcNext, strips, n)
	}}
}
