package render

import (
	"image"
	"math/rand/v2"
	"testing"
	"time"
)

const benchW, benchH = 1920, 1080

func benchImage(f Format) *Image {
	rng := rand.New(rand.NewPCG(42, 42))
	m := NewImage(benchW, benchH, f)
	for i := range m.Pix {
		m.Pix[i] = byte(rng.Uint32())
	}
	return m
}

// benchWindow is an ARGB8888 image shaped like a real client window with
// client-side decorations: a transparent margin, a soft shadow ramp and an
// opaque body, so the alpha mix is realistic rather than uniform noise.
func benchWindow() *Image {
	m := NewImage(benchW, benchH, ARGB8888)
	const margin, ramp = 24, 24
	for y := 0; y < benchH; y++ {
		for x := 0; x < benchW; x++ {
			d := min(x, y, benchW-1-x, benchH-1-y)
			var px uint32
			switch {
			case d < margin:
				px = 0
			case d < margin+ramp:
				a := uint32((d - margin) * 255 / ramp)
				px = a << 24 // black shadow, premultiplied
			default:
				c := uint32(x ^ y)
				px = 0xff000000 | c&0xff<<16 | c>>2&0xff<<8 | c>>4&0xff
			}
			m.SetPixelARGB(x, y, px)
		}
	}
	return m
}

// benchTranslucent is an ARGB8888 image where every pixel has a different
// alpha: the worst case for OVER, with no skip or copy shortcuts.
func benchTranslucent() *Image {
	rng := rand.New(rand.NewPCG(1, 1))
	m := NewImage(benchW, benchH, ARGB8888)
	for y := 0; y < benchH; y++ {
		for x := 0; x < benchW; x++ {
			a := uint32(1 + rng.IntN(254))
			m.SetPixelARGB(x, y, a<<24|a/2<<16|a/3<<8|a/4)
		}
	}
	return m
}

func BenchmarkMemcpy1080p(b *testing.B) {
	src, dst := benchImage(XRGB8888), NewImage(benchW, benchH, XRGB8888)
	b.SetBytes(int64(len(src.Pix)))
	for b.Loop() {
		copy(dst.Pix, src.Pix)
	}
}

// BenchmarkMemcpyRows1080p copies the same bytes one 7680-byte row at a
// time, the shape of every copy in this package. Go's memmove switches to
// non-temporal stores at 1 MiB, which makes one big copy() of a frame that
// would fit in the cache slower than row copies; this is the like-for-like
// yardstick.
func BenchmarkMemcpyRows1080p(b *testing.B) {
	src, dst := benchImage(XRGB8888), NewImage(benchW, benchH, XRGB8888)
	b.SetBytes(int64(len(src.Pix)))
	for b.Loop() {
		for y := 0; y < benchH; y++ {
			copy(dst.Pix[y*dst.Stride:][:benchW*4], src.Pix[y*src.Stride:][:benchW*4])
		}
	}
}

func BenchmarkCompositeOpaque1080p(b *testing.B) {
	src, dst := benchImage(XRGB8888), NewImage(benchW, benchH, XRGB8888)
	l := Layer{Src: src, SrcRect: src.Bounds(), Dst: dst.Bounds(), Opaque: true}
	b.SetBytes(int64(len(src.Pix)))
	for b.Loop() {
		Draw(dst, l, dst.Bounds())
	}
}

func BenchmarkOverARGB1080p(b *testing.B) {
	for _, bc := range []struct {
		name string
		src  *Image
	}{
		{"window", benchWindow()},           // transparent margin, shadow ramp, opaque body
		{"translucent", benchTranslucent()}, // every pixel blended
	} {
		b.Run(bc.name, func(b *testing.B) {
			dst := benchImage(XRGB8888)
			l := Layer{Src: bc.src, SrcRect: bc.src.Bounds(), Dst: dst.Bounds()}
			b.SetBytes(int64(len(bc.src.Pix)))
			for b.Loop() {
				Draw(dst, l, dst.Bounds())
			}
		})
	}
}

