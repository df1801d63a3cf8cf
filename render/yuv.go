package render

import (
	"fmt"
	"image"
	"math"
)

// The multi-plane YUV formats render converts (drm_fourcc.h). All four
// are 8-bit with chroma subsampled 2×2 (4:2:0), the layout video
// decoders hand out.
const (
	NV12   Format = 'N' | 'V'<<8 | '1'<<16 | '2'<<24 // Y plane, then interleaved U:V
	NV21   Format = 'N' | 'V'<<8 | '2'<<16 | '1'<<24 // Y plane, then interleaved V:U
	YUV420 Format = 'Y' | 'U'<<8 | '1'<<16 | '2'<<24 // Y, U and V planes
	YVU420 Format = 'Y' | 'V'<<8 | '1'<<16 | '2'<<24 // Y, V and U planes
)

// IsYUV reports whether f is one of the YUV formats above.
func (f Format) IsYUV() bool {
	switch f {
	case NV12, NV21, YUV420, YVU420:
		return true
	}
	return false
}

// Planes is how many planes a buffer of format f has: 2 for NV12 and
// NV21, 3 for YUV420 and YVU420, 1 for the RGB formats.
func (f Format) Planes() int {
	switch f {
	case NV12, NV21:
		return 2
	case YUV420, YVU420:
		return 3
	}
	return 1
}

// PlaneSize is the bytes of one row of plane i of a w×h image of format f
// and how many rows it has; 0, 0 for planes f does not have or formats
// render does not know. Chroma planes are rounded up, so an odd-sized
// image has a chroma sample for its last column and row.
func (f Format) PlaneSize(i, w, h int) (rowBytes, rows int) {
	if i < 0 || i >= f.Planes() || w <= 0 || h <= 0 {
		return 0, 0
	}
	if !f.IsYUV() {
		return w * f.BytesPerPixel(), h
	}
	if i == 0 {
		return w, h
	}
	cw, ch := (w+1)/2, (h+1)/2
	if f == NV12 || f == NV21 {
		return 2 * cw, ch
	}
	return cw, ch
}

// Matrix is the YUV to RGB matrix of a video signal.
type Matrix uint8

const (
	BT601 Matrix = iota // SD video (ITU-R BT.601)
	BT709               // HD video (ITU-R BT.709)
)

// Range says which codes a YUV signal uses: limited ("TV", Y in 16-235,
// chroma in 16-240) or full (0-255).
type Range uint8

const (
	Limited Range = iota
	Full
)

// Colorimetry is how a YUV buffer's codes turn into RGB.
type Colorimetry struct {
	Matrix Matrix
	Range  Range
}

func (c Colorimetry) String() string {
	m, r := "BT.601", "limited"
	if c.Matrix == BT709 {
		m = "BT.709"
	}
	if c.Range == Full {
		r = "full"
	}
	return m + " " + r
}

// DefaultColorimetry is what a w×h video is taken to be when its client
// says nothing: limited range, BT.709 for HD sizes (720 lines or 1280
// columns and up) and BT.601 below, the rule of thumb players and other
// compositors use, since SD material is almost always BT.601 and HD
// almost always BT.709.
func DefaultColorimetry(w, h int) Colorimetry {
	if w >= 1280 || h >= 720 {
		return Colorimetry{BT709, Limited}
	}
	return Colorimetry{BT601, Limited}
}

// coefBits is the fixed-point precision of the conversion. 13 bits keep
// every coefficient (the largest, BT.709 limited Cb→B, is 2.112) inside an
// int16, which the vector kernels multiply, and the result within ±1 of
// the exact conversion (TestYUVCloseToExact).
const coefBits = 13

// yuvCoef is one colorimetry in fixed point. A chroma pair is the two
// chroma codes in memory order (U, V for NV12; V, U for NV21): a and b.
//
//	R = (cy·(Y−yoff) + ra·(a−128) + rb·(b−128) + 2¹²) >> 13, clamped to 0-255
//
// and likewise G (ga, gb) and B (ba, bb). The kernels compute exactly this
// in 32-bit integers, so every kernel gives the same bytes.
type yuvCoef struct {
	cy, yoff       int32
	ra, rb, ga, gb int32
	ba, bb         int32
}

