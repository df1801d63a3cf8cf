package render

import (
	"image"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// refYUVMatrix is the conversion written out from the standards'
// published matrices (ITU-R BT.601 and BT.709, as in Poynton's "Digital
// Video and HD"): R, G, B from Y', Cb, Cr in full-range terms, in
// floating point.
func refYUVMatrix(m Matrix) (rv, gu, gv, bu float64) {
	if m == BT709 {
		return 1.5748, -0.187324, -0.468124, 1.8556
	}
	return 1.402, -0.344136, -0.714136, 1.772
}

// refYUVExact converts one pixel exactly (float, rounded once).
func refYUVExact(c Colorimetry, y, u, v uint8) (r, g, b float64) {
	rv, gu, gv, bu := refYUVMatrix(c.Matrix)
	fy, fu, fv := float64(y), float64(u)-128, float64(v)-128
	if c.Range == Limited {
		fy = (fy - 16) * 255 / 219
		fu, fv = fu*255/224, fv*255/224
	}
	return fy + rv*fv, fy + gu*fu + gv*fv, fy + bu*fu
}

// refYUVFixed is the reference the kernels must match byte for byte:
// the same matrices in 13-bit fixed point, computed with int64 and
// rounded half up, clamped.
func refYUVFixed(c Colorimetry, y, u, v uint8) (r, g, b uint8) {
	rv, gu, gv, bu := refYUVMatrix(c.Matrix)
	ys, cs, yoff := 1.0, 1.0, int64(0)
	if c.Range == Limited {
		ys, cs, yoff = 255.0/219, 255.0/224, 16
	}
	fix := func(x float64) int64 { return int64(math.Round(x * 8192)) }
	ly := fix(ys) * (int64(y) - yoff)
	du, dv := int64(u)-128, int64(v)-128
	ch := func(x int64) uint8 {
		x = (x + 4096) >> 13
		return uint8(max(0, min(255, x)))
	}
	return ch(ly + fix(rv*cs)*dv), ch(ly + fix(gu*cs)*du + fix(gv*cs)*dv), ch(ly + fix(bu*cs)*du)
}

var colorimetries = []Colorimetry{{BT601, Limited}, {BT601, Full}, {BT709, Limited}, {BT709, Full}}

// TestYUVCloseToExact: the fixed-point reference is within ±1 of the
// exact conversion for every code combination the matrices can see.
func TestYUVCloseToExact(t *testing.T) {
	for _, c := range colorimetries {
		worst := 0.0
		for y := 0; y < 256; y += 3 {
			for u := 0; u < 256; u += 5 {
				for v := 0; v < 256; v += 7 {
					r, g, b := refYUVFixed(c, uint8(y), uint8(u), uint8(v))
					er, eg, eb := refYUVExact(c, uint8(y), uint8(u), uint8(v))
					for i, p := range [3][2]float64{{float64(r), er}, {float64(g), eg}, {float64(b), eb}} {
						want := math.Max(0, math.Min(255, math.Round(p[1])))
						if d := math.Abs(p[0] - want); d > worst {
							worst = d
							if d > 1 {
								t.Fatalf("%v: Y=%d U=%d V=%d channel %d: fixed %v, exact %.3f", c, y, u, v, i, p[0], p[1])
							}
						}
					}
				}
			}
		}
		t.Logf("%v: worst difference from the exact conversion %v", c, worst)
	}
}

// TestYUVKnownColours checks the reference itself on values anyone can
// look up: black and white at both ranges, and BT.601/BT.709 red.
func TestYUVKnownColours(t *testing.T) {
	for _, tc := range []struct {
		c       Colorimetry
		y, u, v uint8
		want    [3]uint8
	}{
		{Colorimetry{BT709, Limited}, 16, 128, 128, [3]uint8{0, 0, 0}},
		{Colorimetry{BT709, Limited}, 235, 128, 128, [3]uint8{255, 255, 255}},
		{Colorimetry{BT601, Full}, 255, 128, 128, [3]uint8{255, 255, 255}},
		{Colorimetry{BT601, Limited}, 81, 90, 240, [3]uint8{255, 0, 0}},  // BT.601 red
		{Colorimetry{BT709, Limited}, 63, 102, 240, [3]uint8{255, 0, 0}}, // BT.709 red
	} {
		r, g, b := refYUVFixed(tc.c, tc.y, tc.u, tc.v)
		got := [3]uint8{r, g, b}
		for i := range got {
			if d := int(got[i]) - int(tc.want[i]); d < -2 || d > 2 {
				t.Errorf("%v Y=%d U=%d V=%d: %v, want %v", tc.c, tc.y, tc.u, tc.v, got, tc.want)
				break
			}
		}
	}
}

// randomYUV makes a w×h image of format f with padded strides and random
// codes, including values outside the limited range.
func randomYUV(rng *rand.Rand, f Format, w, h int, c Colorimetry) *YUVImage {
	yRow, yRows := f.PlaneSize(0, w, h)
	cRow, cRows := f.PlaneSize(1, w, h)
	m := &YUVImage{Format: f, Width: w, Height: h, YStride: yRow + 13, CStride: cRow + 7, C2Stride: cRow + 3, Color: c}
	fill := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	m.Y = fill(m.YStride*(yRows-1) + yRow)
	m.C = fill(m.CStride*(cRows-1) + cRow)
	if f.Planes() == 3 {
		m.C2 = fill(m.C2Stride*(cRows-1) + cRow)
	}
	return m
}

// refYUVAt reads pixel (x, y) of m with the reference, chroma from the
// sample that covers it.
func refYUVAt(m *YUVImage, x, y int) uint32 {
	yy := m.Y[y*m.YStride+x]
	var u, v byte
	o := (y / 2) * m.CStride
	switch m.Format {
	case NV12:
		u, v = m.C[o+2*(x/2)], m.C[o+2*(x/2)+1]
	case NV21:
		v, u = m.C[o+2*(x/2)], m.C[o+2*(x/2)+1]
	case YUV420:
		u, v = m.C[o+x/2], m.C2[(y/2)*m.C2Stride+x/2]
	case YVU420:
		v, u = m.C[o+x/2], m.C2[(y/2)*m.C2Stride+x/2]
	}
	r, g, b := refYUVFixed(m.Color, yy, u, v)
	return 0xff000000 | uint32(r)<<16 | uint32(g)<<8 | uint32(b)
}

var yuvFormats = []Format{NV12, NV21, YUV420, YVU420}

// TestYUVDrawMatchesReference converts random images of every format and
// colorimetry, odd sizes and odd clip rectangles included, and compares
// every pixel with the reference; pixels outside the clip must stay.
func TestYUVDrawMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, f := range yuvFormats {
		for _, c := range colorimetries {
			for _, size := range []image.Point{{1, 1}, {2, 2}, {7, 5}, {33, 17}, {64, 48}} {
				src := randomYUV(rng, f, size.X, size.Y, c)
				for trial := 0; trial < 4; trial++ {
					dst := NewImage(size.X+6, size.Y+6, XRGB8888)
					for i := range dst.Pix {
						dst.Pix[i] = 0x5a
					}
					at := image.Pt(3, 2)
					x0, y0 := rng.IntN(size.X), rng.IntN(size.Y)
					clip := image.Rect(x0, y0, x0+1+rng.IntN(size.X-x0), y0+1+rng.IntN(size.Y-y0)).Add(at)
					if trial == 0 {
						clip = dst.Bounds()
					}
					var cv YUVConverter
					cv.Draw(dst, YUVLayer{Src: src, SrcRect: image.Rect(0, 0, size.X, size.Y), Dst: image.Rectangle{at, at.Add(size)}}, clip)
					in := clip.Intersect(image.Rectangle{at, at.Add(size)})
					for y := 0; y < dst.Height; y++ {
						for x := 0; x < dst.Width; x++ {
							got := dst.PixelARGB(x, y)
							want := uint32(0xff5a5a5a)
							if (image.Point{x, y}).In(in) {
								want = refYUVAt(src, x-at.X, y-at.Y)
							}
							if got != want {
								t.Fatalf("%v %v %v clip %v: pixel (%d,%d) = %08x, want %08x", f, c, size, clip, x, y, got, want)
							}
						}
					}
				}
			}
		}
	}
}