// BenchmarkDamage draws a full-screen opaque layer clipped to 1%, 10% and
// 100% of the screen: the cost must follow the damage, not the screen size.
func BenchmarkDamage(b *testing.B) {
	src, dst := benchImage(XRGB8888), NewImage(benchW, benchH, XRGB8888)
	l := Layer{Src: src, SrcRect: src.Bounds(), Dst: dst.Bounds(), Opaque: true}
	for _, bc := range []struct {
		name string
		clip image.Rectangle
	}{
		{"1pct", image.Rect(800, 400, 800+192, 400+108)},  // 1.00%
		{"10pct", image.Rect(600, 300, 600+607, 300+342)}, // 10.01%
		{"100pct", image.Rect(0, 0, benchW, benchH)},      // 100%
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(bc.clip.Dx() * bc.clip.Dy() * 4))
			for b.Loop() {
				Draw(dst, l, bc.clip)
			}
		})
	}
}

// BenchmarkCopyOutRatio measures each transform side by side with the
// plain copy: every iteration does one full-frame unrotated CopyOut and
// one transformed, timing each, so both see the same moment of a shared
// machine (separate benchmarks on a busy 2-core VM drift by ±30% between
// runs). It reports the transformed copy's cost as a multiple of the plain
// one's ("x-plain"); the goal for 90° is 1.5.
func BenchmarkCopyOutRatio(b *testing.B) {
	src := benchImage(XRGB8888)
	full := []image.Rectangle{src.Bounds()}
	plain := NewImage(benchW, benchH, XRGB8888)
	for _, bc := range []struct {
		name  string
		t     Transform
		tiles []tileKernel
	}{
		{"90", Rotate90, nil},
		{"180", Rotate180, nil},
		{"270", Rotate270, nil},
		{"flipped-90", Flipped90, nil},
		// The portable banded transpose, as 32-bit arm runs it.
		{"90-scalar", Rotate90, []tileKernel{}},
	} {
		t := bc.t
		b.Run(bc.name, func(b *testing.B) {
			tw, th := t.TransformSize(benchW, benchH)
			dst := NewImage(tw, th, XRGB8888)
			c := Copier{tiles: bc.tiles}
			var plainNs, turnedNs time.Duration
			for b.Loop() {
				t0 := time.Now()
				c.CopyOut(plain, src, full, Normal)
				t1 := time.Now()
				c.CopyOut(dst, src, full, t)
				plainNs += t1.Sub(t0)
				turnedNs += time.Since(t1)
			}
			b.ReportMetric(float64(turnedNs)/float64(plainNs), "x-plain")
		})
	}
}

// BenchmarkCopyOutVsCopy is the same side-by-side measure for the
// unrotated full-frame CopyOut against one copy() of the same bytes; the
// goal is 1.1.
func BenchmarkCopyOutVsCopy(b *testing.B) {
	src := benchImage(XRGB8888)
	full := []image.Rectangle{src.Bounds()}
	dst, raw := NewImage(benchW, benchH, XRGB8888), NewImage(benchW, benchH, XRGB8888)
	var c Copier
	var copyNs, outNs time.Duration
	for b.Loop() {
		t0 := time.Now()
		copy(raw.Pix, src.Pix)
		t1 := time.Now()
		c.CopyOut(dst, src, full, Normal)
		copyNs += t1.Sub(t0)
		outNs += time.Since(t1)
	}
	b.ReportMetric(float64(outNs)/float64(copyNs), "x-copy")
}

