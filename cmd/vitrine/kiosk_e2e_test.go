package main

import (
	"encoding/binary"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/protocol/protocoltest"
)

// Requests and events of xdg-shell the kiosk tests speak raw.
const (
	xdgToplevelSetParent       = 1
	xdgToplevelSetMaxSize      = 7
	xdgToplevelSetMinSize      = 8
	xdgToplevelUnsetMaximized  = 10
	xdgToplevelUnsetFullscreen = 12

	xdgToplevelConfigure       = 0
	xdgToplevelConfigureBounds = 2
	xdgToplevelWmCapabilities  = 3

	xdgStateFullscreen      = 2
	xdgCapabilityFullscreen = 3
)

// rawClient is a protocoltest connection with the globals a window
// needs bound.
type rawClient struct {
	*protocoltest.Client
	comp, shm, wm uint32
}

func dialRaw(t *testing.T, c *compositor) *rawClient {
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
	return &rawClient{Client: cl,
		comp: bind(cl, g, reg, "wl_compositor", 5),
		shm:  bind(cl, g, reg, "wl_shm", 1),
		wm:   bind(cl, g, reg, "xdg_wm_base", 5),
	}
}

// rawToplevel is an xdg_toplevel made by a rawClient and what the
// compositor told it before its first xdg_surface.configure.
type rawToplevel struct {
	surf, xs, top uint32
	// events are the xdg_toplevel events up to the first configure.
	events []protocoltest.Event
	// size and states are from the first xdg_toplevel.configure.
	size   image.Point
	states []uint32
}

// toplevel makes a toplevel, lets setup send requests before the
// initial commit, and acknowledges the first configure.
func (rc *rawClient) toplevel(t *testing.T, setup func(top uint32)) *rawToplevel {
	t.Helper()
	w := &rawToplevel{surf: rc.NewID(), xs: rc.NewID(), top: rc.NewID()}
	rc.Send(rc.comp, 0, w.surf)
	rc.Send(rc.wm, 2, w.xs, w.surf)
	rc.Send(w.xs, 1, w.top)
	if setup != nil {
		setup(w.top)
	}
	rc.Send(w.surf, 6)
	for {
		e, err := rc.Read(5 * time.Second)
		if err != nil {
			t.Fatalf("waiting for the first configure: %v", err)
		}
		if e.Object == 1 && e.Opcode == 0 {
			t.Fatalf("protocol error: %s", e.String(2))
		}
		if e.Object == w.top {
			w.events = append(w.events, e)
			if e.Opcode == xdgToplevelConfigure {
				w.size = image.Pt(int(e.Uint(0)), int(e.Uint(1)))
				n := int(e.Uint(2))
				w.states = w.states[:0]
				for i := 0; i < n/4; i++ {
					w.states = append(w.states, e.Uint(3+i))
				}
			}
		}
		if e.Object == w.xs && e.Opcode == 0 {
			rc.Send(w.xs, 4, e.Uint(0))
			return w
		}
	}
}

// show commits a width×height buffer of one XRGB colour to w and waits
// until the compositor has taken it.
func (rc *rawClient) show(t *testing.T, w *rawToplevel, width, height int, xrgb uint32) {
	t.Helper()
	rc.attach(t, w, width, height, xrgb)
	if err := rc.Roundtrip(3 * time.Second); err != nil {
		t.Fatal(err)
	}
}

// attach commits a width×height buffer of one XRGB colour to w.
func (rc *rawClient) attach(t *testing.T, w *rawToplevel, width, height int, xrgb uint32) {
	t.Helper()
	fd, err := unix.MemfdCreate("window", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	size := width * height * 4
	unix.Ftruncate(fd, int64(size))
	pix, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < width*height; i++ {
		binary.LittleEndian.PutUint32(pix[4*i:], xrgb)
	}
	unix.Munmap(pix)
	pool, buf := rc.NewID(), rc.NewID()
	rc.SendFDs([]int{fd}, rc.shm, 0, pool, int32(size))
	rc.Send(pool, 0, buf, int32(0), int32(width), int32(height), int32(width*4), uint32(1))
	rc.Send(w.surf, 1, buf, int32(0), int32(0))
	rc.Send(w.surf, 2, int32(0), int32(0), int32(width), int32(height))
	rc.Send(w.surf, 6)
}

// checkScreen compares every pixel of img with want.
func checkScreen(t *testing.T, img image.Image, want func(x, y int) [3]uint8) {
	t.Helper()
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if got, w := rgb(img.At(x, y)), want(x, y); got != w {
				t.Fatalf("pixel (%d,%d) = %v, want %v", x, y, got, w)
			}
		}
	}
}

