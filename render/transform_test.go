package render

import (
	"image"
	"math/rand/v2"
	"testing"
)

// A 3×2 image with six distinct pixels, and what each transform must make
// of it, written out by hand from the wl_output.transform description
// (counter-clockwise turns; flipped = mirror around the vertical axis first).
//
//	A B C
//	D E F
var handTransforms = []struct {
	t    Transform
	want []string // rows
}{
	{Normal, []string{"ABC", "DEF"}},
	{Rotate90, []string{"CF", "BE", "AD"}},
	{Rotate180, []string{"FED", "CBA"}},
	{Rotate270, []string{"DA", "EB", "FC"}},
	{Flipped, []string{"CBA", "FED"}},
	{Flipped90, []string{"AD", "BE", "CF"}},
	{Flipped180, []string{"DEF", "ABC"}},
	{Flipped270, []string{"FC", "EB", "DA"}},
}

func letterImage(rows []string, f Format) *Image {
	m := NewImage(len(rows[0]), len(rows), f)
	for y, row := range rows {
		for x, c := range row {
			m.SetPixelARGB(x, y, 0xff000000|uint32(c)<<16|uint32(c)<<8|uint32(c))
		}
	}
	return m
}

func imageLetters(m *Image) []string {
	var rows []string
	for y := 0; y < m.Height; y++ {
		row := ""
		for x := 0; x < m.Width; x++ {
			row += string(rune(m.PixelARGB(x, y) & 0xff))
		}
		rows = append(rows, row)
	}
	return rows
}

func equalRows(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestTransformByHand(t *testing.T) {
	src := letterImage([]string{"ABC", "DEF"}, XRGB8888)
	for _, tt := range handTransforms {
		w, h := tt.t.TransformSize(3, 2)
		if w != len(tt.want[0]) || h != len(tt.want) {
			t.Errorf("%v: TransformSize(3, 2) = %d, %d", tt.t, w, h)
			continue
		}
		// The reference implementation used by the other tests agrees.
		ref := NewImage(w, h, XRGB8888)
		refCopyOut(ref, src, []image.Rectangle{src.Bounds()}, tt.t)
		if got := imageLetters(ref); !equalRows(got, tt.want) {
			t.Errorf("%v: reference gives %q, want %q", tt.t, got, tt.want)
		}
		dst := NewImage(w, h, XRGB8888)
		CopyOut(dst, src, []image.Rectangle{src.Bounds()}, tt.t)
		if got := imageLetters(dst); !equalRows(got, tt.want) {
			t.Errorf("CopyOut %v = %q, want %q", tt.t, got, tt.want)
		}
		// A full-buffer layer with buffer transform t undoes t.
		back := NewImage(3, 2, XRGB8888)
		Draw(back, Layer{Src: dst, SrcRect: dst.Bounds(), Transform: tt.t, Dst: back.Bounds()}, back.Bounds())
		if got := imageLetters(back); !equalRows(got, []string{"ABC", "DEF"}) {
			t.Errorf("Draw with buffer transform %v of the %v output gives %q, want the original", tt.t, tt.t, got)
		}
	}
}

func TestTransformAlgebra(t *testing.T) {
	sizes := [][2]int{{1, 1}, {3, 2}, {2, 3}, {5, 7}, {64, 33}}
	for tr := Normal; tr <= Flipped270; tr++ {
		if !tr.Valid() {
			t.Errorf("%v not valid", tr)
		}
		inv := tr.Invert()
		if inv.Invert() != tr {
			t.Errorf("%v.Invert().Invert() = %v", tr, inv.Invert())
		}
		for _, s := range sizes {
			w, h := s[0], s[1]
			tw, th := tr.TransformSize(w, h)
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					p := tr.Point(image.Point{x, y}, w, h)
					rx, ry := refApply(tr, x, y, w, h)
					if p != (image.Point{rx, ry}) {
						t.Fatalf("%v.Point(%d,%d in %dx%d) = %v, reference (%d,%d)", tr, x, y, w, h, p, rx, ry)
					}
					if !p.In(image.Rect(0, 0, tw, th)) {
						t.Fatalf("%v.Point(%d,%d) = %v outside %dx%d", tr, x, y, p, tw, th)
					}
					if back := inv.Point(p, tw, th); back != (image.Point{x, y}) {
						t.Fatalf("%v then %v maps (%d,%d) to %v", tr, inv, x, y, back)
					}
				}
			}
		}
	}
	for _, bad := range []Transform{-1, 8} {
		if bad.Valid() {
			t.Errorf("Transform(%d).Valid()", int(bad))
		}
	}
}

// Rect is the bounding box of the mapped pixels, also for rectangles that
// stick out of the space.
func TestTransformRect(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		w, h := 1+rng.IntN(20), 1+rng.IntN(20)
		x0, y0 := rng.IntN(30)-5, rng.IntN(30)-5
		r := image.Rect(x0, y0, x0+rng.IntN(12), y0+rng.IntN(12))
		tr := Transform(rng.IntN(8))
		got := tr.Rect(r, w, h)
		var want image.Rectangle
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				px, py := refApply(tr, x, y, w, h)
				want = want.Union(image.Rect(px, py, px+1, py+1))
			}
		}
		if got != want {
			t.Fatalf("%v.Rect(%v, %d, %d) = %v, want %v", tr, r, w, h, got, want)
		}
	}
	if got := Rotate90.Rect(image.Rectangle{}, 10, 10); !got.Empty() {
		t.Errorf("empty rect maps to %v", got)
	}
}
