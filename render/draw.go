package render

import (
	"encoding/binary"
	"image"
)

// Layer is one surface buffer to draw into the destination.
type Layer struct {
	Src *Image
	// SrcRect is the region of Src in buffer pixels (the viewport crop,
	// already integer). Parts outside Src are not drawn; an empty SrcRect
	// draws nothing.
	SrcRect image.Rectangle
	// Transform is the buffer transform (wl_surface.set_buffer_transform):
	// the client applied it to the surface content, so Draw applies
	// Transform.Invert() to SrcRect to get the surface content back.
	Transform Transform
	// Dst is where the surface content goes, in destination pixels. When its
	// size differs from the transformed SrcRect size the content is scaled
	// with nearest-neighbour sampling at pixel centres.
	Dst image.Rectangle
	// Opaque copies and ignores source alpha (X formats are always opaque);
	// otherwise the source is composited with premultiplied OVER.
	Opaque bool
}

// Layer rectangles larger than this on a side are refused, so that scaling
// arithmetic cannot overflow.
const maxLayerDim = 1 << 24

// layerSizeOK reports whether r is non-empty and small enough. A size that
// overflowed int comes out negative and is refused too.
func layerSizeOK(r image.Rectangle) bool {
	w, h := r.Dx(), r.Dy()
	return w > 0 && h > 0 && w <= maxLayerDim && h <= maxLayerDim
}

// chunk is how many pixels the general paths convert at a time: small
// enough to live on the stack and in L1, large enough to amortise the loop.
const chunk = 256

// Draw composites l into dst, touching only pixels inside
// clip ∩ l.Dst ∩ dst.Bounds(). dst must be XRGB8888 or ARGB8888 (the
// shadow image); anything else, an invalid image or an invalid transform
// makes Draw a no-op.
func Draw(dst *Image, l Layer, clip image.Rectangle) {
	if !isShadowFormat(dst) || !dst.valid() || !l.Src.valid() || !l.Transform.Valid() {
		return
	}
	src, sr, t := l.Src, l.SrcRect, l.Transform
	if !layerSizeOK(sr) || !layerSizeOK(l.Dst) {
		return
	}
	area := clip.Intersect(l.Dst).Intersect(dst.Bounds())
	vis := sr.Intersect(src.Bounds())
	if area.Empty() || vis.Empty() {
		return
	}
	sw, sh := sr.Dx(), sr.Dy()
	tw, th := t.TransformSize(sw, sh)
	dw, dh := l.Dst.Dx(), l.Dst.Dy()
	if vis != sr {
		// Keep only the destination pixels whose sample falls inside Src.
		in := t.Invert().Rect(vis.Sub(sr.Min), sw, sh)
		x0, x1 := sampleRange(in.Min.X, in.Max.X, tw, dw)
		y0, y1 := sampleRange(in.Min.Y, in.Max.Y, th, dh)
		area = area.Intersect(image.Rect(x0, y0, x1, y1).Add(l.Dst.Min))
		if area.Empty() {
			return
		}
	}
	opaque := l.Opaque || !src.Format.HasAlpha()
	if t == Normal && tw == dw && th == dh {
		drawUnscaled(dst, src, area, sr.Min.Sub(l.Dst.Min), opaque)
		return
	}
	drawSampled(dst, l, area, opaque)
}

func isShadowFormat(m *Image) bool {
	return m != nil && (m.Format == XRGB8888 || m.Format == ARGB8888)
}

// sample returns the source pixel, in a span of s pixels, that destination
// pixel u of a span of d pixels takes: the one under its centre. The
// arithmetic is 64-bit so that it cannot overflow on 32-bit ARM either.
func sample(u, s, d int) int {
	return int((2*int64(u) + 1) * int64(s) / (2 * int64(d)))
}

// sampleRange returns the destination offsets [u0, u1) within a span of d
// pixels whose sample (see sample) in a span of s pixels lies in [a, b).
func sampleRange(a, b, s, d int) (int, int) {
	u0 := ceilDiv(2*int64(a)*int64(d)-int64(s), 2*int64(s))
	u1 := ceilDiv(2*int64(b)*int64(d)-int64(s), 2*int64(s))
	clamp := func(u int64) int { return int(max(0, min(u, int64(d)))) }
	return clamp(u0), clamp(u1)
}

func ceilDiv(n, m int64) int64 {
	q := n / m
	if n%m != 0 && (n > 0) == (m > 0) {
		q++
	}
	return q
}

// drawUnscaled handles the untransformed, unscaled case: destination pixel
// p takes source pixel p+off, so each row is one contiguous span.
func drawUnscaled(dst, src *Image, area image.Rectangle, off image.Point, opaque bool) {
	sbpp := src.Format.BytesPerPixel()
	w := area.Dx()
	rgb32 := src.Format == XRGB8888 || src.Format == ARGB8888
	var row func(d, s []byte)
	switch {
	case opaque && rgb32 && dst.Format == XRGB8888:
		// The X byte of an XRGB8888 shadow is don't-care, so an opaque
		// source is a plain copy: this is the path that matters.
		row = func(d, s []byte) { copy(d, s) }
	case opaque && rgb32:
		row = convertToARGB
	case src.Format == ARGB8888:
		row = overRow
	default:
		row = func(d, s []byte) {
			var px [chunk]uint32
			for i := 0; i < w; i += chunk {
				n := min(chunk, w-i)
				fetchRow(px[:n], s[i*sbpp:], src.Format)
				if opaque {
					storeOpaque(d[i*4:], px[:n])
				} else {
					overPixels(d[i*4:], px[:n])
				}
			}
		}
	}
	for y := area.Min.Y; y < area.Max.Y; y++ {
		do := y*dst.Stride + area.Min.X*4
		so := (y+off.Y)*src.Stride + (area.Min.X+off.X)*sbpp
		row(dst.Pix[do:do+w*4], src.Pix[so:so+w*sbpp])
	}
}