// checkWindowOn wants img to be one colour inside win and another
// around it.
func checkWindowOn(t *testing.T, img image.Image, win image.Rectangle, inside, around [3]uint8) {
	t.Helper()
	checkScreen(t, img, func(x, y int) [3]uint8 {
		if image.Pt(x, y).In(win) {
			return inside
		}
		return around
	})
}

// TestUnsetFullscreenStillFills is what GTK 4 does while it maps: it
// asks to leave fullscreen and maximized, and sets size hints smaller
// than the screen. In the kiosk layout it is told the output's size and
// the fullscreen state anyway, and fills the screenshot.
func TestUnsetFullscreenStillFills(t *testing.T) {
	need(t, "grim")
	c := startVitrine(t, "--output", "640x480")
	rc := dialRaw(t, c)
	w := rc.toplevel(t, func(top uint32) {
		rc.Send(top, xdgToplevelSetMinSize, int32(100), int32(80))
		rc.Send(top, xdgToplevelSetMaxSize, int32(320), int32(240))
		rc.Send(top, xdgToplevelUnsetFullscreen)
		rc.Send(top, xdgToplevelUnsetMaximized)
	})
	if w.size != image.Pt(640, 480) || !slices.Contains(w.states, xdgStateFullscreen) {
		t.Fatalf("first configure: %v states %v, want 640x480 with fullscreen (%d)", w.size, w.states, xdgStateFullscreen)
	}
	caps := slices.IndexFunc(w.events, func(e protocoltest.Event) bool { return e.Opcode == xdgToplevelWmCapabilities })
	conf := slices.IndexFunc(w.events, func(e protocoltest.Event) bool { return e.Opcode == xdgToplevelConfigure })
	if caps < 0 || caps > conf {
		t.Fatalf("no wm_capabilities before the first configure (events %v)", w.events)
	}
	if e := w.events[caps]; e.Uint(0) != 4 || e.Uint(1) != xdgCapabilityFullscreen {
		t.Fatalf("wm_capabilities %v, want [fullscreen]", e.Args)
	}
	rc.show(t, w, 640, 480, 0x0000c000)
	checkScreen(t, c.screenshot(), func(x, y int) [3]uint8 { return [3]uint8{0, 0xc0, 0} })
}

// TestDialogCentredAboveItsParent: a toplevel with a parent keeps its
// own size (configure 0x0, not fullscreen, bounded by the output) and is
// shown centred above its filling parent.
func TestDialogCentredAboveItsParent(t *testing.T) {
	need(t, "grim")
	c := startVitrine(t, "--output", "640x480")
	rc := dialRaw(t, c)
	parent := rc.toplevel(t, nil)
	rc.show(t, parent, 640, 480, 0x00ff0000)
	dialog := rc.toplevel(t, func(top uint32) { rc.Send(top, xdgToplevelSetParent, parent.top) })
	if dialog.size != (image.Point{}) || slices.Contains(dialog.states, xdgStateFullscreen) {
		t.Fatalf("dialog's first configure: %v states %v, want 0x0 without fullscreen", dialog.size, dialog.states)
	}
	bounds := slices.IndexFunc(dialog.events, func(e protocoltest.Event) bool { return e.Opcode == xdgToplevelConfigureBounds })
	if bounds < 0 || dialog.events[bounds].Uint(0) != 640 || dialog.events[bounds].Uint(1) != 480 {
		t.Fatalf("dialog got no configure_bounds 640x480 (events %v)", dialog.events)
	}
	rc.show(t, dialog, 200, 100, 0x0000ff00)
	win := image.Rect(220, 190, 420, 290)
	checkWindowOn(t, c.screenshot(), win, [3]uint8{0, 0xff, 0}, [3]uint8{0xff, 0, 0})
	// The parent leaves: the dialog has no parent shown any more, so it
	// fills the output like any other toplevel.
	rc.Send(parent.top, 0)
	rc.Send(parent.xs, 0)
	rc.Send(parent.surf, 0)
	for {
		e, err := rc.Read(5 * time.Second)
		if err != nil {
			t.Fatalf("no configure after the parent left: %v", err)
		}
		if e.Object == dialog.top && e.Opcode == xdgToplevelConfigure {
			if e.Uint(0) != 640 || e.Uint(1) != 480 {
				t.Fatalf("orphaned dialog configured %dx%d, want the output's 640x480", e.Uint(0), e.Uint(1))
			}
			break
		}
	}
}