// TestYUVDrawScaledAndTurned: a viewported, transformed YUV layer is the
// reference conversion sampled the way Draw samples RGB layers.
func TestYUVDrawScaledAndTurned(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	src := randomYUV(rng, NV12, 40, 30, Colorimetry{BT709, Limited})
	rgb := NewImage(40, 30, XRGB8888)
	for y := 0; y < 30; y++ {
		for x := 0; x < 40; x++ {
			rgb.SetPixelARGB(x, y, refYUVAt(src, x, y))
		}
	}
	for _, tc := range []struct {
		t   Transform
		sr  image.Rectangle
		dst image.Rectangle
	}{
		{Normal, image.Rect(5, 3, 37, 27), image.Rect(2, 2, 66, 50)},
		{Rotate90, image.Rect(0, 0, 40, 30), image.Rect(0, 0, 30, 40)},
		{Flipped270, image.Rect(1, 1, 39, 29), image.Rect(4, 0, 61, 76)},
		{Normal, image.Rect(0, 0, 40, 30), image.Rect(0, 0, 13, 11)},
	} {
		for _, clip := range []image.Rectangle{image.Rect(0, 0, 80, 80), image.Rect(7, 9, 21, 30)} {
			got, want := NewImage(80, 80, XRGB8888), NewImage(80, 80, XRGB8888)
			var cv YUVConverter
			cv.Draw(got, YUVLayer{Src: src, SrcRect: tc.sr, Transform: tc.t, Dst: tc.dst}, clip)
			Draw(want, Layer{Src: rgb, SrcRect: tc.sr, Transform: tc.t, Dst: tc.dst, Opaque: true}, clip)
			for i := 0; i < len(got.Pix); i += 4 {
				if got.PixelARGB(i/4%80, i/4/80) != want.PixelARGB(i/4%80, i/4/80) {
					t.Fatalf("%v %v→%v clip %v: pixel (%d,%d) = %08x, want %08x", tc.t, tc.sr, tc.dst, clip, i/4%80, i/4/80,
						got.PixelARGB(i/4%80, i/4/80), want.PixelARGB(i/4%80, i/4/80))
				}
			}
		}
	}
}