// newYUVCoef derives the fixed-point matrix from the standards' luma
// weights Kr and Kb.
func newYUVCoef(c Colorimetry, swapped bool) yuvCoef {
	kr, kb := 0.299, 0.114
	if c.Matrix == BT709 {
		kr, kb = 0.2126, 0.0722
	}
	kg := 1 - kr - kb
	ys, cs, yoff := 1.0, 1.0, int32(0)
	if c.Range == Limited {
		ys, cs, yoff = 255.0/219, 255.0/224, 16
	}
	fix := func(v float64) int32 { return int32(math.Round(v * (1 << coefBits))) }
	crv := fix(2 * (1 - kr) * cs)
	cgu := fix(-2 * kb * (1 - kb) / kg * cs)
	cgv := fix(-2 * kr * (1 - kr) / kg * cs)
	cbu := fix(2 * (1 - kb) * cs)
	k := yuvCoef{cy: fix(ys), yoff: yoff, ra: 0, rb: crv, ga: cgu, gb: cgv, ba: cbu, bb: 0}
	if swapped {
		k.ra, k.rb, k.ga, k.gb, k.ba, k.bb = k.rb, k.ra, k.gb, k.ga, k.bb, k.ba
	}
	return k
}

// yuvConsts is a yuvCoef laid out for the vector kernels: SSE2 multiplies
// pairs of int16 (PMADDWD), so Y is paired with 1 to pick up the rounding
// term, and each channel's two chroma coefficients are paired; NEON takes
// scalars from lanes.
type yuvConsts struct {
	yPair [8]int16 // cy, 1<<12 ×4
	rPair [8]int16 // ra, rb ×4
	gPair [8]int16 // ga, gb ×4
	bPair [8]int16 // ba, bb ×4
	yoff  [8]int16
	c128  [8]int16
	ones  [8]int16
	lanes [8]int16 // cy, yoff, ra, rb, ga, gb, ba, bb
}

func (k *yuvCoef) consts() *yuvConsts {
	v := &yuvConsts{}
	for i := 0; i < 8; i += 2 {
		v.yPair[i], v.yPair[i+1] = int16(k.cy), 1<<(coefBits-1)
		v.rPair[i], v.rPair[i+1] = int16(k.ra), int16(k.rb)
		v.gPair[i], v.gPair[i+1] = int16(k.ga), int16(k.gb)
		v.bPair[i], v.bPair[i+1] = int16(k.ba), int16(k.bb)
	}
	for i := range 8 {
		v.yoff[i], v.c128[i], v.ones[i] = int16(k.yoff), 128, 1
	}
	v.lanes = [8]int16{int16(k.cy), int16(k.yoff), int16(k.ra), int16(k.rb), int16(k.ga), int16(k.gb), int16(k.ba), int16(k.bb)}
	return v
}

// YUVImage is a YUV 4:2:0 picture in memory: a luma plane and either one
// interleaved chroma plane (NV12, NV21: C holds both) or two (YUV420,
// YVU420: C is the first chroma plane in memory, C2 the second).
type YUVImage struct {
	Format        Format
	Width, Height int
	Y             []byte
	YStride       int
	C, C2         []byte
	CStride       int
	C2Stride      int
	Color         Colorimetry
}

// Validate reports why m cannot be converted: an unknown format, strides
// shorter than a row, or planes shorter than their last row needs.
func (m *YUVImage) Validate() error {
	if m == nil {
		return fmt.Errorf("nil image")
	}
	if !m.Format.IsYUV() {
		return fmt.Errorf("%v is not a YUV format", m.Format)
	}
	if m.Width <= 0 || m.Height <= 0 || m.Width > maxDim || m.Height > maxDim {
		return fmt.Errorf("bad YUV image size %dx%d", m.Width, m.Height)
	}
	check := func(name string, pix []byte, stride, plane int) error {
		row, rows := m.Format.PlaneSize(plane, m.Width, m.Height)
		if stride < row || stride > maxStride {
			return fmt.Errorf("%s stride %d, want %d to %d", name, stride, row, maxStride)
		}
		if need := int64(rows-1)*int64(stride) + int64(row); int64(len(pix)) < need {
			return fmt.Errorf("%s plane of a %dx%d %v image needs %d bytes, have %d", name, m.Width, m.Height, m.Format, need, len(pix))
		}
		return nil
	}
	if err := check("luma", m.Y, m.YStride, 0); err != nil {
		return err
	}
	if err := check("chroma", m.C, m.CStride, 1); err != nil {
		return err
	}
	if m.Format.Planes() == 3 {
		return check("second chroma", m.C2, m.C2Stride, 2)
	}
	return nil
}

// YUVLayer is a YUV buffer to draw, as Layer is for RGB ones. YUV
// content is always opaque.
type YUVLayer struct {
	Src       *YUVImage
	SrcRect   image.Rectangle
	Transform Transform
	Dst       image.Rectangle
}

