package main

import (
	"bytes"
	"fmt"
	"image"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vitrine-wm/vitrine/examples/internal/pattern"
	"github.com/vitrine-wm/vitrine/examples/internal/westontest"
)

func TestMain(m *testing.M) {
	if os.Getenv(westontest.RunMainEnv) == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// screenshotMatches retries for a short while: the compositor may show the
// frame a refresh after the frame callback that announced it.
func screenshotMatches(t *testing.T, w *westontest.Weston, want func(x, y int) uint32) {
	t.Helper()
	var msg string
	for try := 0; try < 10; try++ {
		img := w.Screenshot(t)
		if b := img.Bounds(); b.Dx() != w.Width || b.Dy() != w.Height {
			t.Fatalf("screenshot is %dx%d, want %dx%d", b.Dx(), b.Dy(), w.Width, w.Height)
		}
		if msg = westontest.Mismatch(img, want); msg == "" {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("screenshot does not show the expected image: %s", msg)
}

func TestQuadrantsFullscreenPixels(t *testing.T) {
	const w, h = 321, 241 // odd: the split must be at floor(w/2), floor(h/2)
	wst := westontest.Start(t, w, h)
	c := westontest.Run(t, wst.Env(), "--pattern", "quadrants", "--fullscreen")
	if got, want := c.WaitLine(t, "first-frame", 10*time.Second), fmt.Sprintf("first-frame %dx%d", w, h); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	screenshotMatches(t, wst, func(x, y int) uint32 { return pattern.QuadrantColor(w, h, x, y) })
}

// TestMovingBoxFinalImage runs the animation for a fixed number of frames
// and checks the final screen pixel by pixel: the client damages only the
// old and new box, so any damage or buffer-reuse mistake leaves stale
// magenta or black pixels behind.
func TestMovingBoxFinalImage(t *testing.T) {
	const w, h, frames = 256, 160, 45
	wst := westontest.Start(t, w, h)
	start := time.Now()
	c := westontest.Run(t, wst.Env(), "--pattern", "moving-box", "--fullscreen", "--frames", fmt.Sprint(frames), "--seconds", "4")
	if got := c.WaitLine(t, "first-frame", 10*time.Second); got != fmt.Sprintf("first-frame %dx%d", w, h) {
		t.Fatalf("got %q", got)
	}
	box := pattern.NewBox(w, h)
	final := c.WaitLine(t, "final-box", 20*time.Second)
	if want := box.FinalLine(frames); final != want {
		t.Fatalf("got %q, want %q", final, want)
	}
	var x, y, bw, bh, n int
	if _, err := fmt.Sscanf(final, "final-box x=%d y=%d w=%d h=%d frames=%d", &x, &y, &bw, &bh, &n); err != nil {
		t.Fatalf("parse %q: %v", final, err)
	}
	r := image.Rect(x, y, x+bw, y+bh)
	screenshotMatches(t, wst, func(px, py int) uint32 {
		if image.Pt(px, py).In(r) {
			return pattern.Magenta
		}
		return pattern.Black
	})
	if err := c.Wait(t, 15*time.Second); err != nil {
		t.Fatalf("client exit: %v; stderr:\n%s", err, c.Stderr())
	}
	if el := time.Since(start); el < 4*time.Second {
		t.Fatalf("client exited after %v, before --seconds 4", el)
	}
}

func TestFramesExitWithoutSeconds(t *testing.T) {
	wst := westontest.Start(t, 200, 120)
	c := westontest.Run(t, wst.Env(), "--pattern", "moving-box", "--frames", "12")
	// Not fullscreen: desktop-shell leaves the size to the client.
	if got := c.WaitLine(t, "first-frame", 10*time.Second); got != "first-frame 640x480" {
		t.Fatalf("got %q, want first-frame 640x480", got)
	}
	if got, want := c.WaitLine(t, "final-box", 20*time.Second), pattern.NewBox(640, 480).FinalLine(12); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if err := c.Wait(t, 10*time.Second); err != nil {
		t.Fatalf("client exit: %v; stderr:\n%s", err, c.Stderr())
	}
}

func TestQuadrantsFramesAndSize(t *testing.T) {
	wst := westontest.Start(t, 200, 120)
	c := westontest.Run(t, wst.Env(), "--size", "100x50", "--frames", "5")
	if got := c.WaitLine(t, "first-frame", 10*time.Second); got != "first-frame 100x50" {
		t.Fatalf("got %q, want first-frame 100x50", got)
	}
	if got := c.WaitLine(t, "done", 10*time.Second); got != "done frames=5 size=100x50" {
		t.Fatalf("got %q", got)
	}
	if err := c.Wait(t, 10*time.Second); err != nil {
		t.Fatalf("client exit: %v", err)
	}
}

func TestSecondsLimit(t *testing.T) {
	wst := westontest.Start(t, 200, 120)
	start := time.Now()
	c := westontest.Run(t, wst.Env(), "--pattern", "moving-box", "--seconds", "1")
	c.WaitLine(t, "first-frame", 10*time.Second)
	if err := c.Wait(t, 10*time.Second); err != nil {
		t.Fatalf("client exit: %v", err)
	}
	if el := time.Since(start); el < time.Second {
		t.Fatalf("exited after %v, before --seconds 1", el)
	}
	for _, l := range c.Stdout() {
		if strings.HasPrefix(l, "final-box") {
			t.Fatalf("printed %q without --frames", l)
		}
	}
}

func TestNoCompositorError(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", dir)
	t.Setenv("WAYLAND_DISPLAY", "no-such-display")
	var stdout, stderr bytes.Buffer
	if code := run(nil, &stdout, &stderr); code == 0 {
		t.Fatalf("exit status 0 without a compositor")
	}
	msg := stderr.String()
	if !strings.HasPrefix(msg, "shm-client: connect to wayland display") || !strings.Contains(msg, "is WAYLAND_DISPLAY set?") {
		t.Fatalf("unclear error: %q", msg)
	}
	if stdout.Len() != 0 {
		t.Fatalf("stdout not empty: %q", stdout.String())
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--pattern", "stripes"},
		{"--size", "12"},
		{"--frames", "-1"},
		{"extra"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != 2 {
			t.Errorf("%v: exit status %d, want 2 (stderr %q)", args, code, stderr.String())
		}
	}
}