// TestGtk4DemoFillsTheOutput is the issue as a new user met it: GTK 4
// unsets fullscreen and maximized while mapping, and must still cover
// every row and column of the screen.
func TestGtk4DemoFillsTheOutput(t *testing.T) {
	need(t, "grim", "gtk4-demo")
	t.Setenv("GSK_RENDERER", "cairo") // no GPU here; GL would be llvmpipe at best
	c := startVitrine(t, "--output", "1280x720", "--", "gtk4-demo")
	black := func(img image.Image, x, y int) bool { return rgb(img.At(x, y)) == [3]uint8{} }
	img := waitForPixels(t, c, func(img image.Image) bool {
		return !black(img, 0, 0) && !black(img, 1279, 719) && !black(img, 640, 360)
	})
	b := img.Bounds()
	if b.Size() != image.Pt(1280, 720) {
		t.Fatalf("screenshot is %v, want 1280x720", b.Size())
	}
	// A border would be a whole black row or column at an edge.
	for _, edge := range []struct {
		name   string
		p0, d  image.Point
		length int
	}{
		{"top row", image.Pt(0, 0), image.Pt(1, 0), b.Dx()},
		{"bottom row", image.Pt(0, b.Dy()-1), image.Pt(1, 0), b.Dx()},
		{"left column", image.Pt(0, 0), image.Pt(0, 1), b.Dy()},
		{"right column", image.Pt(b.Dx()-1, 0), image.Pt(0, 1), b.Dy()},
	} {
		dark := 0
		for i := 0; i < edge.length; i++ {
			p := edge.p0.Add(edge.d.Mul(i))
			if black(img, p.X, p.Y) {
				dark++
			}
		}
		if dark == edge.length {
			t.Errorf("the %s is all black: gtk4-demo does not fill the output", edge.name)
		}
	}
}

// TestSetParentRaisesTheDialog: set_parent after both windows are shown,
// with the new dialog below its parent, brings it above the parent.
func TestSetParentRaisesTheDialog(t *testing.T) {
	need(t, "grim")
	c := startVitrine(t, "--output", "640x480")
	rc := dialRaw(t, c)
	dialog := rc.toplevel(t, nil)
	// Configured fullscreen, it draws smaller: centred, as any window.
	rc.show(t, dialog, 200, 100, 0x0000ff00)
	parent := rc.toplevel(t, nil)
	rc.show(t, parent, 640, 480, 0x000000ff)
	checkScreen(t, c.screenshot(), func(x, y int) [3]uint8 { return [3]uint8{0, 0, 0xff} })
	rc.Send(dialog.top, xdgToplevelSetParent, parent.top)
	if err := rc.Roundtrip(3 * time.Second); err != nil {
		t.Fatal(err)
	}
	win := image.Rect(220, 190, 420, 290)
	checkWindowOn(t, c.screenshot(), win, [3]uint8{0, 0xff, 0}, [3]uint8{0, 0, 0xff})
}

// TestGtkDialogCentredAboveItsParent: a GTK 4 window fills the output and
// the dialog it opens (transient_for: xdg_toplevel.set_parent) keeps its
// own 300x200, centred above it.
func TestGtkDialogCentredAboveItsParent(t *testing.T) {
	need(t, "grim", "/usr/bin/python3")
	if out, err := exec.Command("/usr/bin/python3", "-c", "import gi; gi.require_version('Gtk', '4.0')").CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("GTK 4 for Python is not installed (CI must install python3-gi gir1.2-gtk-4.0: see .ci/install): %s", out)
		}
		t.Skipf("GTK 4 for Python is not installed (apt-get install python3-gi gir1.2-gtk-4.0): %s", out)
	}
	script, err := filepath.Abs("testdata/gtk-dialog.py")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("GSK_RENDERER", "cairo")
	c := startVitrine(t, "--output", "1280x720", "--", "/usr/bin/python3", script)
	c.stdout.wait(t, `^dialog shown 300x200$`, 20*time.Second)
	win := image.Rect(490, 260, 790, 460)
	checkWindowOn(t, c.screenshot(), win, [3]uint8{0, 0xff, 0}, [3]uint8{0, 0, 0xff})
}