// YUVConverter draws YUV layers into the shadow image. It keeps the
// buffers a conversion needs between frames (a chroma row for planar
// formats; a converted copy of the source for scaled or transformed
// layers), so keep one per output; the zero value is ready to use. A
// YUVConverter must not be used by two goroutines at once.
type YUVConverter struct {
	chroma  []byte
	scratch Image
	// kernel, when not nil, replaces the platform's row kernel (tests
	// use it to compare kernels).
	kernel yuvRowKernel
	// cache of the last colorimetry's constants.
	coefFor  [2]Colorimetry
	coef     [2]yuvCoef
	consts   [2]*yuvConsts
	haveCoef [2]bool
}

// yuvRowKernel converts n pixels (n > 0): luma y[0:n], chroma pairs
// c[0:n] (one pair per two pixels, n even), into XRGB8888 at d[0:4n].
type yuvRowKernel func(d, y, c []byte, n int, k *yuvCoef, v *yuvConsts)

func (cv *YUVConverter) rowKernel() yuvRowKernel {
	if cv.kernel != nil {
		return cv.kernel
	}
	return platformYUVRow
}

func (cv *YUVConverter) coefficients(c Colorimetry, swapped bool) (*yuvCoef, *yuvConsts) {
	i := 0
	if swapped {
		i = 1
	}
	if !cv.haveCoef[i] || cv.coefFor[i] != c {
		cv.coef[i] = newYUVCoef(c, swapped)
		cv.consts[i] = cv.coef[i].consts()
		cv.coefFor[i], cv.haveCoef[i] = c, true
	}
	return &cv.coef[i], cv.consts[i]
}

// Draw converts l into dst (an XRGB8888 or ARGB8888 shadow, alpha set to
// 0xff), touching only pixels inside clip ∩ l.Dst ∩ dst.Bounds(). An
// unscaled, untransformed layer is converted straight from the planes,
// row by row; any other is converted into system memory first (only the
// source pixels the clip samples) and then drawn like an RGB layer, with
// the same nearest-neighbour sampling. Chroma is taken from the sample
// that covers each pixel (no interpolation). Invalid images make Draw a
// no-op.
func (cv *YUVConverter) Draw(dst *Image, l YUVLayer, clip image.Rectangle) {
	src, sr, t := l.Src, l.SrcRect, l.Transform
	if !isShadowFormat(dst) || !dst.valid() || src.Validate() != nil || !t.Valid() {
		return
	}
	if !layerSizeOK(sr) || !layerSizeOK(l.Dst) {
		return
	}
	area := clip.Intersect(l.Dst).Intersect(dst.Bounds())
	vis := sr.Intersect(image.Rect(0, 0, src.Width, src.Height))
	if area.Empty() || vis.Empty() {
		return
	}
	tw, th := t.TransformSize(sr.Dx(), sr.Dy())
	if t == Normal && tw == l.Dst.Dx() && th == l.Dst.Dy() {
		// Source pixel = destination pixel + off.
		off := sr.Min.Sub(l.Dst.Min)
		area = area.Intersect(vis.Sub(off))
		if area.Empty() {
			return
		}
		cv.convert(dst, area, src, area.Min.Add(off))
		return
	}
	// Which source pixels the clipped area samples: the sample positions
	// are monotonic, so the first and last destination pixel bound them.
	dw, dh := l.Dst.Dx(), l.Dst.Dy()
	u0, u1 := area.Min.X-l.Dst.Min.X, area.Max.X-1-l.Dst.Min.X
	v0, v1 := area.Min.Y-l.Dst.Min.Y, area.Max.Y-1-l.Dst.Min.Y
	tr := image.Rect(sample(u0, tw, dw), sample(v0, th, dh), sample(u1, tw, dw)+1, sample(v1, th, dh)+1)
	need := t.Rect(tr, tw, th).Add(sr.Min).Intersect(vis)
	if need.Empty() {
		return
	}
	s := cv.scratchFor(src.Width, src.Height)
	cv.convert(s, need, src, need.Min)
	Draw(dst, Layer{Src: s, SrcRect: sr, Transform: t, Dst: l.Dst, Opaque: true}, area)
}

// scratchFor returns a w×h XRGB8888 image of system memory, reused while
// the size stays.
func (cv *YUVConverter) scratchFor(w, h int) *Image {
	s := &cv.scratch
	if s.Width != w || s.Height != h {
		if cap(s.Pix) < w*h*4 {
			s.Pix = make([]byte, w*h*4)
		}
		*s = Image{Pix: s.Pix[:w*h*4], Stride: w * 4, Width: w, Height: h, Format: XRGB8888}
	}
	return s
}

