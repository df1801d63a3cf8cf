package kms

import (
	"errors"
	"image"
	"slices"
	"testing"

	"github.com/vitrine-wm/vitrine/render"
	"github.com/vitrine-wm/vitrine/scene/present"
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
	// Moves while that commit is in flight are state, not commits (which
	// would get EBUSY): only the last position is committed, from the
	// event of the one in flight.
	if !f.MoveCursor(11, 20) || !f.MoveCursor(12, 21) {
		t.Fatal("MoveCursor failed while a cursor commit is in flight")
	}
	if f.k.count("CURSOR_COMMIT") != 1 {
		t.Fatalf("cursor committed again while in flight: %v", f.k.calls)
	}
	f.completeCursor()
	if f.k.count("CURSOR_COMMIT") != 2 || f.cursorProp("CRTC_X") != 12 || f.cursorProp("CRTC_Y") != 21 {
		t.Fatalf("folded move: state %v, calls %v", f.k.cursor, f.k.calls)
	}
	f.completeCursor()
	f.loop.idle()
	if len(f.done) != 0 {
		t.Fatalf("a cursor commit reported a frame: %+v", f.done)
	}
	if f.Frames() != 0 || f.CopiedBytes() != 0 {
		t.Fatalf("cursor motion cost frames=%d copied=%d", f.Frames(), f.CopiedBytes())
	}
	f.HideCursor()
	if f.cursorProp("FB_ID") != 0 || f.cursorProp("CRTC_ID") != 0 {
		t.Fatalf("hidden cursor state %v", f.k.cursor)
	}
}

// cursorShown loads an 8x8 cursor and lands its first commit.
func (f *fakeOutput) cursorShown() {
	f.t.Helper()
	f.withCursor()
	if !f.SetCursor(cursorImage(8, 8), image.Point{}) || !f.MoveCursor(0, 0) {
		f.t.Fatalf("cursor refused: %v", f.k.calls)
	}
	f.completeCursor()
}

func TestCursorMoveDuringFlipGoesAloneWhenNoFrameFollows(t *testing.T) {
	f := newFakeOutput(t, true, 2)
	f.cursorShown()
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
	// The compositor may draw a frame in this loop iteration, which
	// would take the cursor along: the cursor waits for the next one.
	if f.k.count("CURSOR_COMMIT") != 1 {
		t.Fatalf("cursor committed before the compositor could draw: %v", f.k.calls)
	}
	f.loop.idle()
	if f.k.count("CURSOR_COMMIT") != 2 || f.cursorProp("CRTC_X") != 30 || f.cursorProp("CRTC_Y") != 5 {
		t.Fatalf("after the flip: state %v, calls %v", f.k.cursor, f.k.calls)
	}
}

// A cursor move during a frame's flip goes with the next frame's commit,
// whether that frame came before the flip landed (queued, committed from
// the event) or when its completion came (in the same loop iteration).
func TestCursorMoveDuringFlipGoesWithTheNextFrame(t *testing.T) {
	for _, queued := range []bool{true, false} {
		f := newFakeOutput(t, true, 2)
		f.cursorShown()
		f.Present([]image.Rectangle{image.Rect(0, 0, 8, 8)})
		f.MoveCursor(7, 9)
		if queued {
			f.Present([]image.Rectangle{image.Rect(8, 8, 16, 16)})
			f.complete()
		} else {
			f.complete()
			if err := f.Present([]image.Rectangle{image.Rect(8, 8, 16, 16)}); err != nil {
				t.Fatal(err)
			}
		}
		f.loop.idle()
		if f.k.count("CURSOR_COMMIT") != 1 || f.k.count("COMMIT") != 2 {
			t.Fatalf("queued=%v: calls %v, want the move in the second frame's commit only", queued, f.k.calls)
		}
		if f.k.last[fakeCursorPropID("CRTC_X")] != 7 || f.k.last[fakeCursorPropID("CRTC_Y")] != 9 {
			t.Fatalf("queued=%v: frame commit state %v lacks the cursor move", queued, f.k.last)
		}
		f.complete()
	}
}

// A frame during a cursor-only commit does not wait: Present returns at
// once, and the frame is committed from the cursor commit's event.
func TestFrameDuringCursorCommitIsQueued(t *testing.T) {
	f := newFakeOutput(t, true, 2)
	f.withCursor()
	f.SetCursor(cursorImage(8, 8), image.Point{})
	f.MoveCursor(1, 1)
	if err := f.Present([]image.Rectangle{image.Rect(0, 0, 8, 8)}); err != nil {
		t.Fatalf("frame during a cursor commit: %v; calls %v", err, f.k.calls)
	}
	if f.k.count("COMMIT") != 0 || f.Frames() != 0 {
		t.Fatalf("frame committed over the cursor commit in flight: %v", f.k.calls)
	}
	f.MoveCursor(2, 2)
	f.completeCursor()
	if f.k.count("COMMIT") != 1 || f.Frames() != 1 || f.k.count("CURSOR_COMMIT") != 1 {
		t.Fatalf("after the cursor commit landed: frames %d, calls %v", f.Frames(), f.k.calls)
	}
	if f.k.last[fakeCursorPropID("CRTC_X")] != 2 {
		t.Fatalf("queued frame did not carry the later cursor move: %v", f.k.last)
	}
	if info := f.complete(); info.Flags&present.VSync == 0 {
		t.Errorf("frame completion flags %#x", info.Flags)
	}
}

