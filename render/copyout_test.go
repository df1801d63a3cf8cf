package render

import (
	"bytes"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"testing"
)

const sentinel = 0xa5

func sentinelImage(w, h int, f Format, pad int) *Image {
	bpp := f.BytesPerPixel()
	stride := w*bpp + pad
	m := &Image{Pix: bytes.Repeat([]byte{sentinel}, stride*h), Stride: stride, Width: w, Height: h, Format: f}
	return m
}

// checkCopyOut runs CopyOut and the reference on a sentinel-filled
// destination and checks: same pixels inside the transformed rects, the
// sentinel everywhere else (padding included), and the byte count.
func checkCopyOut(t *testing.T, src *Image, rects []image.Rectangle, tr Transform, df Format, pad int) error {
	t.Helper()
	return checkCopier(t, new(Copier), src, rects, tr, df, pad)
}

// checkCopier is checkCopyOut through c.
func checkCopier(t *testing.T, c *Copier, src *Image, rects []image.Rectangle, tr Transform, df Format, pad int) error {
	t.Helper()
	tw, th := tr.TransformSize(src.Width, src.Height)
	got := sentinelImage(tw, th, df, pad)
	want := sentinelImage(tw, th, df, pad)
	n := c.CopyOut(got, src, rects, tr)
	refCopyOut(want, src, rects, tr)
	if !bytes.Equal(got.Pix, want.Pix) {
		for i := range got.Pix {
			if got.Pix[i] != want.Pix[i] {
				y, x := i/got.Stride, (i%got.Stride)/df.BytesPerPixel()
				return fmt.Errorf("CopyOut %v to %v, rects %v: byte %d (pixel %d,%d) = %#x, want %#x",
					tr, df, rects, i, x, y, got.Pix[i], want.Pix[i])
			}
		}
	}
	wantN := 0
	for _, r := range rects {
		wantN += r.Intersect(src.Bounds()).Dx() * r.Intersect(src.Bounds()).Dy() * df.BytesPerPixel()
	}
	if n != wantN {
		return fmt.Errorf("CopyOut %v to %v, rects %v: returned %d bytes, want %d", tr, df, rects, n, wantN)
	}
	return nil
}

func TestCopyOutEachTransform(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	// Odd sizes, and one wider than two bands and not a multiple of one, so
	// the banded rotation path sees full and partial bands and odd tails.
	for _, size := range [][2]int{{45, 37}, {150, 71}} {
		testCopyOutEachTransform(t, randomImage(rng, size[0], size[1], XRGB8888))
	}
}

func testCopyOutEachTransform(t *testing.T, src *Image) {
	for tr := Normal; tr <= Flipped270; tr++ {
		for _, df := range allFormats {
			full := []image.Rectangle{src.Bounds()}
			if err := checkCopyOut(t, src, full, tr, df, 0); err != nil {
				t.Error(err)
			}
			damage := []image.Rectangle{image.Rect(3, 2, 20, 30), image.Rect(21, 0, 45, 1), image.Rect(30, 10, 44, 36)}
			if err := checkCopyOut(t, src, damage, tr, df, 8); err != nil {
				t.Error(err)
			}
		}
	}
}

// The property the scanout path relies on: nothing outside the transformed
// rects is ever written, whatever the rects are.
func TestCopyOutWritesOnlyRects(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for i := 0; i < 2000; i++ {
		src := randomImage(rng, 1+rng.IntN(40), 1+rng.IntN(40), XRGB8888)
		var rects []image.Rectangle
		// Disjoint rects: horizontal slices of random extent.
		y := -2
		for y < src.Height+2 && len(rects) < 4 {
			h := 1 + rng.IntN(10)
			x0 := rng.IntN(src.Width+4) - 2
			rects = append(rects, image.Rect(x0, y, x0+rng.IntN(src.Width+4), y+h))
			y += h + rng.IntN(3)
		}
		tr := Transform(rng.IntN(8))
		df := allFormats[rng.IntN(len(allFormats))]
		if err := checkCopyOut(t, src, rects, tr, df, rng.IntN(3)*4); err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
	}
}

// CopyOut into a destination that is not the transformed size of the
// source clips to what both cover.
func TestCopyOutMismatchedSize(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	src := randomImage(rng, 20, 10, XRGB8888)
	for tr := Normal; tr <= Flipped270; tr++ {
		tw, th := tr.TransformSize(20, 10)
		for _, size := range [][2]int{{tw - 3, th - 2}, {tw + 5, th + 1}} {
			dst := sentinelImage(size[0], size[1], XRGB8888, 0)
			want := sentinelImage(size[0], size[1], XRGB8888, 0)
			CopyOut(dst, src, []image.Rectangle{src.Bounds()}, tr)
			refCopyOut(want, src, []image.Rectangle{src.Bounds()}, tr)
			if !bytes.Equal(dst.Pix, want.Pix) {
				t.Errorf("%v into %dx%d differs from reference", tr, size[0], size[1])
			}
		}
	}
}

