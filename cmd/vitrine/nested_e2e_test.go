package main

import (
	"image"
	"testing"
	"time"
)

// quadrantsOfSize accepts a screenshot of the given size that shows the
// quadrants pattern (checked at each quadrant's centre; checkQuadrants
// then compares every pixel).
func quadrantsOfSize(w, h int) func(image.Image) bool {
	return func(img image.Image) bool {
		if img.Bounds().Size() != image.Pt(w, h) {
			return false
		}
		for _, p := range []image.Point{{w / 4, h / 4}, {3 * w / 4, h / 4}, {w / 4, 3 * h / 4}, {3 * w / 4, 3 * h / 4}} {
			if rgb(img.At(p.X, p.Y)) != quadrantColor(p.X, p.Y, w, h) {
				return false
			}
		}
		return true
	}
}

// TestWaylandBackendInsideVitrine runs vitrine as a window of another
// vitrine (headless, the simplest parent grim can capture): the inner
// one is started without --backend, so auto must pick wayland from
// WAYLAND_DISPLAY. Its quadrants client must show pixel-exact in the
// parent's screenshot, and resizing the parent's output (the kiosk
// layout then resizes the window) must reach the client as a configure
// and the screenshot again.
func TestWaylandBackendInsideVitrine(t *testing.T) {
	need(t, "grim", "wlr-randr")
	parent := startVitrine(t, "--output", "640x480")
	inner := launchVitrine(t, parent.runtime, []string{"WAYLAND_DISPLAY=" + parent.display},
		"--output", "320x240", "--", "shm-client", "--pattern", "quadrants", "--fullscreen")
	inner.stdout.wait(t, `^first-frame 640x480$`, 10*time.Second)
	waitLog(t, inner, "backend=wayland why=\"WAYLAND_DISPLAY is set")
	checkQuadrants(t, waitForPixels(t, parent, quadrantsOfSize(640, 480)))

	if out, ok := parent.wlrRandr("--output", "HEADLESS-1", "--custom-mode", "800x600"); !ok {
		t.Fatalf("wlr-randr: %s", out)
	}
	inner.stdout.wait(t, `^resized 800x600$`, 10*time.Second)
	checkQuadrants(t, waitForPixels(t, parent, quadrantsOfSize(800, 600)))

	// The parent's frame callbacks pace the inner compositor: it cannot
	// have shown more frames than the parent.
	inner.stop()
	parent.stop()
	innerFrames, _ := inner.stats()
	parentFrames, _ := parent.stats()
	t.Logf("frames: inner %d, parent %d", innerFrames, parentFrames)
	if innerFrames == 0 || innerFrames > parentFrames {
		t.Fatalf("inner vitrine showed %d frames, the parent %d: the parent's frame callbacks should pace it", innerFrames, parentFrames)
	}
}

// TestWaylandBackendExitsWhenParentGoes: two windows (outputs) open,
// and the parent going away ends the inner compositor with an error
// that says so.
func TestWaylandBackendExitsWhenParentGoes(t *testing.T) {
	parent := startVitrine(t, "--output", "320x240")
	inner := launchVitrine(t, parent.runtime, []string{"WAYLAND_DISPLAY=" + parent.display}, "--backend", "wayland", "--wayland-outputs", "2")
	waitLog(t, inner, "name=WL-2")
	waitLog(t, inner, "listening")
	parent.stop()
	if status := inner.wait(5 * time.Second); status != 1 {
		t.Fatalf("inner vitrine exited with %d after its parent went, want 1:\n%s", status, inner.log())
	}
	waitLog(t, inner, "the parent compositor closed the connection")
}
