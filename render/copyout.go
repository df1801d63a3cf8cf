package render

import "image"

// band is how many destination rows a 90° or 270° copy on the byte path
// (copyout_bytes.go) gathers at once; the word path's is wordBand. A band
// is a strip of source columns; each source row gives it 256
// contiguous bytes, so a source page is visited once per band, not once
// every few pixels (16-row bands measured 3.5x slower here, TLB misses
// dominating), while the 64 band rows being filled touch only 64 cache
// lines at a time.
const band = 64

// CopyOut copies rects (in src coordinates) from the shadow image src
// (XRGB8888; ARGB8888 is accepted and its alpha ignored) into dst, applying
// the output transform t; dst has the transformed size of src (a smaller or
// larger dst is clipped to what both cover). dst is never read, and each
// of its rows is written in increasing addresses: one row after another,
// except that a 90° or 270° copy fills a few rows side by side (a strip
// of 4 or 8 rows, 16 or 32 bytes of each in turn), so dst may be
// write-combined or I/O memory. dst may be XRGB8888, ARGB8888 or ABGR8888
// (alpha 0xff), XBGR8888 or RGB565. It returns the number of bytes written
// to dst; rects should not overlap, or the overlap is written twice.
//
// The destination rectangle for each of rects is t.Rect(r, src.Width,
// src.Height): that is the damage to report to the display (FB_DAMAGE_CLIPS).
//
// Rotated copies that are not done in vector registers (other formats,
// other CPUs) need a band buffer of 64 destination rows; CopyOut allocates
// it per call, a Copier keeps it between frames.
func CopyOut(dst, src *Image, rects []image.Rectangle, t Transform) int {
	var c Copier
	return c.CopyOut(dst, src, rects, t)
}

// Copier does what the function CopyOut does but keeps its band buffer for
// the next call, so a rotated output does not allocate every frame. Keep
// one per output; the zero value is ready to use. A Copier must not be used
// by two goroutines at once.
type Copier struct {
	scratch []byte   // byte path: band or reversed row
	band    []uint32 // word path: band, or a reversed chunk of a row
	out     []uint64 // word path: a converted chunk of an unaligned row
	// tiles, when not nil, replaces the platform's tile kernels for
	// 90° and 270° copies (tests use it to run every kernel).
	tiles []tileKernel
}

func (c *Copier) kernels() []tileKernel {
	if c.tiles != nil {
		return c.tiles
	}
	return platformKernels
}

// rectCopy is one rectangle's copy, clipped: the destination rectangle
// dr (w×h) and, in source bytes, the offset of the pixel that lands on
// dr.Min and how it moves per step right and down in dst.
type rectCopy struct {
	dr                image.Rectangle
	off, stepX, stepY int
	w, h              int
	dstStride, dstBPP int
}

// dstRow returns the bytes of the rectangle's row y in dst.
func (g *rectCopy) dstRow(dst *Image, y int) []byte {
	o := (g.dr.Min.Y+y)*g.dstStride + g.dr.Min.X*g.dstBPP
	return dst.Pix[o : o+g.w*g.dstBPP]
}

// CopyOut is the function CopyOut, reusing c's buffers.
func (c *Copier) CopyOut(dst, src *Image, rects []image.Rectangle, t Transform) int {
	if !isShadowFormat(src) || !src.valid() || !dst.valid() || !t.Valid() {
		return 0
	}
	if rowConverter(dst.Format) == nil {
		return 0
	}
	words := shadowWords(src)
	sw, sh := src.Width, src.Height
	tw, th := t.TransformSize(sw, sh)
	dstArea := dst.Bounds().Intersect(image.Rect(0, 0, tw, th))
	inv := t.Invert()
	written := 0
	for _, r := range rects {
		dr := t.Rect(r.Intersect(src.Bounds()), sw, sh).Intersect(dstArea)
		if dr.Empty() {
			continue
		}
		// Source byte offset of dst pixel dr.Min and how it moves per
		// step right and down in dst: the inverse transform is affine.
		p0 := inv.Point(dr.Min, tw, th)
		px := inv.Point(dr.Min.Add(image.Point{1, 0}), tw, th)
		py := inv.Point(dr.Min.Add(image.Point{0, 1}), tw, th)
		g := rectCopy{
			dr:        dr,
			off:       p0.Y*src.Stride + p0.X*4,
			stepX:     (px.Y-p0.Y)*src.Stride + (px.X-p0.X)*4,
			stepY:     (py.Y-p0.Y)*src.Stride + (py.X-p0.X)*4,
			w:         dr.Dx(),
			h:         dr.Dy(),
			dstStride: dst.Stride,
			dstBPP:    dst.Format.BytesPerPixel(),
		}
		if words != nil {
			c.copyRectWords(dst, words, g)
		} else {
			c.copyRectBytes(dst, src, g)
		}
		written += g.w * g.h * g.dstBPP
	}
	return written
}

// copyRectWords copies one rectangle through the word path (words.go);
// src is the shadow as words, so every offset and step divides by 4.
func (c *Copier) copyRectWords(dst *Image, src []uint32, g rectCopy) {
	off, sx, sy := g.off/4, g.stepX/4, g.stepY/4
	w, h, bpp := g.w, g.h, g.dstBPP
	switch sx {
	case 1:
		// Rows stay rows and keep their direction (normal,
		// flipped-180): straight from the shadow, with copy() inline
		// for the common XRGB8888 scanout, since small damage
		// rectangles are many short rows.
		if dst.Format == XRGB8888 {
			for y := 0; y < h; y++ {
				o := off + y*sy
				copy(g.dstRow(dst, y), bytesOf(src[o:o+w]))
			}
			return
		}
		for y := 0; y < h; y++ {
			o := off + y*sy
			c.emit(g.dstRow(dst, y), src[o:o+w], dst.Format)
		}
	case -1:
		// Rows run backwards (180, flipped). An aligned XRGB8888 row
		// is reversed straight into dst (stores in increasing
		// addresses); anything else a chunk at a time through system
		// memory.
		for y := 0; y < h; y++ {
			d := g.dstRow(dst, y)
			last := off + y*sy // source of the row's first pixel
			if dst.Format == XRGB8888 && aligned4(d) {
				reverseWords(wordsOf(d), src[last-w+1:last+1])
				continue
			}
			rev := c.words(min(w, rowChunk))
			for i := 0; i < w; i += rowChunk {
				n := min(rowChunk, w-i)
				reverseWords(rev[:n], src[last-i-n+1:last-i+1])
				c.emit(d[i*bpp:(i+n)*bpp], rev[:n], dst.Format)
			}
		}
	default:
		// Rows become columns (90, 270 and their flips). With vector
		// registers, XRGB8888 is transposed straight into dst in 4x4
		// blocks; otherwise a band of destination rows is transposed
		// into system memory, then each row is written out
		// sequentially.
		if k := c.kernels(); len(k) > 0 && dst.Format == XRGB8888 {
			transposeRect(dst, src, g, k)
			return
		}
		bs := bandStride(w)
		buf := c.words((min(wordBand, h)-1)*bs + w)
		for y := 0; y < h; y += wordBand {
			n := min(wordBand, h-y)
			transposeBand(buf, src, off+y*sy, sx, sy, w, n, bs)
			for k := 0; k < n; k++ {
				c.emit(g.dstRow(dst, y+k), buf[k*bs:k*bs+w], dst.Format)
			}
		}
	}
}

// words returns n words of system memory for a band or a reversed chunk.
func (c *Copier) words(n int) []uint32 {
	if len(c.band) < n {
		c.band = make([]uint32, n)
	}
	return c.band[:n]
}