// TestYUVKernelsAgree runs the platform's vector kernel and the portable
// one on the same random rows of every length up to 70 and compares
// bytes (the NEON kernel runs here too: TestCopyOutOnArm64).
func TestYUVKernelsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	t.Logf("%d vector kernels", len(yuvKernels))
	if yuvVectorBuild && len(yuvKernels) == 0 {
		t.Fatal("no vector kernel on a vector build")
	}
	for _, c := range colorimetries {
		for _, swapped := range []bool{false, true} {
			k := newYUVCoef(c, swapped)
			v := k.consts()
			for n := 2; n <= 100; n += 2 {
				for trial := 0; trial < 20; trial++ {
					y, ch := make([]byte, n), make([]byte, n)
					for i := range y {
						y[i], ch[i] = byte(rng.Uint32()), byte(rng.Uint32())
					}
					if trial == 0 {
						for i := range y {
							y[i], ch[i] = 255*byte(i&1), 255*byte(i>>1&1) // extremes saturate
						}
					}
					a := make([]byte, 4*n)
					yuvRowGo(a, y, ch, n, &k, v)
					for ki, kernel := range yuvKernels {
						b := make([]byte, 4*n)
						kernel(b, y, ch, n, &k, v)
						for i := range a {
							if a[i] != b[i] {
								t.Fatalf("%v swapped=%v n=%d: byte %d (pixel %d channel %d): portable %d, vector kernel %d %d", c, swapped, n, i, i/4, i%4, a[i], ki, b[i])
							}
						}
					}
				}
			}
		}
	}
}

// TestYUVPlaneSize covers the layouts linux-dmabuf checks buffers with.
func TestYUVPlaneSize(t *testing.T) {
	for _, tc := range []struct {
		f         Format
		i, w, h   int
		row, rows int
	}{
		{NV12, 0, 1920, 1080, 1920, 1080},
		{NV12, 1, 1920, 1080, 1920, 540},
		{NV12, 1, 5, 3, 6, 2},
		{YUV420, 1, 5, 3, 3, 2},
		{YVU420, 2, 640, 480, 320, 240},
		{NV21, 2, 64, 64, 0, 0},
		{XRGB8888, 0, 10, 10, 40, 10},
	} {
		row, rows := tc.f.PlaneSize(tc.i, tc.w, tc.h)
		if row != tc.row || rows != tc.rows {
			t.Errorf("%v plane %d of %dx%d: %d×%d, want %d×%d", tc.f, tc.i, tc.w, tc.h, row, rows, tc.row, tc.rows)
		}
	}
	if got := DefaultColorimetry(1920, 1080); got != (Colorimetry{BT709, Limited}) {
		t.Errorf("1080p default %v", got)
	}
	if got := DefaultColorimetry(720, 576); got != (Colorimetry{BT601, Limited}) {
		t.Errorf("576p default %v", got)
	}
}

