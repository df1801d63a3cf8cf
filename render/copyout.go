package render

import (
	"encoding/binary"
	"image"
	"math/bits"
)

// band is how many destination rows a 90° or 270° copy gathers at once. A
// band is a strip of source columns; each source row gives it 256
// contiguous bytes, so a source page is visited once per band, not once
// every few pixels (16-row bands measured 3.5x slower here, TLB misses
// dominating), while the 64 band rows being filled touch only 64 cache
// lines at a time.
const band = 64

// CopyOut copies rects (in src coordinates) from the shadow image src
// (XRGB8888; ARGB8888 is accepted and its alpha ignored) into dst, applying
// the output transform t; dst has the transformed size of src (a smaller or
// larger dst is clipped to what both cover). dst is written row by row in
// increasing addresses within each rectangle and never read, so it may be
// write-combined or I/O memory. dst may be XRGB8888, ARGB8888 or ABGR8888
// (alpha 0xff), XBGR8888 or RGB565. It returns the number of bytes written
// to dst; rects should not overlap, or the overlap is written twice.
//
// The destination rectangle for each of rects is t.Rect(r, src.Width,
// src.Height): that is the damage to report to the display (FB_DAMAGE_CLIPS).
//
// Rotated copies need a band buffer of 64 destination rows; CopyOut
// allocates it per call, a Copier keeps it between frames.
func CopyOut(dst, src *Image, rects []image.Rectangle, t Transform) int {
	var c Copier
	return c.CopyOut(dst, src, rects, t)
}

// Copier does what the function CopyOut does but keeps its band buffer for
// the next call, so a rotated output does not allocate every frame. Keep
// one per output; the zero value is ready to use. A Copier must not be used
// by two goroutines at once.
type Copier struct {
	scratch []byte
}

// CopyOut is the function CopyOut, reusing c's buffer.
func (c *Copier) CopyOut(dst, src *Image, rects []image.Rectangle, t Transform) int {
	if !isShadowFormat(src) || !src.valid() || !dst.valid() || !t.Valid() {
		return 0
	}
	conv := rowConverter(dst.Format)
	if conv == nil {
		return 0
	}
	sw, sh := src.Width, src.Height
	tw, th := t.TransformSize(sw, sh)
	dstArea := dst.Bounds().Intersect(image.Rect(0, 0, tw, th))
	written := 0
	for _, r := range rects {
		dr := t.Rect(r.Intersect(src.Bounds()), sw, sh).Intersect(dstArea)
		if dr.Empty() {
			continue
		}
		// Source byte offset of dst pixel dr.Min and how it moves per
		// step right and down in dst: the inverse transform is affine.
		inv := t.Invert()
		p0 := inv.Point(dr.Min, tw, th)
		px := inv.Point(dr.Min.Add(image.Point{1, 0}), tw, th)
		py := inv.Point(dr.Min.Add(image.Point{0, 1}), tw, th)
		off0 := p0.Y*src.Stride + p0.X*4
		stepX := (px.Y-p0.Y)*src.Stride + (px.X-p0.X)*4
		stepY := (py.Y-p0.Y)*src.Stride + (py.X-p0.X)*4
		w, h := dr.Dx(), dr.Dy()
		dbpp := dst.Format.BytesPerPixel()
		dstRow := func(y int) []byte {
			o := y*dst.Stride + dr.Min.X*dbpp
			return dst.Pix[o : o+w*dbpp]
		}
		if stepX == 4 {
			// Rows stay rows and keep their direction (normal,
			// flipped-180): convert straight from the shadow.
			for y := 0; y < h; y++ {
				o := off0 + y*stepY
				conv(dstRow(dr.Min.Y+y), src.Pix[o:o+w*4])
			}
			written += w * h * dbpp
			continue
		}
		if stepX == -4 {
			// Rows stay rows but run backwards (180, flipped).
			if dst.Format == XRGB8888 {
				for y := 0; y < h; y++ {
					reverseRow(dstRow(dr.Min.Y+y), src.Pix, off0+y*stepY, w)
				}
			} else {
				buf := c.buffer(w * 4)
				for y := 0; y < h; y++ {
					reverseRow(buf, src.Pix, off0+y*stepY, w)
					conv(dstRow(dr.Min.Y+y), buf)
				}
			}
			written += w * h * dbpp
			continue
		}
		// Rows become columns (90, 270 and their flips): gather a band of
		// destination rows into system memory, reading the source in
		// short contiguous runs, then write each row out sequentially.
		buf := c.buffer(band * w * 4)
		for y := 0; y < h; y += band {
			n := min(band, h-y)
			gatherColumns(buf[:n*w*4], src.Pix, off0+y*stepY, stepX, stepY, w, n)
			for k := 0; k < n; k++ {
				conv(dstRow(dr.Min.Y+y+k), buf[k*w*4:(k+1)*w*4])
			}
		}
		written += w * h * dbpp
	}
	return written
}

