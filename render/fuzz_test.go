package render

import (
	"image"
	"math/rand/v2"
	"testing"
)

// FuzzDraw throws arbitrary geometry at Draw: it must not panic and must not
// write outside clip ∩ Dst.
func FuzzDraw(f *testing.F) {
	f.Add(uint64(1), int16(0), int16(0), int16(8), int16(8), int16(0), int16(0), int16(8), int16(8), int16(0), int16(0), int16(8), int16(8), uint8(0))
	f.Add(uint64(2), int16(-3), int16(2), int16(5), int16(90), int16(-7), int16(-7), int16(30), int16(3), int16(1), int16(1), int16(2), int16(2), uint8(0x5f))
	f.Add(uint64(3), int16(2), int16(2), int16(2), int16(9), int16(100), int16(-4), int16(-100), int16(40), int16(-1), int16(-1), int16(99), int16(99), uint8(0xb3))
	f.Fuzz(func(t *testing.T, seed uint64, sx0, sy0, sx1, sy1, dx0, dy0, dx1, dy1, cx0, cy0, cx1, cy1 int16, flags uint8) {
		rng := rand.New(rand.NewPCG(seed, 0))
		sf := allFormats[int(flags)%len(allFormats)]
		df := []Format{XRGB8888, ARGB8888}[int(flags>>3)&1]
		src := randomImage(rng, 1+rng.IntN(12), 1+rng.IntN(12), sf)
		dst := randomImage(rng, 1+rng.IntN(16), 1+rng.IntN(16), df)
		l := Layer{
			Src:       src,
			SrcRect:   image.Rect(int(sx0), int(sy0), int(sx1), int(sy1)),
			Transform: Transform(flags>>4) & 7,
			Dst:       image.Rect(int(dx0), int(dy0), int(dx1), int(dy1)),
			Opaque:    flags&0x80 != 0,
		}
		clip := image.Rect(int(cx0), int(cy0), int(cx1), int(cy1))
		orig := cloneImage(dst)
		Draw(dst, l, clip)
		if err := outsideUntouched(dst, orig, clip.Intersect(l.Dst)); err != nil {
			t.Fatal(err)
		}
		// Small cases are cheap enough to compare with the reference.
		if l.Dst.Dx()*l.Dst.Dy() <= 4096 {
			want := cloneImage(orig)
			refDraw(want, l, clip)
			if err := sameColours(dst, want); err != nil {
				t.Fatalf("layer %+v clip %v: %v", l, clip, err)
			}
		}
		Fill(dst, l.Dst, rng.Uint32(), clip)
		if err := outsideUntouched(dst, orig, clip.Intersect(l.Dst)); err != nil {
			t.Fatalf("Fill: %v", err)
		}
	})
}

// FuzzCopyOut: no panic, nothing written outside the transformed rects, and
// the same bytes as the reference.
func FuzzCopyOut(f *testing.F) {
	f.Add(uint64(1), uint8(10), uint8(10), int16(0), int16(0), int16(10), int16(10), int16(0), int16(0), int16(0), int16(0), uint8(0))
	f.Add(uint64(2), uint8(33), uint8(17), int16(-5), int16(3), int16(40), int16(9), int16(2), int16(10), int16(30), int16(60), uint8(0x23))
	f.Add(uint64(3), uint8(1), uint8(70), int16(0), int16(-100), int16(1), int16(100), int16(-9), int16(-9), int16(-1), int16(-1), uint8(0x71))
	f.Fuzz(func(t *testing.T, seed uint64, w, h uint8, ax0, ay0, ax1, ay1, bx0, by0, bx1, by1 int16, flags uint8) {
		if w == 0 || h == 0 {
			return
		}
		rng := rand.New(rand.NewPCG(seed, 0))
		src := randomImage(rng, int(w), int(h), XRGB8888)
		tr := Transform(flags & 7)
		df := allFormats[int(flags>>3)%len(allFormats)]
		a := image.Rect(int(ax0), int(ay0), int(ax1), int(ay1)).Intersect(src.Bounds())
		b := image.Rect(int(bx0), int(by0), int(bx1), int(by1)).Intersect(src.Bounds())
		rects := []image.Rectangle{a}
		if !b.Overlaps(a) {
			rects = append(rects, b)
		}
		if err := checkCopyOut(t, src, rects, tr, df, int(flags>>6)*4); err != nil {
			t.Fatal(err)
		}
		// And into a destination of the wrong size, just for panics and
		// stray writes.
		odd := sentinelImage(int(h), int(h), df, 0)
		CopyOut(odd, src, rects, tr)
		var union image.Rectangle
		for _, r := range rects {
			union = union.Union(tr.Rect(r, src.Width, src.Height))
		}
		if err := outsideUntouched(odd, sentinelImage(int(h), int(h), df, 0), union); err != nil {
			t.Fatal(err)
		}
	})
}
