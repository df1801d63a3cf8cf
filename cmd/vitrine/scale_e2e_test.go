package main

import (
	"encoding/binary"
	"image"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Requests and events of the scale tests, spoken raw.
const (
	surfaceSetBufferScale = 8
	fracManagerGet        = 1
	fracEvPreferredScale  = 0
	viewporterGetViewport = 1
	viewportSetDest       = 2
)

// scalePattern is a colour unique to each pixel of a buffer up to
// 4096x4096, so a screenshot shows whether every pixel landed where it
// should, once.
func scalePattern(x, y int) [3]uint8 {
	return [3]uint8{uint8(x), uint8(y), uint8((x>>8)*16 + y>>8)}
}

// attachPattern commits a w×h buffer of scalePattern to surf, with
// set run first (buffer scale, viewport), and waits until the
// compositor has taken it.
func (rc *rawClient) attachPattern(t *testing.T, surf uint32, w, h int, set func()) {
	t.Helper()
	fd, err := unix.MemfdCreate("pattern", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	size := w * h * 4
	unix.Ftruncate(fd, int64(size))
	pix, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := scalePattern(x, y)
			binary.LittleEndian.PutUint32(pix[4*(y*w+x):], uint32(c[0])<<16|uint32(c[1])<<8|uint32(c[2]))
		}
	}
	unix.Munmap(pix)
	pool, buf := rc.NewID(), rc.NewID()
	rc.SendFDs([]int{fd}, rc.shm, 0, pool, int32(size))
	rc.Send(pool, 0, buf, int32(0), int32(w), int32(h), int32(w*4), uint32(1))
	if set != nil {
		set()
	}
	rc.Send(surf, 1, buf, int32(0), int32(0))
	rc.Send(surf, 9, int32(0), int32(0), int32(w), int32(h))
	rc.Send(surf, 6)
	if err := rc.Roundtrip(3 * time.Second); err != nil {
		t.Fatal(err)
	}
}

// TestScale2DoublesClientPixels: with --scale 2 a 640x480 output is a
// 320x240 layout; shm-client drawing a 101x51 window without knowing
// about scales is centred in it and grim shows each of its pixels as a
// 2x2 block, every other pixel black.
func TestScale2DoublesClientPixels(t *testing.T) {
	need(t, "grim")
	c := startVitrine(t, "--output", "640x480", "--scale", "2", "--layout", "kiosk", "--",
		"shm-client", "--pattern", "quadrants", "--fixed-size", "--size", "101x51")
	c.stdout.wait(t, `^first-frame 101x51$`, 10*time.Second)
	img := c.screenshot()
	if img.Bounds().Size() != image.Pt(640, 480) {
		t.Fatalf("screenshot %v, want the panel's 640x480", img.Bounds().Size())
	}
	// Centred in 320x240 at (109, 94), so at (218, 188) in pixels.
	win := image.Rect(218, 188, 218+202, 188+102)
	checkScreen(t, img, func(x, y int) [3]uint8 {
		if !image.Pt(x, y).In(win) {
			return [3]uint8{}
		}
		return quadrantColor((x-win.Min.X)/2, (y-win.Min.Y)/2, 101, 51)
	})
}

// TestScale2BufferScale2IsOneToOne: a client that follows wl_output.scale
// 2 with set_buffer_scale(2) and a buffer twice its logical size is
// shown pixel for pixel.
func TestScale2BufferScale2IsOneToOne(t *testing.T) {
	need(t, "grim")
	c := startVitrine(t, "--output", "640x480", "--scale", "2", "--layout", "kiosk")
	rc := dialRaw(t, c)
	w := rc.toplevel(t, nil)
	if w.size != image.Pt(320, 240) {
		t.Fatalf("configure %v, want the logical 320x240", w.size)
	}
	rc.attachPattern(t, w.surf, 640, 480, func() { rc.Send(w.surf, surfaceSetBufferScale, int32(2)) })
	checkScreen(t, c.screenshot(), scalePattern)
}

// TestFractionalScaleClientIsPixelExact: at --scale 1.5 a 960x720 output
// is a 640x480 layout. A client speaking wp_fractional_scale_v1 is told
// 180 (1.5 in 120ths), draws a 960x720 buffer with a wp_viewport
// destination of 640x480, and grim shows it pixel for pixel. When
// wlr-randr changes the scale to 2 it is told 240.
func TestFractionalScaleClientIsPixelExact(t *testing.T) {
	need(t, "grim", "wlr-randr", "wayland-info")
	c := startVitrine(t, "--output", "960x720", "--scale", "HEADLESS-1=1.5", "--layout", "kiosk")
	rc := dialRaw(t, c)
	g, reg, err := rc.Globals(3 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	mgr := bind(rc.Client, g, reg, "wp_fractional_scale_manager_v1", 1)
	vp := bind(rc.Client, g, reg, "wp_viewporter", 1)
	w := rc.toplevel(t, nil)
	frac, viewport := rc.NewID(), rc.NewID()
	rc.Send(mgr, fracManagerGet, frac, w.surf)
	rc.Send(vp, viewporterGetViewport, viewport, w.surf)
	if s := readPreferredScale(t, rc, frac); s != 180 {
		t.Fatalf("preferred_scale %d, want 180", s)
	}
	if w.size != image.Pt(640, 480) {
		t.Fatalf("configure %v, want the logical 640x480", w.size)
	}
	rc.attachPattern(t, w.surf, 960, 720, func() { rc.Send(viewport, viewportSetDest, int32(640), int32(480)) })
	checkScreen(t, c.screenshot(), scalePattern)

	if out, ok := c.wlrRandr("--output", "HEADLESS-1", "--scale", "2"); !ok {
		t.Fatalf("wlr-randr --scale 2 failed:\n%s", out)
	}
	if s := readPreferredScale(t, rc, frac); s != 240 {
		t.Fatalf("preferred_scale %d after wlr-randr --scale 2, want 240", s)
	}
	if info := c.run("wayland-info"); !strings.Contains(info, "logical_width: 480, logical_height: 360") {
		t.Fatalf("wayland-info shows no 480x360 logical size after --scale 2:\n%s", info)
	}
}

// readPreferredScale reads rc's events until frac's preferred_scale.
func readPreferredScale(t *testing.T, rc *rawClient, frac uint32) uint32 {
	t.Helper()
	for {
		e, err := rc.Read(5 * time.Second)
		if err != nil {
			t.Fatalf("waiting for wp_fractional_scale_v1.preferred_scale: %v", err)
		}
		if e.Object == 1 && e.Opcode == 0 {
			t.Fatalf("protocol error: %s", e.String(2))
		}
		if e.Object == frac && e.Opcode == fracEvPreferredScale {
			return e.Uint(0)
		}
	}
}