// buffer returns n bytes of system memory for gathering rows.
func (c *Copier) buffer(n int) []byte {
	if len(c.scratch) < n {
		c.scratch = make([]byte, n)
	}
	return c.scratch[:n]
}

// reverseRow stores into d the w 4-byte pixels ending at byte offset o+4 of
// pix, last one first. Pixels move in pairs: one 8-byte load, a swap of the
// halves, one 8-byte store.
func reverseRow(d, pix []byte, o, w int) {
	row := pix[o-4*(w-1) : o+4]
	d = d[:w*4]
	x := 0
	for ; x+2 <= w; x += 2 {
		v := binary.LittleEndian.Uint64(row[4*(w-2-x):])
		binary.LittleEndian.PutUint64(d[4*x:], bits.RotateLeft64(v, 32))
	}
	if x < w {
		binary.LittleEndian.PutUint32(d[4*x:], binary.LittleEndian.Uint32(row))
	}
}

// gatherColumns fills n rows of w 4-byte pixels in s (tightly packed): row
// k, pixel x is the source pixel at off + x*stepX + k*stepY, where stepY is
// ±4 (band rows are neighbouring source columns) and stepX is ± the source
// stride. It works on 2×2 blocks: two 8-byte loads from neighbouring source
// rows become two 8-byte stores into neighbouring band rows. Band rows are
// always filled top to bottom: walking them bottom-up measured three times
// slower.
func gatherColumns(s, pix []byte, off, stepX, stepY, w, n int) {
	rb := w * 4
	s = s[:n*rb]
	rev := stepY < 0
	if rev {
		// Source runs go right to left: slice them from their lowest
		// address and index from the end.
		off -= 4 * (n - 1)
	}
	x := 0
	for ; x+2 <= w; x += 2 {
		o0 := off + x*stepX
		o1 := o0 + stepX
		c0 := pix[o0 : o0+4*n]
		c1 := pix[o1 : o1+4*n]
		p := x * 4
		k := 0
		if rev {
			for ; k+2 <= n; k += 2 {
				// Loaded low to high the pair is band rows k+1, k;
				// rotate so a holds (x, k) low and (x, k+1) high.
				j := 4 * (n - 2 - k)
				a := bits.RotateLeft64(binary.LittleEndian.Uint64(c0[j:]), 32)
				b := bits.RotateLeft64(binary.LittleEndian.Uint64(c1[j:]), 32)
				binary.LittleEndian.PutUint64(s[p:], a&0xffffffff|b<<32)
				binary.LittleEndian.PutUint64(s[p+rb:], a>>32|b&0xffffffff00000000)
				p += 2 * rb
			}
		} else {
			for ; k+2 <= n; k += 2 {
				a := binary.LittleEndian.Uint64(c0[4*k:])
				b := binary.LittleEndian.Uint64(c1[4*k:])
				binary.LittleEndian.PutUint64(s[p:], a&0xffffffff|b<<32)
				binary.LittleEndian.PutUint64(s[p+rb:], a>>32|b&0xffffffff00000000)
				p += 2 * rb
			}
		}
		if k < n {
			j := 4 * k
			if rev {
				j = 4 * (n - 1 - k)
			}
			binary.LittleEndian.PutUint32(s[p:], binary.LittleEndian.Uint32(c0[j:]))
			binary.LittleEndian.PutUint32(s[p+4:], binary.LittleEndian.Uint32(c1[j:]))
		}
	}
	if x < w {
		o0 := off + x*stepX
		c0 := pix[o0 : o0+4*n]
		for k := 0; k < n; k++ {
			j := 4 * k
			if rev {
				j = 4 * (n - 1 - k)
			}
			binary.LittleEndian.PutUint32(s[k*rb+x*4:], binary.LittleEndian.Uint32(c0[j:]))
		}
	}
}
