package kms

import (
	"errors"
	"image"
	"testing"

	"github.com/vitrine-wm/vitrine/kms/dmabuf"
	"github.com/vitrine-wm/vitrine/scene/present"
)

// layer is a 32x24 overlay layer of buf at (x, y), unscaled.
func layer(key uint64, buf *dmabuf.Buffer, x, y int) OverlayState {
	return OverlayState{Key: key, Buffer: buf, Src: present.Fixed16(image.Rect(0, 0, 32, 24)),
		Dst: image.Rect(x, y, x+32, y+24), Opaque: true}
}

func (f *fakeOutput) mustCommit(s OutputState) {
	f.t.Helper()
	if err := f.Commit(s); err != nil {
		f.t.Fatalf("Commit: %v; calls %v", err, f.k.calls)
	}
}

// TestOverlayCommit: a composited frame and a client buffer on an
// overlay plane go in one commit; a frame whose only change is the
// overlay's buffer copies nothing and still commits; a known plane
// configuration is not tested again; a frame without the layer turns the
// plane off in its own commit; an overlay's framebuffer is not removed
// while it is on screen.
func TestOverlayCommit(t *testing.T) {
	f := newFakeOutput(t, true, 2)
	f.withOverlays(2)
	a, b := f.k.buffer(1, 30), f.k.buffer(2, 31)
	a.Width, a.Height, b.Width, b.Height = 32, 24, 32, 24
	small := []image.Rectangle{image.Rect(0, 0, 8, 8)}

	f.mustCommit(OutputState{Damage: small, Overlays: []OverlayState{layer(1, a, 16, 10)}})
	if n := f.k.count("COMMIT"); n != 1 {
		t.Fatalf("%d commits for one frame with an overlay, want 1: %v", n, f.k.calls)
	}
	fbA := f.k.overlayFB(0)
	if fbA < firstClientFB || f.k.pending >= firstClientFB {
		t.Fatalf("overlay shows fb %d, primary %d: want the client's on the overlay, a dumb one on the primary", fbA, f.k.pending)
	}
	st := f.k.committed
	if st[fakeOverlayPropID(0, "CRTC_X")] != 16 || st[fakeOverlayPropID(0, "CRTC_W")] != 32 || st[fakeOverlayPropID(0, "SRC_W")] != 32<<16 ||
		st[fakeOverlayPropID(0, "CRTC_ID")] != 9 || st[fakeOverlayPropID(0, "zpos")] != 1 || st[fakeOverlayPropID(0, "alpha")] != 0xffff {
		t.Errorf("overlay plane state %v", st)
	}
	if f.k.overlayFB(1) != 0 {
		t.Error("the unused overlay plane is on")
	}
	f.complete()

	// Same layer, nothing else: nothing to commit.
	commits := f.k.count("COMMIT")
	f.mustCommit(OutputState{Damage: []image.Rectangle{}, Overlays: []OverlayState{layer(1, a, 16, 10)}})
	f.wait()
	if f.k.count("COMMIT") != commits {
		t.Error("an unchanged frame was committed")
	}
	// The video's next buffer, all damage under it: an overlay-only flip.
	copied := f.CopiedBytes()
	f.mustCommit(OutputState{Damage: []image.Rectangle{}, Overlays: []OverlayState{layer(2, b, 16, 10)}})
	if f.k.count("COMMIT") != commits+1 || f.k.overlayFB(0) == fbA || f.CopiedBytes() != copied {
		t.Fatalf("overlay-only frame: commits %d, overlay fb %d, copied %d bytes", f.k.count("COMMIT")-commits, f.k.overlayFB(0), f.CopiedBytes()-copied)
	}
	// Forget of the buffer being replaced waits for the flip.
	f.Forget(1)
	if !f.k.fbs[fbA] {
		t.Fatal("overlay framebuffer removed while its replacement's flip is pending")
	}
	f.complete()
	if f.k.fbs[fbA] {
		t.Error("replaced and forgotten overlay framebuffer not freed")
	}
	tests := f.k.overlayTests
	for i := range 4 {
		key, buf := uint64(2+i%2), b
		if i%2 == 1 {
			buf = f.k.buffer(3, 32)
			buf.Width, buf.Height = 32, 24
		}
		f.mustCommit(OutputState{Damage: small, Overlays: []OverlayState{layer(key, buf, 16, 10)}})
		f.complete()
	}
	if n := f.k.overlayTests - tests; n != 1 {
		t.Errorf("%d TEST_ONLY commits for two configurations shown twice each (one tested before), want 1", n)
	}
	// No layer: the plane goes off in the frame's own commit.
	commits = f.k.count("COMMIT")
	fb := f.k.overlayFB(0)
	f.mustCommit(OutputState{Damage: small})
	if f.k.count("COMMIT") != commits+1 || f.k.overlayFB(0) != 0 || f.k.committed[fakeOverlayPropID(0, "CRTC_ID")] != 0 {
		t.Fatalf("frame without layers: %d commits, overlay fb %d", f.k.count("COMMIT")-commits, f.k.overlayFB(0))
	}
	f.Forget(3)
	if !f.k.fbs[fb] {
		t.Fatal("framebuffer removed while the plane still shows it (the flip switching it off is pending)")
	}
	f.complete()
	if f.k.fbs[fb] {
		t.Error("forgotten framebuffer kept after the plane went off")
	}
	if len(f.k.shownRemoved) > 0 {
		t.Errorf("framebuffers removed while shown: %v", f.k.shownRemoved)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if len(f.k.fbs) != 0 || len(f.k.handles) != 0 {
		t.Errorf("after Close: framebuffers %v, handles %v", f.k.fbs, f.k.handles)
	}
}

// TestOverlayRefusal: a set of overlays the driver refuses changes
// nothing and says so (the whole set: Layer -1); asking again costs no
// TEST_ONLY; the caller's reduced state passes. A buffer no overlay
// plane lists is blamed by index before any ioctl, and remembered until
// Forget.
func TestOverlayRefusal(t *testing.T) {
	f := newFakeOutput(t, true, 2)
	f.withOverlays(2)
	a, b := f.k.buffer(1, 30), f.k.buffer(2, 31)
	f.k.refuseOverlays = true
	two := OutputState{Damage: []image.Rectangle{image.Rect(0, 0, 8, 8)},
		Overlays: []OverlayState{layer(1, a, 0, 0), layer(2, b, 32, 24)}}
	for try := range 2 {
		err := f.Commit(two)
		var oe *present.OverlayError
		if !errors.Is(err, ErrOverlayRefused) || !errors.As(err, &oe) || oe.Layer != -1 {
			t.Fatalf("try %d: refused set: err %v, want an OverlayError for the whole set", try, err)
		}
	}
	if f.k.overlayTests != 1 || f.k.count("COMMIT") != 0 || f.k.pending != 0 || f.CopiedBytes() != 0 {
		t.Fatalf("refused set: %d tests (want 1), calls %v, copied %d", f.k.overlayTests, f.k.calls, f.CopiedBytes())
	}
	// Reduced to nothing on the overlays: the frame is composited.
	f.mustCommit(OutputState{Damage: two.Damage})
	f.complete()

	// A format no overlay plane takes: blamed by index, no ioctl, and
	// not retried.
	f.k.refuseOverlays = false
	nv := f.k.buffer(3, 32)
	nv.Format = 'N' | 'V'<<8 | '1'<<16 | '2'<<24
	f.k.calls = nil
	for range 2 {
		err := f.Commit(OutputState{Damage: two.Damage, Overlays: []OverlayState{layer(1, a, 0, 0), layer(3, nv, 32, 24)}})
		var oe *present.OverlayError
		if !errors.As(err, &oe) || oe.Layer != 1 {
			t.Fatalf("unlisted format: err %v, want an OverlayError for layer 1", err)
		}
	}
	if len(f.k.calls) != 0 {
		t.Errorf("unlisted format: calls %v, want none (layer 0 is imported already)", f.k.calls)
	}
	// More layers than planes.
	if err := f.Commit(OutputState{Damage: two.Damage, Overlays: []OverlayState{layer(1, a, 0, 0), layer(2, b, 0, 0), layer(4, b, 0, 0)}}); !errors.Is(err, ErrOverlayRefused) {
		t.Errorf("three layers on two planes: err %v", err)
	}
	// Legacy KMS has no overlays.
	l := newFakeOutput(t, false, 2)
	if len(l.OverlayPlanes()) != 0 {
		t.Fatal("legacy output offers overlay planes")
	}
	if err := l.Commit(OutputState{Damage: two.Damage, Overlays: []OverlayState{layer(1, l.k.buffer(1, 30), 0, 0)}}); !errors.Is(err, ErrOverlayRefused) {
		t.Errorf("overlay on legacy KMS: err %v", err)
	}
}

// TestOverlayWaitsBehindCursorCommit: a frame with a new overlay buffer
// and no primary damage, made while a cursor-only commit is in flight,
// is committed from that commit's event, not dropped.
func TestOverlayWaitsBehindCursorCommit(t *testing.T) {
	f := newFakeOutput(t, true, 2)
	f.withCursor()
	f.withOverlays(1)
	if !f.SetCursor(cursorImage(4, 4), image.Point{}) || !f.MoveCursor(3, 3) {
		t.Fatal("cursor refused")
	}
	f.mustCommit(OutputState{Damage: []image.Rectangle{}, Overlays: []OverlayState{layer(1, f.k.buffer(1, 30), 0, 0)}})
	if f.k.overlayFB(0) != 0 {
		t.Fatal("frame committed while the cursor commit was in flight")
	}
	f.completeCursor()
	if f.k.overlayFB(0) < firstClientFB {
		t.Fatalf("queued overlay frame not committed after the cursor commit landed: calls %v", f.k.calls)
	}
	f.complete()
}