func TestCopyOutRejectsBadInput(t *testing.T) {
	src := NewImage(4, 4, XRGB8888)
	dst := sentinelImage(4, 4, XRGB8888, 0)
	all := []image.Rectangle{src.Bounds()}
	if n := CopyOut(dst, NewImage(4, 4, RGB565), all, Normal); n != 0 {
		t.Errorf("RGB565 source: %d bytes", n)
	}
	if n := CopyOut(dst, src, all, Transform(8)); n != 0 {
		t.Errorf("invalid transform: %d bytes", n)
	}
	if n := CopyOut(&Image{Pix: dst.Pix[:20], Stride: 16, Width: 4, Height: 4, Format: XRGB8888}, src, all, Normal); n != 0 {
		t.Errorf("short destination: %d bytes", n)
	}
	huge := image.Rect(math.MinInt, math.MinInt, math.MaxInt, math.MaxInt)
	if n := CopyOut(dst, src, []image.Rectangle{image.Rect(math.MinInt, 0, math.MinInt+3, 3)}, Rotate90); n != 0 {
		t.Errorf("far away rect: %d bytes", n)
	}
	if n := CopyOut(NewImage(4, 4, XRGB8888), src, []image.Rectangle{huge}, Rotate270); n != 64 {
		t.Errorf("huge rect: %d bytes, want the whole 64-byte image", n)
	}
	if n := CopyOut(dst, src, nil, Normal); n != 0 {
		t.Errorf("no rects: %d bytes", n)
	}
	if !bytes.Equal(dst.Pix, bytes.Repeat([]byte{sentinel}, 64)) {
		t.Errorf("rejected CopyOut wrote to dst")
	}
}

// A Copier reused across sizes, transforms and formats gives what fresh
// CopyOut calls give.
func TestCopierReuse(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	var c Copier
	for i := 0; i < 200; i++ {
		src := randomImage(rng, 1+rng.IntN(150), 1+rng.IntN(90), XRGB8888)
		tr := Transform(rng.IntN(8))
		df := allFormats[rng.IntN(len(allFormats))]
		tw, th := tr.TransformSize(src.Width, src.Height)
		rects := []image.Rectangle{randomRect(rng, src.Width, src.Height)}
		got, want := sentinelImage(tw, th, df, 0), sentinelImage(tw, th, df, 0)
		n := c.CopyOut(got, src, rects, tr)
		wantN := CopyOut(want, src, rects, tr)
		if n != wantN || !bytes.Equal(got.Pix, want.Pix) {
			t.Fatalf("case %d (%v to %v): reused Copier differs from CopyOut", i, tr, df)
		}
	}
}

// misaligned returns a copy of src whose rows do not start on 4-byte
// boundaries: the Pix slice starts one byte into its array, or the stride
// is not a multiple of 4. CopyOut must take its byte path for both.
func misaligned(src *Image, oddStride bool) *Image {
	stride := src.Stride
	if oddStride {
		stride = src.Width*4 + 1
	}
	buf := make([]byte, stride*src.Height+1)
	pix := buf[:stride*src.Height]
	if !oddStride {
		pix = buf[1:]
	}
	for y := 0; y < src.Height; y++ {
		copy(pix[y*stride:y*stride+src.Width*4], src.Pix[y*src.Stride:])
	}
	return &Image{Pix: pix, Stride: stride, Width: src.Width, Height: src.Height, Format: src.Format}
}

// The byte path (rows not 4-byte aligned) gives the same bytes as the
// reference, for every transform and format.
func TestCopyOutBytePath(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	for _, size := range [][2]int{{45, 37}, {150, 71}} {
		src := randomImage(rng, size[0], size[1], XRGB8888)
		if shadowWords(src) == nil && littleEndian {
			t.Fatalf("aligned %dx%d shadow does not take the word path", size[0], size[1])
		}
		for _, odd := range []bool{false, true} {
			m := misaligned(src, odd)
			if shadowWords(m) != nil {
				t.Fatalf("misaligned shadow (odd stride %v) takes the word path", odd)
			}
			testCopyOutEachTransform(t, m)
		}
	}
}

// Rows longer than the word path's conversion chunk, rotated or not, and
// a rotated rectangle taller than one band with an odd band at the end.
func TestCopyOutLongRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	for _, size := range [][2]int{{rowChunk*2 + 3, 3}, {5, rowChunk + 1}} {
		src := randomImage(rng, size[0], size[1], XRGB8888)
		for tr := Normal; tr <= Flipped270; tr++ {
			for _, df := range allFormats {
				full := []image.Rectangle{src.Bounds()}
				if err := checkCopyOut(t, src, full, tr, df, 4); err != nil {
					t.Error(err)
				}
				part := []image.Rectangle{image.Rect(1, 1, src.Width-1, src.Height)}
				if err := checkCopyOut(t, src, part, tr, df, 0); err != nil {
					t.Error(err)
				}
			}
		}
	}
}

// Destination rows that are not 4-byte aligned (a mapping handed over at an
// odd offset, an odd stride) are converted through system memory; the
// bytes must be the same and nothing outside the rects written.
func TestCopyOutUnalignedDestination(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	src := randomImage(rng, 150, 71, XRGB8888)
	rects := []image.Rectangle{image.Rect(3, 2, 140, 70), image.Rect(141, 0, 150, 1)}
	for tr := Normal; tr <= Flipped270; tr++ {
		tw, th := tr.TransformSize(src.Width, src.Height)
		for _, df := range allFormats {
			for _, shift := range []int{1, 2, 3} {
				for _, oddStride := range []bool{false, true} {
					stride := tw*df.BytesPerPixel() + 4
					if oddStride {
						stride += shift
					}
					mk := func() *Image {
						buf := bytes.Repeat([]byte{sentinel}, stride*th+shift)
						return &Image{Pix: buf[shift:], Stride: stride, Width: tw, Height: th, Format: df}
					}
					got, want := mk(), mk()
					CopyOut(got, src, rects, tr)
					refCopyOut(want, src, rects, tr)
					if !bytes.Equal(got.Pix, want.Pix) {
						t.Errorf("%v to %v at offset %d, stride %d: differs from the reference", tr, df, shift, stride)
					}
				}
			}
		}
	}
}
