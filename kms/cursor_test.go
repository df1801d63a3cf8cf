package kms

import (
	"image"
	"slices"
	"testing"
	"time"

	"github.com/vitrine-wm/vitrine/render"
)

// cursorImage is a w×h premultiplied ARGB8888 image, half-transparent
// red, with one opaque green pixel at its top-left corner.
func cursorImage(w, h int) *render.Image {
	m := render.NewImage(w, h, render.ARGB8888)
	for y := range h {
		for x := range w {
			m.SetPixelARGB(x, y, 0x80800000)
		}
	}
	m.SetPixelARGB(0, 0, 0xff00ff00)
	return m
}

func (f *fakeOutput) cursorProp(name string) uint64 {
	return f.k.cursor[fakeCursorPropID(name)]
}

func TestCursorPlaneMovesWithoutFrames(t *testing.T) {
	f := newFakeOutput(t, true, 2)
	f.withCursor()
	if !f.SetCursor(cursorImage(16, 16), image.Pt(1, 1)) {
		t.Fatalf("SetCursor refused; calls %v", f.k.calls)
	}
	if !slices.Equal(f.k.calls, []string{"CURSOR_TEST"}) {
		t.Fatalf("SetCursor calls = %v, want one cursor TEST_ONLY", f.k.calls)
	}
	if !f.MoveCursor(10, 20) {
		t.Fatal("MoveCursor failed")
	}
	if f.k.count("CURSOR_COMMIT") != 1 || f.cursorProp("CRTC_X") != 10 || f.cursorProp("CRTC_Y") != 20 ||
		f.cursorProp("FB_ID") != 40 || f.cursorProp("CRTC_ID") != 9 || f.cursorProp("CRTC_W") != 64 {
		t.Fatalf("cursor state %v after calls %v", f.k.cursor, f.k.calls)
	}
	if px := f.cursor.bufs[0].img.PixelARGB(0, 0); px != 0xff00ff00 {
		t.Fatalf("cursor buffer corner = %#08x", px)
	}
	if px := f.cursor.bufs[0].img.PixelARGB(20, 20); px != 0 {
		t.Fatalf("cursor buffer outside the image = %#08x, want transparent", px)
	}
	// Moves while that commit is in flight wait for it (no EBUSY), and
	// only the last position is committed.
	f.MoveCursor(11, 20)
	f.MoveCursor(12, 21)
	if f.k.count("CURSOR_COMMIT") != 1 {
		t.Fatalf("cursor committed again while in flight: %v", f.k.calls)
	}
	f.completeCursor()
	if f.k.count("CURSOR_COMMIT") != 2 || f.cursorProp("CRTC_X") != 12 || f.cursorProp("CRTC_Y") != 21 {
		t.Fatalf("folded move: state %v, calls %v", f.k.cursor, f.k.calls)
	}
	f.completeCursor()
	select {
	case info := <-f.done:
		t.Fatalf("a cursor commit reported a frame: %+v", info)
	default:
	}
	if f.Frames() != 0 || f.CopiedBytes() != 0 {
		t.Fatalf("cursor motion cost frames=%d copied=%d", f.Frames(), f.CopiedBytes())
	}
	f.HideCursor()
	if f.cursorProp("FB_ID") != 0 || f.cursorProp("CRTC_ID") != 0 {
		t.Fatalf("hidden cursor state %v", f.k.cursor)
	}
}

func TestCursorMoveDuringFlipGoesWithTheFlipCompletion(t *testing.T) {
	f := newFakeOutput(t, true, 2)
	f.withCursor()
	f.SetCursor(cursorImage(8, 8), image.Point{})
	f.MoveCursor(0, 0)
	f.completeCursor()
	if err := f.Present([]image.Rectangle{image.Rect(0, 0, 8, 8)}); err != nil {
		t.Fatal(err)
	}
	if !f.MoveCursor(30, 5) {
		t.Fatal("MoveCursor failed while a flip is pending")
	}
	if f.k.count("CURSOR_COMMIT") != 1 {
		t.Fatalf("cursor committed during a pending flip (EBUSY): %v", f.k.calls)
	}
	f.complete()
	if f.k.count("CURSOR_COMMIT") != 2 || f.cursorProp("CRTC_X") != 30 || f.cursorProp("CRTC_Y") != 5 {
		t.Fatalf("after the flip: state %v, calls %v", f.k.cursor, f.k.calls)
	}
}

