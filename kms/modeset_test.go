package kms

import (
	"image"
	"slices"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/render"
	"github.com/vitrine-wm/vitrine/scene/present"
)

// withDumbMemory lets the output allocate dumb buffers: the device file
// is a memfd the fake kernel hands out offsets in.
func (f *fakeOutput) withDumbMemory() {
	f.t.Helper()
	fd, err := unix.MemfdCreate("fake-drm", unix.MFD_CLOEXEC)
	if err != nil {
		f.t.Skipf("memfd: %v", err)
	}
	if err := unix.Ftruncate(fd, 64<<20); err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { unix.Close(fd) })
	f.dev.fd = fd
	f.k.dumbOffsets = map[uint32]uint64{}
}

// fakeModes is what the fake connector lists: the current 64x48 twice
// (EDID and standard list), and 32x24 at two rates.
var fakeModes = []Mode{
	{Width: 64, Height: 48, RefreshMilliHz: 1000 * 1000, Preferred: true},
	{Width: 32, Height: 24, RefreshMilliHz: 1000 * 1000},
	{Width: 64, Height: 48, RefreshMilliHz: 1000 * 1000},
	{Width: 32, Height: 24, RefreshMilliHz: 500 * 1000},
}

func newModesetOutput(t *testing.T, atomic bool) *fakeOutput {
	f := newFakeOutput(t, atomic, 2)
	f.withDumbMemory()
	f.modes = fakeModes
	return f
}

func TestModesListsEachOncePreferredFirst(t *testing.T) {
	f := newModesetOutput(t, true)
	f.modes = []Mode{fakeModes[1], fakeModes[0], fakeModes[2], fakeModes[3]}
	got := f.Modes()
	want := []present.Mode{{Width: 64, Height: 48, RefreshMilliHz: 1000000}, {Width: 32, Height: 24, RefreshMilliHz: 1000000}, {Width: 32, Height: 24, RefreshMilliHz: 500000}}
	if !slices.Equal(got, want) {
		t.Errorf("Modes() = %v, want %v", got, want)
	}
}

// TestSetModeDuringFlip: a mode change while a frame's flip is in flight
// lights the new mode with a black buffer of its size, frees the old
// buffers, reports the frame in flight complete exactly once (its late
// flip event is ignored), and the next frames flip normally.
func TestSetModeDuringFlip(t *testing.T) {
	for _, atomic := range []bool{true, false} {
		f := newModesetOutput(t, atomic)
		if err := f.Present([]image.Rectangle{image.Rect(0, 0, 8, 8)}); err != nil {
			t.Fatal(err)
		}
		if err := f.SetMode(present.Mode{Width: 32, Height: 24}); err != nil {
			t.Fatalf("atomic=%v: SetMode: %v (calls %v)", atomic, err, f.k.calls)
		}
		if atomic {
			if w, cw := f.k.last[fakePropID("SRC_W")], f.k.last[fakePropID("CRTC_W")]; w != 32<<16 || cw != 32 {
				t.Errorf("atomic=%v: modeset committed SRC_W %d CRTC_W %d, want 32", atomic, w>>16, cw)
			}
		}
		if b := f.Shadow().Bounds(); b != image.Rect(0, 0, 32, 24) {
			t.Errorf("atomic=%v: shadow %v after SetMode 32x24", atomic, b)
		}
		if w, h, mhz := f.Mode(); w != 32 || h != 24 || mhz != 1000*1000 {
			t.Errorf("atomic=%v: Mode() = %dx%d@%d, want the preferred rate of 32x24 (listed first)", atomic, w, h, mhz)
		}
		if f.k.fbs[1] || f.k.fbs[2] {
			t.Errorf("atomic=%v: the old mode's framebuffers were not freed (live %v)", atomic, f.k.fbs)
		}
		if len(f.k.shownRemoved) != 0 {
			t.Errorf("atomic=%v: framebuffers removed while on screen: %v", atomic, f.k.shownRemoved)
		}
		if f.k.screen < firstClientFB || !f.k.fbs[f.k.screen] {
			t.Errorf("atomic=%v: screen shows framebuffer %d, want the new mode's", atomic, f.k.screen)
		}
		f.wait() // the superseded frame
		f.loop.idle()
		if len(f.done) != 0 {
			t.Errorf("atomic=%v: %d completions for one frame in flight", atomic, len(f.done)+1)
		}
		if err := f.Present([]image.Rectangle{f.Shadow().Bounds()}); err != nil {
			t.Fatalf("atomic=%v: first frame in the new mode: %v (calls %v)", atomic, err, f.k.calls)
		}
		// The old flip's event, read only now, is not this frame's.
		if len(f.k.late) != 1 {
			t.Fatalf("atomic=%v: the modeset did not wait for the flip in flight (late events %v)", atomic, f.k.late)
		}
		f.handleFlip(f.k.late[0])
		f.loop.idle()
		if len(f.done) != 0 {
			t.Errorf("atomic=%v: the old mode's flip event completed the new mode's first frame", atomic)
		}
		f.complete()
		if err := f.Present([]image.Rectangle{image.Rect(0, 0, 4, 4)}); err != nil {
			t.Fatalf("atomic=%v: second frame in the new mode: %v", atomic, err)
		}
		f.complete()
	}
}

