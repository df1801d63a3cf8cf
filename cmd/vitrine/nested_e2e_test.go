package main

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
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

// startWeston runs weston's headless backend (pixman, desktop shell)
// with a w×h output in runtime; --debug offers weston_screenshooter.
func startWeston(t *testing.T, runtime string, w, h int) string {
	t.Helper()
	need(t, "weston", "weston-screenshooter")
	ini := filepath.Join(t.TempDir(), "weston.ini")
	// No animations: a screenshot must show the window, not a fade in.
	if err := os.WriteFile(ini, []byte("[core]\nidle-time=0\n[shell]\nanimation=none\nclose-animation=none\nstartup-animation=none\nfocus-animation=none\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	socket := "weston-parent"
	cmd := exec.Command("weston", "--backend=headless-backend.so", "--use-pixman", "--debug", "--socket="+socket,
		"--idle-time=0", "--config="+ini, fmt.Sprintf("--width=%d", w), fmt.Sprintf("--height=%d", h))
	cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+runtime)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		kill := time.AfterFunc(5*time.Second, func() { cmd.Process.Kill() })
		cmd.Wait()
		kill.Stop()
		if t.Failed() {
			t.Logf("weston log:\n%s", log.String())
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for !fileExists(filepath.Join(runtime, socket)) {
		if time.Now().After(deadline) {
			t.Fatalf("weston did not create its socket within 15 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return socket
}

// westonScreenshot captures weston's output with weston-screenshooter.
func westonScreenshot(t *testing.T, runtime, socket string) image.Image {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("weston-screenshooter")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+runtime, "WAYLAND_DISPLAY="+socket)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("weston-screenshooter: %v\n%s", err, out)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.png"))
	if len(files) != 1 {
		t.Fatalf("weston-screenshooter wrote %d files, want 1", len(files))
	}
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// findWindow is the w×h rectangle whose top-left pixel is the first
// pure red one (the quadrants pattern starts red), or false.
func findWindow(img image.Image, w, h int) (image.Rectangle, bool) {
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if rgb(img.At(x, y)) == [3]uint8{0xff, 0, 0} {
				r := image.Rect(x, y, x+w, y+h)
				return r, r.In(b)
			}
		}
	}
	return image.Rectangle{}, false
}

// TestWaylandBackendInsideWeston: the same quadrants client, with
// weston's desktop shell as the parent: the window keeps the size
// vitrine asks for (--output 320x240) wherever weston places it, and
// shows pixel-exact in weston's own screenshot.
func TestWaylandBackendInsideWeston(t *testing.T) {
	runtime := testRuntimeDir(t)
	socket := startWeston(t, runtime, 800, 600)
	inner := launchVitrine(t, runtime, []string{"WAYLAND_DISPLAY=" + socket},
		"--backend", "wayland", "--output", "320x240", "--", "shm-client", "--pattern", "quadrants", "--fullscreen")
	inner.stdout.wait(t, `^first-frame 320x240$`, 10*time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for {
		img := westonScreenshot(t, runtime, socket)
		if win, ok := findWindow(img, 320, 240); ok {
			if sub, ok := img.(interface {
				SubImage(image.Rectangle) image.Image
			}); ok {
				checkQuadrants(t, sub.SubImage(win))
				return
			}
			t.Fatalf("screenshot type %T cannot be cropped", img)
		}
		if time.Now().After(deadline) {
			t.Fatal("the nested vitrine's window did not appear in weston's screenshot within 10 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