func TestCursorMoveFoldsIntoDeferredFrame(t *testing.T) {
	f := newFakeOutput(t, true, 2)
	f.withCursor()
	f.SetCursor(cursorImage(8, 8), image.Point{})
	f.MoveCursor(0, 0)
	f.completeCursor()
	f.Present([]image.Rectangle{image.Rect(0, 0, 8, 8)})
	f.MoveCursor(7, 9)
	// A frame presented before the flip lands is committed from the flip
	// completion, and carries the cursor move with it.
	f.Present([]image.Rectangle{image.Rect(8, 8, 16, 16)})
	f.complete()
	if f.k.count("CURSOR_COMMIT") != 1 || f.k.count("COMMIT") != 2 {
		t.Fatalf("calls %v, want the move folded into the second frame", f.k.calls)
	}
	if f.k.last[fakeCursorPropID("CRTC_X")] != 7 || f.k.last[fakeCursorPropID("CRTC_Y")] != 9 {
		t.Fatalf("frame commit state %v lacks the cursor move", f.k.last)
	}
	f.complete()
}

func TestFrameWaitsForCursorCommit(t *testing.T) {
	f := newFakeOutput(t, true, 2)
	f.withCursor()
	f.SetCursor(cursorImage(8, 8), image.Point{})
	f.MoveCursor(1, 1)
	go func() {
		time.Sleep(10 * time.Millisecond)
		f.completeCursor()
	}()
	if err := f.Present([]image.Rectangle{image.Rect(0, 0, 8, 8)}); err != nil {
		t.Fatalf("frame after a cursor commit: %v; calls %v", err, f.k.calls)
	}
	f.complete()
}

func TestCursorRotatedAndRefused(t *testing.T) {
	f := newFakeOutput(t, true, 2)
	f.withCursor()
	f.transform = render.Rotate90
	// The shadow of a 64x48 mode turned by 90 degrees is 48x64.
	f.shadow = render.NewImage(48, 64, render.XRGB8888)
	img := cursorImage(16, 8)
	if !f.SetCursor(img, image.Point{}) || !f.MoveCursor(4, 10) {
		t.Fatalf("rotated cursor refused: %v", f.k.calls)
	}
	want := render.Rotate90.Rect(image.Rect(4, 10, 20, 18), 48, 64)
	if int(f.cursorProp("CRTC_X")) != want.Min.X || int(f.cursorProp("CRTC_Y")) != want.Min.Y {
		t.Fatalf("rotated position %d,%d, want %v", f.cursorProp("CRTC_X"), f.cursorProp("CRTC_Y"), want.Min)
	}
	p := render.Rotate90.Point(image.Pt(0, 0), 16, 8)
	if px := f.cursor.bufs[0].img.PixelARGB(p.X, p.Y); px != 0xff00ff00 {
		t.Fatalf("rotated corner pixel at %v = %#08x", p, px)
	}
	f.completeCursor()
	if f.SetCursor(cursorImage(65, 8), image.Point{}) {
		t.Fatal("a cursor wider than the plane was taken")
	}
	f.k.refuseCursor = true
	if f.SetCursor(cursorImage(8, 8), image.Point{}) {
		t.Fatal("SetCursor ignored the TEST_ONLY refusal")
	}
}

func TestLegacyOutputHasNoCursorPlane(t *testing.T) {
	f := newFakeOutput(t, false, 2)
	if f.SetCursor(cursorImage(8, 8), image.Point{}) {
		t.Fatal("legacy output took the cursor")
	}
}

// sceneCursorPlane mirrors scene.CursorPlane (kms cannot import scene):
// the compositor finds the cursor plane by this method set.
type sceneCursorPlane interface {
	SetCursor(img *render.Image, hotspot image.Point) bool
	MoveCursor(x, y int) bool
	HideCursor()
}

var _ sceneCursorPlane = (*Output)(nil)