// TestYUVValidateRefusesShortPlanes: a client's claimed layout that the
// mapping cannot hold is refused, not read past.
func TestYUVValidateRefusesShortPlanes(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, f := range yuvFormats {
		m := randomYUV(rng, f, 16, 16, Colorimetry{})
		if err := m.Validate(); err != nil {
			t.Fatalf("%v: %v", f, err)
		}
		bad := *m
		bad.C = bad.C[:len(bad.C)-1]
		if bad.Validate() == nil {
			t.Errorf("%v: short chroma plane accepted", f)
		}
		bad = *m
		bad.YStride = 15
		if bad.Validate() == nil {
			t.Errorf("%v: short luma stride accepted", f)
		}
		if f.Planes() == 3 {
			bad = *m
			bad.C2 = nil
			if bad.Validate() == nil {
				t.Errorf("%v: missing third plane accepted", f)
			}
		}
		var cv YUVConverter
		dst := NewImage(16, 16, XRGB8888)
		cv.Draw(dst, YUVLayer{Src: &bad, SrcRect: image.Rect(0, 0, 16, 16), Dst: image.Rect(0, 0, 16, 16)}, dst.Bounds())
	}
}

// BenchmarkNV12VsCopy converts a 1080p NV12 frame into an XRGB8888
// shadow and, in the same iteration, does the unrotated full-frame
// CopyOut of an XRGB8888 frame of the same size, timing each (side by
// side, as BenchmarkCopyOutRatio, so both see the same moment of a
// shared machine). "x-copy" is the conversion's cost as a multiple of
// the copy's; the goal is 1.5.
func BenchmarkNV12VsCopy(b *testing.B) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, kc := range []struct {
		name   string
		kernel yuvRowKernel
	}{{"platform", nil}, {"portable", yuvRowGo}} {
		b.Run(kc.name, func(b *testing.B) {
			src := randomYUV(rng, NV12, benchW, benchH, Colorimetry{BT709, Limited})
			rgb := benchImage(XRGB8888)
			shadow, out := NewImage(benchW, benchH, XRGB8888), NewImage(benchW, benchH, XRGB8888)
			full := image.Rect(0, 0, benchW, benchH)
			cv := YUVConverter{kernel: kc.kernel}
			var c Copier
			l := YUVLayer{Src: src, SrcRect: full, Dst: full}
			var copyNs, convNs time.Duration
			for b.Loop() {
				t0 := time.Now()
				c.CopyOut(out, rgb, []image.Rectangle{full}, Normal)
				t1 := time.Now()
				cv.Draw(shadow, l, full)
				copyNs += t1.Sub(t0)
				convNs += time.Since(t1)
			}
			b.ReportMetric(float64(convNs)/float64(copyNs), "x-copy")
			b.ReportMetric(float64(convNs.Microseconds())/float64(b.N), "µs-convert")
			b.ReportMetric(float64(copyNs.Microseconds())/float64(b.N), "µs-copy")
		})
	}
}

// TestRGBToYUVRoundTrip: what a client makes of an RGB colour comes back
// within ±2 per channel (±1 for the saturated colours test patterns use).
func TestRGBToYUVRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, c := range colorimetries {
		for i := 0; i < 5000; i++ {
			r, g, b := uint8(rng.Uint32()), uint8(rng.Uint32()), uint8(rng.Uint32())
			tol := 3
			if i < 8 {
				r, g, b, tol = 255*uint8(i&1), 255*uint8(i>>1&1), 255*uint8(i>>2&1), 1
			}
			y, u, v := RGBToYUV(c, r, g, b)
			r2, g2, b2 := YUVToRGB(c, y, u, v)
			for _, d := range []int{int(r2) - int(r), int(g2) - int(g), int(b2) - int(b)} {
				if d < -tol || d > tol {
					t.Fatalf("%v: %d,%d,%d → %d,%d,%d → %d,%d,%d", c, r, g, b, y, u, v, r2, g2, b2)
				}
			}
		}
	}
}

// TestYUVDrawAllocatesNothing: after the first frame (which sizes the
// converter's buffers) an unscaled frame allocates nothing. (A scaled or
// turned one allocates what Draw's sampled path does for any layer: its
// column table.)
func TestYUVDrawAllocatesNothing(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, f := range []Format{NV12, YUV420} {
		src := randomYUV(rng, f, 64, 48, Colorimetry{BT601, Limited})
		dst := NewImage(128, 96, XRGB8888)
		var cv YUVConverter
		for _, l := range []YUVLayer{
			{Src: src, SrcRect: image.Rect(0, 0, 64, 48), Dst: image.Rect(3, 5, 67, 53)},
			{Src: src, SrcRect: image.Rect(1, 1, 63, 47), Dst: image.Rect(0, 0, 62, 46)},
		} {
			clip := image.Rect(5, 7, 41, 30)
			cv.Draw(dst, l, clip)
			if n := testing.AllocsPerRun(20, func() { cv.Draw(dst, l, clip) }); n != 0 {
				t.Errorf("%v %v: %v allocations per frame", f, l.Transform, n)
			}
		}
	}
}
