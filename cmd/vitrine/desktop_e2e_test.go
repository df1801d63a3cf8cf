package main

import (
	"fmt"
	"image"
	"regexp"
	"testing"
	"time"

	"github.com/vitrine-wm/vitrine/protocol/protocoltest"
)

// The desktop layout's placement, on a 1280x720 output: the first
// window centred, each next one cascaded 32 px from the one on top and
// slid back onto the output where it would stick out. weston-simple-shm
// is 250x250 with a white frame around its pattern; foot is 700x500
// (its default initial-window-size-pixels) with a dark background.
var (
	shm1Rect = image.Rect(515, 235, 765, 485)  // centred
	shm2Rect = image.Rect(547, 267, 797, 517)  // +32, +32
	footRect = image.Rect(580, 220, 1280, 720) // +32, +32, slid back left and up
)

// pointerClient drives a zwlr_virtual_pointer_v1 of its own.
type pointerClient struct {
	*protocoltest.Client
	ptr uint32
}

func dialPointer(t *testing.T, c *compositor) *pointerClient {
	t.Helper()
	cl, err := protocoltest.Dial(c.socketPath())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	g, reg, err := cl.Globals(3 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := g["zwlr_virtual_pointer_manager_v1"]; !ok {
		t.Fatal("no zwlr_virtual_pointer_manager_v1 global")
	}
	mgr := bind(cl, g, reg, "zwlr_virtual_pointer_manager_v1", 2)
	p := &pointerClient{Client: cl, ptr: cl.NewID()}
	cl.Send(mgr, 0, uint32(0), p.ptr)
	if err := cl.Roundtrip(3 * time.Second); err != nil {
		t.Fatal(err)
	}
	return p
}

// click moves to (x, y) on the 1280x720 output and clicks the left
// button.
func (p *pointerClient) click(t *testing.T, x, y int) {
	t.Helper()
	const motionAbs, button, frame = 1, 2, 4
	p.Send(p.ptr, motionAbs, uint32(0), uint32(x), uint32(y), uint32(1280), uint32(720))
	p.Send(p.ptr, frame)
	p.Send(p.ptr, button, uint32(1), uint32(0x110), uint32(1))
	p.Send(p.ptr, frame)
	p.Send(p.ptr, button, uint32(2), uint32(0x110), uint32(0))
	p.Send(p.ptr, frame)
	if err := p.Roundtrip(3 * time.Second); err != nil {
		t.Fatal(err)
	}
}

// count is how many lines so far match re.
func (w *lineWaiter) count(re string) int {
	rx := regexp.MustCompile(re)
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, l := range w.lines {
		if rx.MatchString(l) {
			n++
		}
	}
	return n
}

// waitCount waits until n lines match re.
func (w *lineWaiter) waitCount(t *testing.T, re string, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for w.count(re) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d lines match %q after %v, want %d", w.count(re), re, timeout, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitScreen takes screenshots until check passes.
func (c *compositor) waitScreen(t *testing.T, what string, check func(img image.Image) error) image.Image {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		img := c.screenshot()
		err := check(img)
		if err == nil {
			return img
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var white = [3]uint8{255, 255, 255}

// want checks pixels of img: each point must (or, with not, must not)
// have colour col.
func want(img image.Image, col [3]uint8, is bool, pts ...image.Point) error {
	for _, p := range pts {
		if got := rgb(img.At(p.X, p.Y)); (got == col) != is {
			verb := "is not"
			if !is {
				verb = "is"
			}
			return fmt.Errorf("pixel %v = %v %s %v", p, got, verb, col)
		}
	}
	return nil
}

// corner is a point in the white frame at a window's corner.
func topLeft(r image.Rectangle) image.Point     { return r.Min.Add(image.Pt(3, 3)) }
func bottomRight(r image.Rectangle) image.Point { return r.Max.Sub(image.Pt(4, 4)) }

// TestDesktopLayout runs the desktop layout with real clients: two
// weston-simple-shm windows and a foot are all in sight (cascaded); a
// click of the virtual pointer raises and focuses the window under it
// (its frame shows over the others, foot gets wl_keyboard.leave and
// then enter again); wtype's Alt+Tab and Alt+Shift+Tab cycle focus; and
// Super+Q makes foot exit. It fails if windows fill the output or pile
// up on one spot, if a click does not change the stacking or focus, if
// the bindings do not run, or if close is not sent.
func TestDesktopLayout(t *testing.T) {
	need(t, "foot", "wtype", "weston-simple-shm", "grim")
	c := startVitrine(t, "--output", "1280x720", "--layout", "desktop")
	// The virtual pointer gives the seat a pointer, a first wtype a
	// keyboard, before the clients bind their seats.
	ptr := dialPointer(t, c)
	c.run("wtype", "-k", "Shift_L")

	c.client("weston-simple-shm")
	c.waitScreen(t, "first simple-shm, centred", func(img image.Image) error {
		return want(img, white, true, topLeft(shm1Rect), bottomRight(shm1Rect))
	})
	c.client("weston-simple-shm")
	c.waitScreen(t, "second simple-shm, cascaded over the first", func(img image.Image) error {
		return want(img, white, true, topLeft(shm1Rect), topLeft(shm2Rect), bottomRight(shm2Rect))
	})
	footCmd, foot := c.debugClient("foot")
	foot.wait(t, `wl_keyboard@\d+\.enter`, 10*time.Second)
	footAt := footRect.Min.Add(image.Pt(400, 300)) // in foot only
	var footBG [3]uint8
	c.waitScreen(t, "foot, cascaded, with both simple-shm frames still in sight", func(img image.Image) error {
		footBG = rgb(img.At(footAt.X, footAt.Y))
		if footBG == white || footBG == [3]uint8{} {
			return fmt.Errorf("no foot at %v (colour %v)", footAt, footBG)
		}
		// Foot covers the right part of both; their left frames show.
		if err := want(img, white, true, topLeft(shm1Rect), topLeft(shm2Rect)); err != nil {
			return err
		}
		return want(img, footBG, true, bottomRight(shm1Rect), bottomRight(shm2Rect))
	})
	enter, leave := `wl_keyboard@\d+\.enter`, `wl_keyboard@\d+\.leave`

	// A click on the first window's visible strip raises it over foot
	// and the second, and takes the keyboard from foot.
	ptr.click(t, shm1Rect.Min.X+10, shm1Rect.Min.Y+120)
	c.waitScreen(t, "the clicked simple-shm raised", func(img image.Image) error {
		return want(img, white, true, bottomRight(shm1Rect))
	})
	foot.waitCount(t, leave, 1, 5*time.Second)

	// A click on foot gives it the keyboard back and raises it.
	ptr.click(t, footAt.X, footAt.Y)
	foot.waitCount(t, enter, 2, 5*time.Second)
	c.waitScreen(t, "foot raised by its click", func(img image.Image) error {
		return want(img, footBG, true, bottomRight(shm1Rect))
	})

	// Stack (bottom to top): shm2, shm1, foot. Alt+Tab raises the
	// bottom one, the second simple-shm: foot loses the keyboard.
	c.run("wtype", "-M", "alt", "-k", "Tab", "-m", "alt")
	foot.waitCount(t, leave, 2, 5*time.Second)
	c.waitScreen(t, "Alt+Tab raised the second simple-shm", func(img image.Image) error {
		return want(img, white, true, bottomRight(shm2Rect))
	})
	// Alt+Shift+Tab sends it back to the bottom: foot is on top again.
	c.run("wtype", "-M", "alt", "-M", "shift", "-k", "Tab", "-m", "shift", "-m", "alt")
	foot.waitCount(t, enter, 3, 5*time.Second)
	c.waitScreen(t, "Alt+Shift+Tab put foot back on top", func(img image.Image) error {
		return want(img, footBG, true, bottomRight(shm2Rect))
	})
	if n := foot.count(enter); n != 3 {
		t.Fatalf("foot got wl_keyboard.enter %d times, want 3", n)
	}

	// Super+Q closes foot.
	c.run("wtype", "-M", "logo", "-k", "q", "-m", "logo")
	done := make(chan error, 1)
	go func() { done <- footCmd.Wait() }()
	select {
	case <-done:
		// foot exits with its shell's status, which the hang-up of
		// the close makes 1; a signal would have killed it instead.
		if footCmd.ProcessState.ExitCode() < 0 {
			t.Fatalf("foot was killed (%v) instead of closing after Super+Q", footCmd.ProcessState)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("foot still running 5 s after Super+Q")
	}
	// Left (bottom to top): shm2, shm1.
	c.waitScreen(t, "foot gone, both simple-shm windows shown", func(img image.Image) error {
		return want(img, white, true, topLeft(shm1Rect), bottomRight(shm1Rect), bottomRight(shm2Rect))
	})
}
