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

// FuzzDamage adds arbitrary rectangles (4 bytes each, coordinates
// -8..71 around a 64x64 area) and clips the result: the list stays
// disjoint, no longer than MaxDamageRects, free of empty rectangles,
// covers every damaged pixel, and Clip keeps exactly the pixels inside.
func FuzzDamage(f *testing.F) {
	f.Add([]byte{10, 10, 50, 50, 30, 30, 70, 70})
	f.Add([]byte{0, 0, 64, 64, 8, 8, 16, 16})
	f.Add([]byte{1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10})
	f.Add([]byte{40, 0, 45, 71, 0, 40, 71, 45, 20, 20, 20, 30})
	f.Fuzz(func(t *testing.T, data []byte) {
		coord := func(b byte) int { return int(b)%80 - 8 }
		bounds := image.Rect(-8, -8, 72, 72)
		var d Damage
		var in []image.Rectangle
		// More rectangles than a few lists' worth only slow the target down.
		for ; len(data) >= 4 && len(in) < 4*MaxDamageRects; data = data[4:] {
			r := image.Rect(coord(data[0]), coord(data[1]), coord(data[2]), coord(data[3]))
			in = append(in, r)
			d.Add(r)
		}
		if len(d) > MaxDamageRects {
			t.Fatalf("%d rectangles, more than %d", len(d), MaxDamageRects)
		}
		for _, r := range d {
			if r.Empty() {
				t.Fatalf("empty rectangle in %v", d)
			}
		}
		want, _, _ := paint(in, bounds)
		got, _, overlap := paint(d, bounds)
		if overlap {
			t.Fatalf("overlapping rectangles: %v", d)
		}
		for i := range want {
			if want[i] && !got[i] {
				t.Fatalf("pixel %d,%d damaged but not in %v", i%bounds.Dx()+bounds.Min.X, i/bounds.Dx()+bounds.Min.Y, d)
			}
		}
		clip := image.Rect(0, 0, 64, 64)
		clipped := append(Damage(nil), d...).Clip(clip)
		cgot, _, coverlap := paint(clipped, bounds)
		if coverlap {
			t.Fatalf("Clip made rectangles overlap: %v", clipped)
		}
		for i := range got {
			p := image.Pt(i%bounds.Dx()+bounds.Min.X, i/bounds.Dx()+bounds.Min.Y)
			if cgot[i] != (got[i] && p.In(clip)) {
				t.Fatalf("pixel %v: in the damage %v, clipped %v", p, got[i], cgot[i])
			}
		}
	})
}