// convert writes the source pixels from sp on into dst's rectangle area.
func (cv *YUVConverter) convert(dst *Image, area image.Rectangle, src *YUVImage, sp image.Point) {
	swapped := src.Format == NV21 || src.Format == YVU420
	k, v := cv.coefficients(src.Color, swapped)
	kernel := cv.rowKernel()
	w := area.Dx()
	planar := src.Format.Planes() == 3
	// Chroma for columns [cx0, cx1) of the source: whole pairs, so an
	// odd first column takes the pair it shares with its left
	// neighbour.
	x0 := sp.X
	cx0, cx1 := x0/2, (x0+w+1)/2
	if planar && cap(cv.chroma) < 2*(cx1-cx0) {
		cv.chroma = make([]byte, 2*(cx1-cx0))
	}
	var pair [4]byte
	for row := 0; row < area.Dy(); row++ {
		sy := sp.Y + row
		yrow := src.Y[sy*src.YStride:]
		var crow []byte
		if planar {
			// Interleave the two chroma planes' samples of this row,
			// so one kernel serves every format.
			o, o2 := (sy/2)*src.CStride, (sy/2)*src.C2Stride
			a, b := src.C[o+cx0:o+cx1], src.C2[o2+cx0:o2+cx1]
			crow = cv.chroma[:2*(cx1-cx0)]
			for i := range a {
				crow[2*i], crow[2*i+1] = a[i], b[i]
			}
		} else {
			o := (sy/2)*src.CStride + 2*cx0
			crow = src.C[o : o+2*(cx1-cx0)]
		}
		d := dst.Pix[(area.Min.Y+row)*dst.Stride+area.Min.X*4:][:4*w]
		x, n, c := x0, w, crow
		if x&1 == 1 {
			// Odd first column: the second pixel of its pair.
			pair[0], pair[1] = c[0], c[1]
			var px [8]byte
			yy := [2]byte{yrow[x-1], yrow[x]}
			yuvRowGo(px[:], yy[:], pair[:2], 2, k, v)
			copy(d[:4], px[4:])
			d, x, n, c = d[4:], x+1, n-1, c[2:]
		}
		if even := n &^ 1; even > 0 {
			kernel(d, yrow[x:x+even], c[:even], even, k, v)
			d, x, n, c = d[4*even:], x+even, n-even, c[even:]
		}
		if n == 1 {
			// Odd last column: the first pixel of its pair.
			var px [8]byte
			yy := [2]byte{yrow[x], yrow[x]}
			yuvRowGo(px[:], yy[:], c[:2], 2, k, v)
			copy(d[:4], px[:4])
		}
	}
}

// yuvRowGo is the portable row kernel: the arithmetic of yuvCoef, one
// pixel at a time.
func yuvRowGo(d, y, c []byte, n int, k *yuvCoef, _ *yuvConsts) {
	d, y, c = d[:4*n], y[:n], c[:n]
	for i := 0; i+1 < n; i += 2 {
		a, b := int32(c[i])-128, int32(c[i+1])-128
		r := k.ra*a + k.rb*b + 1<<(coefBits-1)
		g := k.ga*a + k.gb*b + 1<<(coefBits-1)
		bl := k.ba*a + k.bb*b + 1<<(coefBits-1)
		for j := i; j < i+2; j++ {
			l := k.cy * (int32(y[j]) - k.yoff)
			p := d[4*j : 4*j+4]
			p[0] = clamp8((l + bl) >> coefBits)
			p[1] = clamp8((l + g) >> coefBits)
			p[2] = clamp8((l + r) >> coefBits)
			p[3] = 0xff
		}
	}
}

func clamp8(v int32) byte {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return byte(v)
}

// YUVToRGB converts one pixel as Draw does.
func YUVToRGB(c Colorimetry, y, u, v uint8) (r, g, b uint8) {
	k := newYUVCoef(c, false)
	var px [8]byte
	yuvRowGo(px[:], []byte{y, y}, []byte{u, v}, 2, &k, nil)
	return px[2], px[1], px[0]
}

// RGBToYUV is the forward conversion, for clients that make YUV buffers
// from RGB drawings (the examples, tests): rounded to the nearest code,
// clamped.
func RGBToYUV(c Colorimetry, r, g, b uint8) (y, u, v uint8) {
	kr, kb := 0.299, 0.114
	if c.Matrix == BT709 {
		kr, kb = 0.2126, 0.0722
	}
	fr, fg, fb := float64(r), float64(g), float64(b)
	ly := kr*fr + (1-kr-kb)*fg + kb*fb
	cb := (fb - ly) / (2 * (1 - kb))
	cr := (fr - ly) / (2 * (1 - kr))
	if c.Range == Limited {
		ly = 16 + ly*219/255
		cb, cr = cb*224/255, cr*224/255
	}
	q := func(x float64) uint8 { return uint8(math.Max(0, math.Min(255, math.Round(x)))) }
	return q(ly), q(128 + cb), q(128 + cr)
}
