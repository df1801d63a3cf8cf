package render

import (
	"encoding/binary"
	"image"
)

// band is how many destination rows a rotated copy gathers at once. For a
// 90° or 270° turn a band is a strip of source columns: with 16 rows, each
// source row contributes one 64-byte cache line per band, and the 16 band
// rows being written stay in L1.
const band = 16

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
func CopyOut(dst, src *Image, rects []image.Rectangle, t Transform) int {
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
	var scratch []byte
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
		// Reversed rows or columns: gather a band of destination rows into
		// system memory in source order, then write each row out in one
		// sequential pass.
		if need := band * w * 4; len(scratch) < need {
			scratch = make([]byte, need)
		}
		for y := 0; y < h; y += band {
			n := min(band, h-y)
			gather(scratch[:n*w*4], src.Pix, off0+y*stepY, stepX, stepY, w, n)
			for k := 0; k < n; k++ {
				conv(dstRow(dr.Min.Y+y+k), scratch[k*w*4:(k+1)*w*4])
			}
		}
		written += w * h * dbpp
	}
	return written
}

// gather fills n rows of w 4-byte pixels in s (tightly packed) with the
// source pixels at off + x*stepX + k*stepY. The loop runs along whichever
// step is ±4 so source reads are sequential.
func gather(s, pix []byte, off, stepX, stepY, w, n int) {
	rowBytes := w * 4
	if stepY == 4 || stepY == -4 {
		// Destination rows are source columns: each destination column
		// x is a short contiguous run of source pixels.
		for x := 0; x < w; x++ {
			o := off + x*stepX
			for k := 0; k < n; k++ {
				binary.LittleEndian.PutUint32(s[k*rowBytes+x*4:], binary.LittleEndian.Uint32(pix[o+k*stepY:]))
			}
		}
		return
	}
	for k := 0; k < n; k++ {
		o := off + k*stepY
		row := s[k*rowBytes : (k+1)*rowBytes]
		for x := 0; x < w; x++ {
			binary.LittleEndian.PutUint32(row[x*4:], binary.LittleEndian.Uint32(pix[o+x*stepX:]))
		}
	}
}
