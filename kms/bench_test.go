package kms

import (
	"image"
	"testing"

	"github.com/vitrine-wm/vitrine/render"
)

// The destination is a plain []byte standing in for a mapped dumb buffer;
// the benchmarks compare the copy strategies Output uses, not the memory
// type (write-combined memory is slower still for anything but sequential
// writes, which is why CopyOut writes rows in order).

const benchW, benchH = 1920, 1080

func benchImages(t render.Transform) (dst, src *render.Image) {
	src = render.NewImage(benchW, benchH, render.XRGB8888)
	for i := range src.Pix {
		src.Pix[i] = byte(i * 7)
	}
	w, h := t.TransformSize(benchW, benchH)
	return render.NewImage(w, h, render.XRGB8888), src
}

// BenchmarkMemmove is the reference: copy() of one full frame.
func BenchmarkMemmove(b *testing.B) {
	dst, src := benchImages(render.Normal)
	b.SetBytes(int64(len(src.Pix)))
	for b.Loop() {
		copy(dst.Pix, src.Pix)
	}
}

// BenchmarkMemmoveRows is copy() row by row, as a copy into a buffer
// whose pitch differs from the shadow's must go.
func BenchmarkMemmoveRows(b *testing.B) {
	dst, src := benchImages(render.Normal)
	b.SetBytes(int64(len(src.Pix)))
	for b.Loop() {
		for y := 0; y < benchH; y++ {
			o := y * src.Stride
			copy(dst.Pix[o:o+benchW*4], src.Pix[o:o+benchW*4])
		}
	}
}

// BenchmarkCopyFull is a full-frame CopyOut; the goal is within 1.1× of
// BenchmarkMemmove.
func BenchmarkCopyFull(b *testing.B) {
	dst, src := benchImages(render.Normal)
	rects := []image.Rectangle{src.Bounds()}
	b.SetBytes(int64(len(src.Pix)))
	for b.Loop() {
		render.CopyOut(dst, src, rects, render.Normal)
	}
}

// BenchmarkCopyFullRotate90 is the same frame turned 90°; the goal is
// within 1.5× of BenchmarkCopyFull.
func BenchmarkCopyFullRotate90(b *testing.B) {
	dst, src := benchImages(render.Rotate90)
	rects := []image.Rectangle{src.Bounds()}
	b.SetBytes(int64(len(src.Pix)))
	for b.Loop() {
		render.CopyOut(dst, src, rects, render.Rotate90)
	}
}

func BenchmarkCopyFullRotate180(b *testing.B) {
	dst, src := benchImages(render.Rotate180)
	rects := []image.Rectangle{src.Bounds()}
	b.SetBytes(int64(len(src.Pix)))
	for b.Loop() {
		render.CopyOut(dst, src, rects, render.Rotate180)
	}
}

// movingBoxDamage is what a double-buffered output copies per frame of the
// moving box (64×64, 8 px per frame): the union since the buffer's last
// frame, made disjoint.
func movingBoxDamage() []image.Rectangle {
	r := NewDamageRing(4)
	box := func(x int) image.Rectangle { return image.Rect(x, 256, x+64, 320) }
	r.Add([]image.Rectangle{image.Rect(0, 0, benchW, benchH)}) // frame 1: the buffer's last
	r.Add([]image.Rectangle{box(0), box(8)})
	r.Add([]image.Rectangle{box(8), box(16)})
	rects, full := r.Since(1, image.Rect(0, 0, benchW, benchH))
	if full {
		panic("moving box damage: ring reported a full redraw")
	}
	return rects
}

// BenchmarkCopyDamage copies only the moving box damage: the bytes per
// frame are the box union, not the screen.
func BenchmarkCopyDamage(b *testing.B) {
	dst, src := benchImages(render.Normal)
	rects := movingBoxDamage()
	n := render.CopyOut(dst, src, rects, render.Normal)
	b.SetBytes(int64(n))
	b.ReportMetric(float64(n), "bytes/frame")
	for b.Loop() {
		render.CopyOut(dst, src, rects, render.Normal)
	}
}

func BenchmarkCopyDamageRotate90(b *testing.B) {
	dst, src := benchImages(render.Rotate90)
	rects := movingBoxDamage()
	n := render.CopyOut(dst, src, rects, render.Rotate90)
	b.SetBytes(int64(n))
	b.ReportMetric(float64(n), "bytes/frame")
	for b.Loop() {
		render.CopyOut(dst, src, rects, render.Rotate90)
	}
}

// BenchmarkDamageSince is the bookkeeping cost per frame.
func BenchmarkDamageSince(b *testing.B) {
	r := NewDamageRing(8)
	bounds := image.Rect(0, 0, benchW, benchH)
	n := 0
	for b.Loop() {
		x := (n * 8) % (benchW - 64)
		r.Add([]image.Rectangle{image.Rect(x, 0, x+64, 64), image.Rect(x+8, 0, x+72, 64)})
		r.Since(r.Seq()-2, bounds)
		n++
	}
}
