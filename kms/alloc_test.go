package kms

import (
	"image"
	"testing"

	"github.com/vitrine-wm/vitrine/kms/dmabuf"
	"github.com/vitrine-wm/vitrine/scene/present"
)

// A steady composited frame (copy the damage, commit with damage clips,
// land the flip, notify) allocates nothing: DESIGN.md's rule, on the
// KMS side of the frame (scene's TestFrameAllocatesNothing covers the
// rest, on headless).
func TestCompositedFrameAllocatesNothing(t *testing.T) {
	for _, atomic := range []bool{true, false} {
		f := newFakeOutput(t, atomic, 2)
		damage := []image.Rectangle{image.Rect(0, 0, 8, 8), image.Rect(20, 20, 30, 28)}
		// wait() slices completions off the front; the test gives the
		// notify list its room back each frame, or its own appends
		// would be counted.
		done := make([]present.Info, 0, 4)
		frame := func() {
			if err := f.Present(damage); err != nil {
				t.Fatal(err)
			}
			f.complete()
			f.done = done[:0]
			f.k.calls = f.k.calls[:0]
		}
		for range 4 {
			frame() // warm up: buffers, scratch slices, maps
		}
		if n := testing.AllocsPerRun(200, frame); n != 0 {
			t.Errorf("atomic=%v: %.1f allocations per composited frame, want 0", atomic, n)
		}
	}
}

// Direct scanout of a client's two buffers, alternating as a
// double-buffered client does, allocates nothing once both are imported.
func TestScanoutFrameAllocatesNothing(t *testing.T) {
	f := newFakeOutput(t, true, 2)
	bufs := []*dmabuf.Buffer{f.k.buffer(1, 30), f.k.buffer(2, 31)}
	done := make([]present.Info, 0, 4)
	i := 0
	frame := func() {
		f.mustScanout(uint64(1+i%2), bufs[i%2])
		i++
		if info := f.complete(); info.Flags&present.ZeroCopy == 0 {
			t.Fatalf("frame %d not scanned out: flags %#x", i, info.Flags)
		}
		f.done = done[:0]
		f.k.calls = f.k.calls[:0]
	}
	for range 4 {
		frame()
	}
	if n := testing.AllocsPerRun(200, frame); n != 0 {
		t.Errorf("%.1f allocations per scanout frame, want 0", n)
	}
}

// A composited frame with a video on an overlay plane, the video
// alternating between its two buffers, allocates nothing once both
// configurations were tested.
func TestOverlayFrameAllocatesNothing(t *testing.T) {
	f := newFakeOutput(t, true, 2)
	f.withOverlays(2)
	bufs := []*dmabuf.Buffer{f.k.buffer(1, 30), f.k.buffer(2, 31)}
	damage := []image.Rectangle{image.Rect(0, 0, 8, 8)}
	layers := make([]OverlayState, 1)
	done := make([]present.Info, 0, 4)
	i := 0
	frame := func() {
		layers[0] = layer(uint64(1+i%2), bufs[i%2], 16, 10)
		i++
		f.mustCommit(OutputState{Damage: damage, Overlays: layers})
		f.complete()
		f.done = done[:0]
		f.k.calls = f.k.calls[:0]
	}
	for range 4 {
		frame()
	}
	if f.k.overlayFB(0) < firstClientFB {
		t.Fatal("the video is not on the overlay plane")
	}
	if n := testing.AllocsPerRun(200, frame); n != 0 {
		t.Errorf("%.1f allocations per frame with an overlay, want 0", n)
	}
}
