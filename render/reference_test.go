package render

import (
	"image"
	"math"
)

// The reference implementations below are deliberately naive: one pixel at
// a time, floating point where the real code uses integer tricks, and
// transforms built literally from the wl_output.transform description
// (flip around the vertical axis, then quarter turns counter-clockwise).

// refApply maps pixel (x, y) of a w×h image through t.
func refApply(t Transform, x, y, w, h int) (int, int) {
	if t >= Flipped {
		x = w - 1 - x
	}
	for i := 0; i < int(t)%4; i++ {
		// One quarter turn counter-clockwise: the right column becomes
		// the top row.
		x, y = y, w-1-x
		w, h = h, w
	}
	return x, y
}

type rgba struct{ a, r, g, b uint8 }

func (c rgba) argb() uint32 {
	return uint32(c.a)<<24 | uint32(c.r)<<16 | uint32(c.g)<<8 | uint32(c.b)
}

func refLoad(m *Image, x, y int) rgba {
	bpp := m.Format.BytesPerPixel()
	p := m.Pix[y*m.Stride+x*bpp:]
	switch m.Format {
	case XRGB8888:
		return rgba{0xff, p[2], p[1], p[0]}
	case ARGB8888:
		return rgba{p[3], p[2], p[1], p[0]}
	case XBGR8888:
		return rgba{0xff, p[0], p[1], p[2]}
	case ABGR8888:
		return rgba{p[3], p[0], p[1], p[2]}
	case RGB565:
		v := int(p[0]) | int(p[1])<<8
		r5, g6, b5 := v>>11, v>>5&63, v&31
		return rgba{0xff, scaleBits(r5, 5), scaleBits(g6, 6), scaleBits(b5, 5)}
	}
	panic("refLoad: format " + m.Format.String())
}

// scaleBits widens an n-bit value by bit replication, written out bit by
// bit.
func scaleBits(v, n int) uint8 {
	out := 0
	for i := 0; i < 8; i++ {
		bit := (v >> (n - 1 - i%n)) & 1
		out = out<<1 | bit
	}
	return uint8(out)
}

func refStore(m *Image, x, y int, c rgba) {
	bpp := m.Format.BytesPerPixel()
	p := m.Pix[y*m.Stride+x*bpp:]
	switch m.Format {
	case XRGB8888, ARGB8888:
		p[0], p[1], p[2], p[3] = c.b, c.g, c.r, c.a
	case XBGR8888, ABGR8888:
		p[0], p[1], p[2], p[3] = c.r, c.g, c.b, c.a
	case RGB565:
		v := int(c.r)>>3<<11 | int(c.g)>>2<<5 | int(c.b)>>3
		p[0], p[1] = byte(v), byte(v>>8)
	default:
		panic("refStore: format " + m.Format.String())
	}
}

func refOverChannel(s, sa, d uint8) uint8 {
	v := float64(s) + float64(d)*float64(255-sa)/255
	v = math.Floor(v + 0.5)
	if v > 255 {
		v = 255
	}
	return uint8(v)
}

func refOver(s, d rgba) rgba {
	return rgba{
		refOverChannel(s.a, s.a, d.a),
		refOverChannel(s.r, s.a, d.r),
		refOverChannel(s.g, s.a, d.g),
		refOverChannel(s.b, s.a, d.b),
	}
}

// refDraw is Draw, one destination pixel at a time.
func refDraw(dst *Image, l Layer, clip image.Rectangle) {
	sr := l.SrcRect
	if sr.Empty() || l.Dst.Empty() {
		return
	}
	tw, th := sr.Dx(), sr.Dy()
	if l.Transform%2 == 1 {
		tw, th = th, tw
	}
	dw, dh := l.Dst.Dx(), l.Dst.Dy()
	opaque := l.Opaque || !l.Src.Format.HasAlpha()
	for y := 0; y < dst.Height; y++ {
		for x := 0; x < dst.Width; x++ {
			p := image.Point{x, y}
			if !p.In(clip) || !p.In(l.Dst) {
				continue
			}
			u, v := x-l.Dst.Min.X, y-l.Dst.Min.Y
			su := int(math.Floor((float64(u) + 0.5) * float64(tw) / float64(dw)))
			sv := int(math.Floor((float64(v) + 0.5) * float64(th) / float64(dh)))
			// The client applied the transform to the surface to make
			// the buffer, so surface pixel (su, sv) sits at refApply of it.
			bx, by := refApply(l.Transform, su, sv, tw, th)
			bp := image.Point{sr.Min.X + bx, sr.Min.Y + by}
			if !bp.In(l.Src.Bounds()) {
				continue
			}
			s := refLoad(l.Src, bp.X, bp.Y)
			if opaque {
				s.a = 0xff
				refStore(dst, x, y, s)
				continue
			}
			refStore(dst, x, y, refOver(s, refLoad(dst, x, y)))
		}
	}
}

// refCopyOut is CopyOut, one source pixel at a time, for an XRGB8888 src.
func refCopyOut(dst, src *Image, rects []image.Rectangle, t Transform) {
	for _, r := range rects {
		r = r.Intersect(src.Bounds())
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				dx, dy := refApply(t, x, y, src.Width, src.Height)
				if !(image.Point{dx, dy}).In(dst.Bounds()) {
					continue
				}
				c := refLoad(src, x, y)
				if dst.Format != XRGB8888 {
					c.a = 0xff
				} else {
					c.a = src.Pix[y*src.Stride+x*4+3] // copied as is
				}
				refStore(dst, dx, dy, c)
			}
		}
	}
}