func BenchmarkCopyOut(b *testing.B) {
	src := benchImage(XRGB8888)
	full := []image.Rectangle{src.Bounds()}
	// Ten percent of the screen as a few separate rectangles, as a typical
	// frame's damage (a text cursor, a changed line, a clock) looks.
	damage := []image.Rectangle{
		image.Rect(100, 100, 100+600, 100+200), // 120000
		image.Rect(900, 500, 900+300, 500+200), // 60000
		image.Rect(0, 1000, 1920, 1000+15),     // 28800
	}
	box := []image.Rectangle{image.Rect(701, 333, 701+64, 333+64)}
	for _, bc := range []struct {
		name  string
		rects []image.Rectangle
		t     Transform
		f     Format
	}{
		{"full", full, Normal, XRGB8888},
		{"damage10pct", damage, Normal, XRGB8888},
		{"rot90", full, Rotate90, XRGB8888},
		{"rot180", full, Rotate180, XRGB8888},
		{"rot270", full, Rotate270, XRGB8888},
		{"flipped", full, Flipped, XRGB8888},
		{"rgb565", full, Normal, RGB565},
		{"rot90-rgb565", full, Rotate90, RGB565},
		{"xbgr", full, Normal, XBGR8888},
		{"argb", full, Normal, ARGB8888},
		{"flipped90", full, Flipped90, XRGB8888},
		{"flipped270", full, Flipped270, XRGB8888},
		{"flipped180", full, Flipped180, XRGB8888},
		{"rot180-rgb565", full, Rotate180, RGB565},
		{"rot90-xbgr", full, Rotate90, XBGR8888},
		{"rot90-damage10pct", damage, Rotate90, XRGB8888},
		// One 64x64 box, the size of a typical small damage (a cursor
		// trail, a clock digit): one band, cost dominated by set-up. It
		// sits off the band and cache-line grid on purpose.
		{"rot90-box64", box, Rotate90, XRGB8888},
		{"rot270-box64", box, Rotate270, XRGB8888},
		{"box64", box, Normal, XRGB8888},
	} {
		b.Run(bc.name, func(b *testing.B) {
			tw, th := bc.t.TransformSize(benchW, benchH)
			dst := NewImage(tw, th, bc.f)
			n := CopyOut(dst, src, bc.rects, bc.t)
			if n == 0 {
				b.Fatal("CopyOut wrote nothing")
			}
			b.SetBytes(int64(n))
			for b.Loop() {
				CopyOut(dst, src, bc.rects, bc.t)
			}
		})
	}
	// A Copier kept between frames, as an output would: no band buffer
	// allocation per frame.
	b.Run("rot90-copier", func(b *testing.B) {
		var c Copier
		dst := NewImage(benchH, benchW, XRGB8888)
		b.SetBytes(int64(c.CopyOut(dst, src, full, Rotate90)))
		for b.Loop() {
			c.CopyOut(dst, src, full, Rotate90)
		}
	})
	b.Run("rot90-box64-copier", func(b *testing.B) {
		var c Copier
		dst := NewImage(benchH, benchW, XRGB8888)
		b.SetBytes(int64(c.CopyOut(dst, src, box, Rotate90)))
		for b.Loop() {
			c.CopyOut(dst, src, box, Rotate90)
		}
	})
	// The yardsticks, side by side with the above: one copy() of the frame
	// and one copy() per row (see BenchmarkMemcpyRows1080p).
	b.Run("memcpy", func(b *testing.B) {
		dst := NewImage(benchW, benchH, XRGB8888)
		b.SetBytes(int64(len(src.Pix)))
		for b.Loop() {
			copy(dst.Pix, src.Pix)
		}
	})
	b.Run("memcpy-rows", func(b *testing.B) {
		dst := NewImage(benchW, benchH, XRGB8888)
		b.SetBytes(int64(len(src.Pix)))
		for b.Loop() {
			for y := 0; y < benchH; y++ {
				copy(dst.Pix[y*dst.Stride:][:benchW*4], src.Pix[y*src.Stride:][:benchW*4])
			}
		}
	})
}

// BenchmarkDrawScaled is a 1280x720 opaque video frame upscaled to 1080p,
// the common kiosk case, and the same frame with a 90° buffer transform.
func BenchmarkDrawScaled(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, bc := range []struct {
		name string
		t    Transform
	}{
		{"720p-to-1080p", Normal},
		{"720p-to-1080p-rot90", Rotate90},
	} {
		b.Run(bc.name, func(b *testing.B) {
			sw, sh := bc.t.TransformSize(1280, 720)
			src := randomImage(rng, sw, sh, XRGB8888)
			dst := NewImage(benchW, benchH, XRGB8888)
			l := Layer{Src: src, SrcRect: src.Bounds(), Transform: bc.t, Dst: dst.Bounds(), Opaque: true}
			b.SetBytes(int64(len(dst.Pix)))
			for b.Loop() {
				Draw(dst, l, dst.Bounds())
			}
		})
	}
}