// TestSetModeRefusedKeepsPicture: a mode the display refuses changes
// nothing: same mode, shadow and framebuffer on screen, no buffer leaked.
func TestSetModeRefusedKeepsPicture(t *testing.T) {
	for _, atomic := range []bool{true, false} {
		f := newModesetOutput(t, atomic)
		shadow, screen, live := f.Shadow(), f.k.screen, len(f.k.fbs)
		if err := f.SetMode(present.Mode{Width: 100, Height: 100}); err == nil {
			t.Errorf("atomic=%v: SetMode to a size the connector does not list succeeded", atomic)
		}
		if err := f.SetMode(present.Mode{Width: 32, Height: 24, RefreshMilliHz: 750000}); err == nil {
			t.Errorf("atomic=%v: SetMode to a rate the connector does not list succeeded", atomic)
		}
		f.k.refuseModeset = true
		if err := f.SetMode(present.Mode{Width: 32, Height: 24, RefreshMilliHz: 500000}); err == nil {
			t.Fatalf("atomic=%v: SetMode succeeded though the display refused it", atomic)
		}
		f.k.refuseModeset = false
		if w, h, _ := f.Mode(); w != 64 || h != 48 || f.Shadow() != shadow || f.k.screen != screen {
			t.Errorf("atomic=%v: a refused SetMode changed the output: %dx%d, screen %d (was %d)", atomic, w, h, f.k.screen, screen)
		}
		if len(f.k.fbs) != live {
			t.Errorf("atomic=%v: a refused SetMode leaked framebuffers: %d live, was %d", atomic, len(f.k.fbs), live)
		}
		if err := f.Present([]image.Rectangle{image.Rect(0, 0, 8, 8)}); err != nil {
			t.Fatalf("atomic=%v: frame after the refusal: %v", atomic, err)
		}
		f.complete()
	}
}

// TestSetTransformTurnsTheCopy: without plane rotation the shadow takes
// the turned size, the framebuffer keeps the mode's, and a pixel drawn
// in the shadow's top-left lands where a 90° output shows it: the
// framebuffer's bottom-left (wl_output turns counter-clockwise).
func TestSetTransformTurnsTheCopy(t *testing.T) {
	f := newModesetOutput(t, true)
	if err := f.SetTransform(render.Rotate90); err != nil {
		t.Fatalf("SetTransform: %v", err)
	}
	if b := f.Shadow().Bounds(); b != image.Rect(0, 0, 48, 64) {
		t.Fatalf("shadow %v after a 90° turn of 64x48, want 48x64", b)
	}
	if f.Transform() != render.Rotate90 || f.PlaneRotation() {
		t.Errorf("Transform %v, plane rotation %v: want 90, done in the copy", f.Transform(), f.PlaneRotation())
	}
	sh := f.Shadow()
	copy(sh.Pix[0:4], []byte{0, 0, 0xff, 0xff}) // red at (0,0)
	if err := f.Present([]image.Rectangle{image.Rect(0, 0, 1, 1)}); err != nil {
		t.Fatal(err)
	}
	f.complete()
	fb := f.front.img
	if fb.Width != 64 || fb.Height != 48 {
		t.Fatalf("framebuffer %dx%d, want the mode's 64x48", fb.Width, fb.Height)
	}
	var at []image.Point
	for y := range fb.Height {
		for x := range fb.Width {
			if fb.Pix[y*fb.Stride+x*4+2] == 0xff {
				at = append(at, image.Pt(x, y))
			}
		}
	}
	if want := render.Rotate90.Point(image.Pt(0, 0), 48, 64); len(at) != 1 || at[0] != want {
		t.Errorf("the shadow's top-left pixel is at %v in the framebuffer, want %v", at, want)
	}
	if err := f.SetTransform(render.Transform(99)); err == nil {
		t.Error("SetTransform(99) succeeded")
	}
}