func TestScanoutDuringCursorCommitIsQueued(t *testing.T) {
	f := newFakeOutput(t, true, 2)
	f.withCursor()
	f.SetCursor(cursorImage(8, 8), image.Point{})
	f.MoveCursor(1, 1)
	f.mustScanout(1, f.k.buffer(1, 30))
	if f.k.count("COMMIT") != 0 || f.k.count("TEST_ONLY") != 1 {
		t.Fatalf("scanout during a cursor commit: calls %v, want its TEST_ONLY only", f.k.calls)
	}
	if err := f.Present([]image.Rectangle{image.Rect(0, 0, 8, 8)}); err == nil {
		t.Error("Present accepted while a scanout waits for its commit")
	}
	f.completeCursor()
	if f.k.count("COMMIT") != 1 || f.k.pending < firstClientFB {
		t.Fatalf("after the cursor commit: pending fb %d, calls %v", f.k.pending, f.k.calls)
	}
	if info := f.complete(); info.Flags&present.ZeroCopy == 0 {
		t.Errorf("scanout completion flags %#x lack present.ZeroCopy", info.Flags)
	}
}

// Loading a new image twice before anything is committed never writes
// the buffer on screen.
func TestSetCursorKeepsTheShownBuffer(t *testing.T) {
	f := newFakeOutput(t, true, 2)
	f.cursorShown()
	shown := f.cursorProp("FB_ID")
	f.Present([]image.Rectangle{image.Rect(0, 0, 8, 8)})
	before := slices.Clone(f.cursor.bufs[0].img.Pix)
	if shown != 40 {
		t.Fatalf("first cursor on framebuffer %d, want 40", shown)
	}
	f.SetCursor(cursorImage(4, 4), image.Point{})
	f.SetCursor(cursorImage(6, 6), image.Point{})
	if !slices.Equal(before, f.cursor.bufs[0].img.Pix) {
		t.Fatal("SetCursor wrote into the buffer on screen")
	}
	f.complete()
	f.loop.idle()
	if got := f.cursorProp("FB_ID"); got != 41 {
		t.Fatalf("new image committed on framebuffer %d, want 41", got)
	}
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

// A frame and the cursor move that goes with it are one state and one
// commit: both reach the screen in the same refresh.
func TestCommitFrameAndCursorAsOne(t *testing.T) {
	f := newFakeOutput(t, true, 2)
	f.cursorShown()
	err := f.Commit(OutputState{
		Damage: []image.Rectangle{image.Rect(0, 0, 8, 8)},
		Cursor: &CursorState{Visible: true, Pos: image.Pt(5, 6), Image: cursorImage(4, 4)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if f.k.count("COMMIT") != 1 || f.k.count("CURSOR_COMMIT") != 1 {
		t.Fatalf("calls %v, want the frame and the cursor in one commit", f.k.calls)
	}
	if f.k.last[fakePropID("FB_ID")] != 2 || f.k.last[fakeCursorPropID("CRTC_X")] != 5 || f.k.last[fakeCursorPropID("FB_ID")] != 41 {
		t.Fatalf("commit state %v, want dumb buffer 2 and the new cursor image at 5,6", f.k.last)
	}
	f.complete()
	f.loop.idle()
	if f.k.count("CURSOR_COMMIT") != 1 {
		t.Fatalf("the cursor was committed again on its own: %v", f.k.calls)
	}
}

// A state with a part the output cannot show changes nothing.
func TestCommitRefusedPartAppliesNothing(t *testing.T) {
	f := newFakeOutput(t, true, 2)
	f.cursorShown()
	calls := len(f.k.calls)
	pos := f.cursor.pos

	f.k.refuseCursor = true
	err := f.Commit(OutputState{
		Damage: []image.Rectangle{image.Rect(0, 0, 8, 8)},
		Cursor: &CursorState{Visible: true, Pos: image.Pt(30, 30), Image: cursorImage(4, 4)},
	})
	if !errors.Is(err, ErrCursorRefused) {
		t.Fatalf("refused cursor image: %v", err)
	}
	f.k.refuseCursor = false
	f.k.refuseTest = true
	err = f.Commit(OutputState{
		Scanout: &ScanoutState{Key: 1, Buffer: f.k.buffer(1, 30)},
		Cursor:  &CursorState{Visible: true, Pos: image.Pt(30, 30)},
	})
	if !errors.Is(err, ErrScanoutRefused) {
		t.Fatalf("refused buffer: %v", err)
	}
	if f.Frames() != 0 || f.Scanouts() != 0 || f.cursor.pos != pos || f.cursor.dirty {
		t.Fatalf("refused states applied: frames %d, scanouts %d, cursor at %v dirty %v",
			f.Frames(), f.Scanouts(), f.cursor.pos, f.cursor.dirty)
	}
	for _, c := range f.k.calls[calls:] {
		if c == "COMMIT" || c == "CURSOR_COMMIT" {
			t.Fatalf("refused states committed: %v", f.k.calls[calls:])
		}
	}
	if err := f.Commit(OutputState{Damage: []image.Rectangle{}, Scanout: &ScanoutState{Key: 2, Buffer: f.k.buffer(2, 31)}}); err == nil {
		t.Error("a state with both the shadow and a client buffer was taken")
	}
}
