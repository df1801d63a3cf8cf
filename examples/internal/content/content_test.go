package content

import (
	"image"
	"testing"

	"github.com/vitrine-wm/vitrine/examples/internal/pattern"
	"github.com/vitrine-wm/vitrine/examples/internal/window"
)

func newBuffer(w, h int) *window.Buffer {
	return &window.Buffer{Image: pattern.NewImage(w, h), Frame: -1}
}

func TestByName(t *testing.T) {
	for _, n := range []string{NameQuadrants, NameMovingBox} {
		if _, err := ByName(n); err != nil {
			t.Errorf("ByName(%q): %v", n, err)
		}
	}
	if _, err := ByName("plasma"); err == nil {
		t.Errorf("ByName(plasma) gave no error")
	}
}

// TestMovingBoxSwapchain drives MovingBox through three buffers the way the
// window does and checks every frame against a from-scratch drawing: reused
// buffers must be repaired, not just given the new box.
func TestMovingBoxSwapchain(t *testing.T) {
	const w, h = 160, 130
	bufs := []*window.Buffer{newBuffer(w, h), newBuffer(w, h), newBuffer(w, h)}
	var p MovingBox
	box := pattern.NewBox(w, h)
	for n := 0; n < 60; n++ {
		b := bufs[(n*7/3)%3] // irregular reuse order
		d := p.Paint(b, n)
		b.Frame = n
		want := pattern.NewImage(w, h)
		box.Draw(want, n)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				if b.Image.At(x, y) != want.At(x, y) {
					t.Fatalf("frame %d: pixel (%d,%d) = %06x, want %06x", n, x, y, b.Image.At(x, y), want.At(x, y))
				}
			}
		}
		if n > 0 && (len(d) != 2 || d[0] != box.Rect(n-1) || d[1] != box.Rect(n)) {
			t.Fatalf("frame %d: damage %v, want old and new box", n, d)
		}
	}
}

func TestQuadrantsAndSolidFullDamage(t *testing.T) {
	b := newBuffer(10, 6)
	if d := (Quadrants{}).Paint(b, 0); len(d) != 1 || d[0] != image.Rect(0, 0, 10, 6) {
		t.Fatalf("quadrants damage %v", d)
	}
	if b.Image.At(9, 5) != pattern.White || b.Image.At(0, 0) != pattern.Red {
		t.Fatalf("quadrants not drawn")
	}
	s := newBuffer(4, 4)
	(Solid{Color: 0x204080}).Paint(s, 0)
	if s.Image.At(3, 3) != 0x204080 {
		t.Fatalf("solid colour = %06x", s.Image.At(3, 3))
	}
}

func TestDoneLines(t *testing.T) {
	if got := (MovingBox{}).DoneLine(10, image.Pt(640, 480)); got != "final-box x=72 y=0 w=64 h=64 frames=10" {
		t.Errorf("moving-box: %q", got)
	}
	if got := (Quadrants{}).DoneLine(3, image.Pt(64, 48)); got != "done frames=3 size=64x48" {
		t.Errorf("quadrants: %q", got)
	}
}
