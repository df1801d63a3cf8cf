package pattern

import (
	"bytes"
	"image"
	"testing"
)

// paddedImage has a stride larger than its width so that tests catch code
// that confuses the two.
func paddedImage(w, h int) *Image {
	stride := w*4 + 12
	pix := make([]byte, stride*h)
	for i := range pix {
		pix[i] = 0xa5
	}
	return &Image{Pix: pix, Stride: stride, Width: w, Height: h}
}

func TestQuadrantsPixelExact(t *testing.T) {
	for _, sz := range []image.Point{{640, 480}, {641, 481}, {1, 1}, {2, 2}, {3, 5}, {1280, 800}} {
		m := paddedImage(sz.X, sz.Y)
		DrawQuadrants(m)
		mx, my := sz.X/2, sz.Y/2
		for y := 0; y < sz.Y; y++ {
			for x := 0; x < sz.X; x++ {
				var want uint32
				switch {
				case x < mx && y < my:
					want = 0xff0000
				case x >= mx && y < my:
					want = 0x00ff00
				case x < mx && y >= my:
					want = 0x0000ff
				default:
					want = 0xffffff
				}
				if got := m.At(x, y); got != want {
					t.Fatalf("%v: pixel (%d,%d) = %06x, want %06x", sz, x, y, got, want)
				}
				if got := QuadrantColor(sz.X, sz.Y, x, y); got != want {
					t.Fatalf("%v: QuadrantColor(%d,%d) = %06x, want %06x", sz, x, y, got, want)
				}
			}
			// Bytes past the last pixel of a row belong to the stride
			// padding and must stay untouched.
			pad := m.Pix[y*m.Stride+sz.X*4 : (y+1)*m.Stride]
			if !bytes.Equal(pad, bytes.Repeat([]byte{0xa5}, len(pad))) {
				t.Fatalf("%v: row %d padding overwritten", sz, y)
			}
		}
	}
}

func TestQuadrantBoundaries(t *testing.T) {
	m := NewImage(641, 481)
	DrawQuadrants(m)
	// The split is at floor(w/2)=320, floor(h/2)=240.
	checks := []struct {
		x, y int
		want uint32
	}{
		{319, 239, Red}, {320, 239, Green}, {319, 240, Blue}, {320, 240, White},
		{0, 0, Red}, {640, 0, Green}, {0, 480, Blue}, {640, 480, White},
	}
	for _, c := range checks {
		if got := m.At(c.x, c.y); got != c.want {
			t.Errorf("(%d,%d) = %06x, want %06x", c.x, c.y, got, c.want)
		}
	}
}

func TestPixelByteOrder(t *testing.T) {
	m := NewImage(1, 1)
	m.Fill(m.Bounds(), Red)
	// XRGB8888 is little-endian: B, G, R, X in memory; X is written 0xff.
	if want := []byte{0x00, 0x00, 0xff, 0xff}; !bytes.Equal(m.Pix, want) {
		t.Fatalf("red pixel bytes = % x, want % x", m.Pix, want)
	}
}

func TestFillClips(t *testing.T) {
	m := paddedImage(10, 10)
	m.Fill(image.Rect(-5, -5, 3, 3), Green)
	m.Fill(image.Rect(8, 8, 50, 50), Blue)
	if m.At(0, 0) != Green || m.At(2, 2) != Green || m.At(3, 3) == Green {
		t.Errorf("top-left fill wrong: %06x %06x %06x", m.At(0, 0), m.At(2, 2), m.At(3, 3))
	}
	if m.At(9, 9) != Blue || m.At(7, 7) == Blue {
		t.Errorf("bottom-right fill wrong")
	}
}