// colStrip is how many destination columns drawSampled handles at a
// time: 4 KiB of table on the stack, 2 KiB of each destination row.
const colStrip = 512

// drawSampled is the general path: any transform, any scale. Because every
// transform only permutes and mirrors axes, the source byte offset of
// destination pixel (x, y) splits into a part that depends only on x and
// one that depends only on y, so two small tables drive the whole loop.
func drawSampled(dst *Image, l Layer, area image.Rectangle, opaque bool) {
	src, sr, t := l.Src, l.SrcRect, l.Transform
	tw, th := t.TransformSize(sr.Dx(), sr.Dy())
	dw, dh := l.Dst.Dx(), l.Dst.Dy()
	bpp := src.Format.BytesPerPixel()
	offset := func(su, sv int) int {
		p := t.Point(image.Point{su, sv}, tw, th).Add(sr.Min)
		return p.Y*src.Stride + p.X*bpp
	}
	origin := offset(0, 0)
	rgb32 := src.Format == XRGB8888 || src.Format == ARGB8888
	// The column table is built a strip at a time, on the stack, so a
	// scaled draw allocates nothing. With a 90° or 270° buffer transform
	// a destination row walks down a source column; narrower strips keep
	// the source rows a strip touches in the cache and the TLB for the
	// rows below.
	var colBuf [colStrip]int
	strip := colStrip
	if t.swapsAxes() {
		strip = 64
	}
	var px [chunk]uint32
	for x0 := 0; x0 < area.Dx(); x0 += strip {
		cols := colBuf[:min(strip, area.Dx()-x0)]
		for i := range cols {
			u := area.Min.X + x0 + i - l.Dst.Min.X
			cols[i] = offset(sample(u, tw, dw), 0) - origin
		}
		w := len(cols) * 4
		prevBase, prevRow := -1, []byte(nil)
		for y := area.Min.Y; y < area.Max.Y; y++ {
			v := y - l.Dst.Min.Y
			base := offset(0, sample(v, th, dh))
			d := dst.Pix[y*dst.Stride+(area.Min.X+x0)*4:][:w]
			switch {
			case opaque && base == prevBase:
				// Upscaling repeats source rows: an opaque row is
				// the same as the one above, and memmove is cheaper
				// than sampling it again.
				copy(d, prevRow)
			case opaque && rgb32:
				sampleOpaque32(d, src.Pix, base, cols)
			default:
				for i := 0; i < len(cols); i += chunk {
					n := min(chunk, len(cols)-i)
					fetchOffsets(px[:n], src.Pix, base, cols[i:i+n], src.Format)
					if opaque {
						storeOpaque(d[i*4:], px[:n])
					} else {
						overPixels(d[i*4:], px[:n])
					}
				}
			}
			prevBase, prevRow = base, d
		}
	}
}

// sampleOpaque32 stores the 32-bit source pixels at base+col[i] into d with
// alpha forced to 0xff, in one pass.
func sampleOpaque32(d, pix []byte, base int, col []int) {
	d = d[:len(col)*4]
	for i, o := range col {
		binary.LittleEndian.PutUint32(d[i*4:], binary.LittleEndian.Uint32(pix[base+o:])|0xff000000)
	}
}

// Fill paints the premultiplied colour argb (0xAARRGGBB) over
// clip ∩ r ∩ dst.Bounds(): alpha 0xff replaces the pixels, anything else is
// composited with OVER. dst must be XRGB8888 or ARGB8888.
func Fill(dst *Image, r image.Rectangle, argb uint32, clip image.Rectangle) {
	if !isShadowFormat(dst) || !dst.valid() {
		return
	}
	area := r.Intersect(clip).Intersect(dst.Bounds())
	if area.Empty() || argb == 0 {
		return
	}
	w := area.Dx() * 4
	if argb>>24 == 0xff {
		// Fill one row, then copy it: copy() is memmove, far faster than
		// storing pixel by pixel.
		first := dst.Pix[area.Min.Y*dst.Stride+area.Min.X*4:][:w]
		for i := 0; i < w; i += 4 {
			binary.LittleEndian.PutUint32(first[i:], argb)
		}
		for y := area.Min.Y + 1; y < area.Max.Y; y++ {
			copy(dst.Pix[y*dst.Stride+area.Min.X*4:][:w], first)
		}
		return
	}
	for y := area.Min.Y; y < area.Max.Y; y++ {
		d := dst.Pix[y*dst.Stride+area.Min.X*4:][:w]
		for i := 0; i < w; i += 4 {
			binary.LittleEndian.PutUint32(d[i:], over(argb, binary.LittleEndian.Uint32(d[i:])))
		}
	}
}