func TestBoxPath(t *testing.T) {
	b := NewBox(640, 480)
	// 640-64 = 576 → 73 positions per row, 480/64 = 7 rows.
	cases := []struct {
		n    int
		want image.Rectangle
	}{
		{0, image.Rect(0, 0, 64, 64)},
		{1, image.Rect(8, 0, 72, 64)},
		{72, image.Rect(576, 0, 640, 64)},
		{73, image.Rect(0, 64, 64, 128)},
		{73*7 - 1, image.Rect(576, 384, 640, 448)},
		{73 * 7, image.Rect(0, 0, 64, 64)},
	}
	for _, c := range cases {
		if got := b.Rect(c.n); got != c.want {
			t.Errorf("Rect(%d) = %v, want %v", c.n, got, c.want)
		}
	}
	for n := 0; n < 2000; n++ {
		r := b.Rect(n)
		if !r.In(image.Rect(0, 0, 640, 480)) || r.Dx() != 64 || r.Dy() != 64 {
			t.Fatalf("Rect(%d) = %v leaves the surface or has the wrong size", n, r)
		}
	}
}

func TestBoxTinySurface(t *testing.T) {
	b := NewBox(20, 10)
	for n := 0; n < 10; n++ {
		r := b.Rect(n)
		if r.Empty() || !r.In(image.Rect(0, 0, 20, 10)) {
			t.Fatalf("Rect(%d) = %v on a 20x10 surface", n, r)
		}
	}
	if r := (Box{Width: 0, Height: 0, Size: 64, Step: 8}).Rect(3); !r.Empty() {
		t.Fatalf("0x0 surface gives box %v", r)
	}
}

// TestBoxDamage checks that the damage of frame n is exactly the old and the
// new box, and that every pixel differing between frames n-1 and n lies in
// it.
func TestBoxDamage(t *testing.T) {
	const w, h = 200, 150
	b := NewBox(w, h)
	prev := NewImage(w, h)
	b.Draw(prev, 0)
	if d := b.Damage(0); len(d) != 1 || d[0] != prev.Bounds() {
		t.Fatalf("frame 0 damage = %v, want the whole surface", d)
	}
	for n := 1; n < 40; n++ {
		cur := NewImage(w, h)
		b.Draw(cur, n)
		d := b.Damage(n)
		if len(d) != 2 || d[0] != b.Rect(n-1) || d[1] != b.Rect(n) {
			t.Fatalf("frame %d damage = %v, want [%v %v]", n, d, b.Rect(n-1), b.Rect(n))
		}
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				p := image.Pt(x, y)
				inDamage := p.In(d[0]) || p.In(d[1])
				if prev.At(x, y) != cur.At(x, y) && !inDamage {
					t.Fatalf("frame %d: pixel %v changed outside damage %v", n, p, d)
				}
			}
		}
		// The damage is not larger than needed either: each rectangle
		// holds the box in one of the two frames.
		if cur.At(d[1].Min.X, d[1].Min.Y) != Magenta {
			t.Fatalf("frame %d: new box not drawn at %v", n, d[1].Min)
		}
		prev = cur
	}
}

// TestBoxUpdateMatchesDraw checks the incremental path a client uses when it
// reuses an older buffer: erasing that buffer's box and drawing the new one
// gives the same image as drawing the frame from scratch.
func TestBoxUpdateMatchesDraw(t *testing.T) {
	const w, h = 300, 200
	b := NewBox(w, h)
	for _, c := range [][2]int{{0, 1}, {0, 2}, {5, 7}, {3, 30}, {29, 30}} {
		inc := paddedImage(w, h)
		b.Draw(inc, c[0])
		b.Update(inc, c[0], c[1])
		full := paddedImage(w, h)
		b.Draw(full, c[1])
		if !bytes.Equal(inc.Pix, full.Pix) {
			t.Fatalf("Update(%d→%d) differs from Draw(%d)", c[0], c[1], c[1])
		}
	}
}

func TestFinalLine(t *testing.T) {
	b := NewBox(640, 480)
	if got, want := b.FinalLine(10), "final-box x=72 y=0 w=64 h=64 frames=10"; got != want {
		t.Fatalf("FinalLine(10) = %q, want %q", got, want)
	}
}

func BenchmarkFillFullHD(b *testing.B) {
	m := NewImage(1920, 1080)
	b.SetBytes(int64(len(m.Pix)))
	for b.Loop() {
		m.Fill(m.Bounds(), Magenta)
	}
}
