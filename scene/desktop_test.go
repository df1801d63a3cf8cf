package scene_test

import (
	"encoding/binary"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/protocoltest"
	"github.com/vitrine-wm/vitrine/render"
	"github.com/vitrine-wm/vitrine/scene"
	"github.com/vitrine-wm/vitrine/seat/inputevent"
)

// xdg_toplevel requests and states the desktop tests use.
const (
	xdgToplevelMove           = 5
	xdgToplevelResize         = 6
	xdgToplevelSetMaximized   = 9
	xdgToplevelUnsetMaximized = 10
	xdgToplevelSetMinimized   = 13
	xdgToplevelClose          = 1 // event

	stateMaximized = 1
	stateResizing  = 3
	stateActivated = 4
)

// Evdev codes.
const (
	keyLeftMeta  = 125
	keyLeftAlt   = 56
	keyLeftShift = 42
	keyTab       = 15
	keyQ         = 16
	btnLeft      = 0x110
	btnRight     = 0x111
)

// The desktop rig: a 200x200 output. A first 40x40 window is centred
// at (80,80), a second cascaded at (112,112).
const deskSize = 200

type deskRig struct {
	*rig
}

func startDesk(t *testing.T, configs ...func(*scene.Config)) *deskRig {
	t.Helper()
	r := startRig(t, deskSize, deskSize, 60000, render.Normal, protocol.Options{}, append([]func(*scene.Config){func(c *scene.Config) {
		c.Layout = scene.LayoutDesktop
		c.PingTimeout = 100 * time.Millisecond
	}}, configs...)...)
	d := &deskRig{r}
	d.input(t,
		inputevent.DeviceAdded{Header: inputevent.Header{Device: "kbd"}, Caps: inputevent.DeviceCaps{Keyboard: true}},
		inputevent.DeviceAdded{Header: inputevent.Header{Device: "mouse"}, Caps: inputevent.DeviceCaps{Pointer: true}},
	)
	return d
}

// input applies events on the loop and waits until they are.
func (d *deskRig) input(t *testing.T, evs ...inputevent.Event) {
	t.Helper()
	d.onLoop(t, func() {
		for _, ev := range evs {
			d.comp.HandleInput(ev)
		}
	})
}

// pointTo puts the pointer at (x, y) on the output.
func (d *deskRig) pointTo(t *testing.T, x, y float64) {
	t.Helper()
	d.input(t, inputevent.PointerAbs{X: x / deskSize, Y: y / deskSize}, inputevent.Frame{})
}

func key(code uint32, pressed bool) inputevent.Event {
	return inputevent.Key{Code: code, Pressed: pressed}
}

func button(code uint32, pressed bool) inputevent.Event {
	return inputevent.Button{Code: code, Pressed: pressed}
}

// pixel reads the shadow at (x, y).
func pixel(img *render.Image, x, y int) uint32 {
	return binary.LittleEndian.Uint32(img.Pix[y*img.Stride+4*x:]) & 0xffffff
}

// expect draws nothing new but waits for w's next frame and checks
// pixels: each (x, y) must be the colour given.
func (d *deskRig) expect(t *testing.T, w *window, colour uint32, want map[[2]int]uint32) {
	t.Helper()
	w.draw(t, colour)
	img := d.screenshot(t)
	for p, c := range want {
		if got := pixel(img, p[0], p[1]); got != c {
			t.Errorf("pixel (%d,%d) = %06x, want %06x", p[0], p[1], got, c)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

// configure is an xdg_toplevel.configure as read.
type configure struct {
	w, h   int32
	states []uint32
}

func parseConfigure(e protocoltest.Event) configure {
	c := configure{w: int32(e.Uint(0)), h: int32(e.Uint(1))}
	n := int(e.Uint(2))
	for i := 0; i+4 <= n; i += 4 {
		c.states = append(c.states, binary.LittleEndian.Uint32(e.Args[12+i:]))
	}
	return c
}

// nextConfigure reads w's events until an xdg_toplevel.configure that
// match accepts, acknowledging configures and answering pings on the
// way.
func nextConfigure(t *testing.T, w *window, what string, match func(configure) bool) configure {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	var seen []configure
	var last configure
	for {
		e, err := w.h.Read(time.Until(deadline))
		if err != nil {
			t.Fatalf("%s: no such configure (saw %v): %v", what, seen, err)
		}
		switch {
		case e.Object == w.top && e.Opcode == 0:
			last = parseConfigure(e)
			seen = append(seen, last)
		case e.Object == w.xsurf && e.Opcode == 0:
			must(t, w.h.Send(w.xsurf, 4, e.Uint(0)))
			if match(last) {
				return last
			}
		case e.Object == w.wm && e.Opcode == 0:
			must(t, w.h.Send(w.wm, 3, e.Uint(0)))
		case e.Object == 1 && e.Opcode == 0:
			t.Fatalf("%s: protocol error: %s", what, e.String(2))
		}
	}
}

func TestDesktopCascadesAndSuperDragMoves(t *testing.T) {
	d := startDesk(t)
	w1 := newWindow(t, d.dial(t), 40)
	w1.draw(t, 0x0000ff)
	w2 := newWindow(t, d.dial(t), 40)
	d.expect(t, w2, 0x00ff00, map[[2]int]uint32{
		{81, 81}: 0x0000ff, {100, 100}: 0x0000ff, // the first, centred
		{115, 115}: 0x00ff00, {150, 150}: 0x00ff00, // the second, cascaded over it
		{79, 79}: 0, {153, 153}: 0,
	})

	// Super+drag on the first raises it and moves it 30 right, 50 up.
	d.pointTo(t, 90, 90)
	d.input(t, key(keyLeftMeta, true), button(btnLeft, true), inputevent.Frame{},
		inputevent.PointerMotion{DX: 30, DY: -50}, inputevent.Frame{},
		button(btnLeft, false), inputevent.Frame{}, key(keyLeftMeta, false))
	d.expect(t, w1, 0x0000ff, map[[2]int]uint32{
		{111, 31}: 0x0000ff, {149, 69}: 0x0000ff, // moved
		{85, 85}:   0, // where it was
		{115, 115}: 0x00ff00,
	})
}

func TestDesktopClickRaises(t *testing.T) {
	d := startDesk(t)
	w1 := newWindow(t, d.dial(t), 40)
	w1.draw(t, 0x0000ff)
	w2 := newWindow(t, d.dial(t), 40)
	w2.draw(t, 0x00ff00)
	nextConfigure(t, w1, "the first window deactivated", func(c configure) bool { return !slices.Contains(c.states, stateActivated) })
	d.pointTo(t, 85, 85)
	d.input(t, button(btnLeft, true), inputevent.Frame{}, button(btnLeft, false), inputevent.Frame{})
	nextConfigure(t, w1, "the clicked window activated", func(c configure) bool { return slices.Contains(c.states, stateActivated) })
	d.expect(t, w1, 0x0000ff, map[[2]int]uint32{{115, 115}: 0x0000ff, {150, 150}: 0x00ff00})
}

func TestDesktopSuperRightDragResizes(t *testing.T) {
	d := startDesk(t)
	w := newWindow(t, d.dial(t), 40)
	w.draw(t, 0x0000ff)
	// The bottom-right quarter: that corner moves, the top-left stays.
	d.pointTo(t, 110, 110)
	d.input(t, key(keyLeftMeta, true), button(btnRight, true), inputevent.Frame{},
		inputevent.PointerMotion{DX: 20, DY: 10}, inputevent.Frame{})
	c := nextConfigure(t, w, "resizing to 60x50", func(c configure) bool { return c.w == 60 && c.h == 50 })
	if !slices.Contains(c.states, stateResizing) {
		t.Errorf("configure during the drag %v lacks the resizing state", c)
	}
	d.input(t, button(btnRight, false), inputevent.Frame{}, key(keyLeftMeta, false))
	nextConfigure(t, w, "resize done", func(c configure) bool { return c.w == 60 && c.h == 50 && !slices.Contains(c.states, stateResizing) })
}

func TestDesktopClientMoveAndLeftResize(t *testing.T) {
	d := startDesk(t)
	w := newWindow(t, d.dial(t), 40)
	seat := w.reg.bind(t, "wl_seat", 7)
	w.draw(t, 0x0000ff)
	d.pointTo(t, 100, 100)
	d.input(t, button(btnLeft, true), inputevent.Frame{})
	must(t, w.h.Send(w.top, xdgToplevelMove, seat, uint32(0)))
	must(t, w.h.Roundtrip(3*time.Second))
	d.input(t, inputevent.PointerMotion{DX: -60, DY: 40}, inputevent.Frame{}, button(btnLeft, false), inputevent.Frame{})
	d.expect(t, w, 0x0000ff, map[[2]int]uint32{{21, 121}: 0x0000ff, {59, 159}: 0x0000ff, {100, 100}: 0})

	// Its left edge dragged 10 right: 30 wide, the right edge stays.
	d.pointTo(t, 21, 140)
	d.input(t, button(btnLeft, true), inputevent.Frame{})
	must(t, w.h.Send(w.top, xdgToplevelResize, seat, uint32(0), uint32(4)))
	must(t, w.h.Roundtrip(3*time.Second))
	d.input(t, inputevent.PointerMotion{DX: 10}, inputevent.Frame{})
	nextConfigure(t, w, "resized to 30x40", func(c configure) bool { return c.w == 30 && c.h == 40 })
	w.resize(t, 30, 40)
	d.input(t, button(btnLeft, false), inputevent.Frame{})
	d.expect(t, w, 0x0000ff, map[[2]int]uint32{{30, 121}: 0x0000ff, {59, 159}: 0x0000ff, {29, 121}: 0, {60, 121}: 0})
}

func TestDesktopMaximizeAndRestore(t *testing.T) {
	d := startDesk(t)
	w := newWindow(t, d.dial(t), 40)
	w.draw(t, 0x0000ff)
	must(t, w.h.Send(w.top, xdgToplevelSetMaximized))
	nextConfigure(t, w, "maximized", func(c configure) bool {
		return c.w == deskSize && c.h == deskSize && slices.Contains(c.states, stateMaximized)
	})
	must(t, w.h.Send(w.top, xdgToplevelUnsetMaximized))
	nextConfigure(t, w, "back to its size", func(c configure) bool {
		return c.w == 40 && c.h == 40 && !slices.Contains(c.states, stateMaximized)
	})
	d.expect(t, w, 0x0000ff, map[[2]int]uint32{{81, 81}: 0x0000ff, {79, 79}: 0})
}

func TestDesktopMinimizeAndAltTab(t *testing.T) {
	d := startDesk(t)
	w1 := newWindow(t, d.dial(t), 40)
	w1.draw(t, 0x0000ff)
	w2 := newWindow(t, d.dial(t), 40)
	w2.draw(t, 0x00ff00)
	must(t, w2.h.Send(w2.top, xdgToplevelSetMinimized))
	nextConfigure(t, w1, "focus back on the first when the second is minimized", func(c configure) bool { return slices.Contains(c.states, stateActivated) })
	d.expect(t, w1, 0x0000ff, map[[2]int]uint32{{115, 115}: 0x0000ff, {150, 150}: 0})

	// Alt+Tab brings the minimized one back, on top.
	d.input(t, key(keyLeftAlt, true), key(keyTab, true), key(keyTab, false), key(keyLeftAlt, false))
	nextConfigure(t, w2, "the second restored and focused", func(c configure) bool { return slices.Contains(c.states, stateActivated) })
	d.expect(t, w2, 0x00ff00, map[[2]int]uint32{{115, 115}: 0x00ff00, {150, 150}: 0x00ff00})
}

func TestDesktopNoBindings(t *testing.T) {
	d := startDesk(t)
	d.onLoop(t, func() { d.comp.ConfigureInput(scene.InputConfig{NoWindowBindings: true}) })
	w := newWindow(t, d.dial(t), 40)
	w.draw(t, 0x0000ff)
	d.pointTo(t, 90, 90)
	d.input(t, key(keyLeftMeta, true), button(btnLeft, true), inputevent.Frame{},
		inputevent.PointerMotion{DX: 30, DY: -50}, inputevent.Frame{},
		button(btnLeft, false), inputevent.Frame{}, key(keyLeftMeta, false))
	d.expect(t, w, 0x0000ff, map[[2]int]uint32{{81, 81}: 0x0000ff, {111, 31}: 0})
}

// TestDesktopSuperQThenKill: Super+Q sends close; a client that
// ignores it and stops answering pings is cut off by Super+Shift+Q,
// while one that answers is only asked again.
func TestDesktopSuperQThenKill(t *testing.T) {
	d := startDesk(t)
	w := newWindow(t, d.dial(t), 40)
	w.draw(t, 0x0000ff)
	superShiftQ := []inputevent.Event{key(keyLeftMeta, true), key(keyLeftShift, true), key(keyQ, true), key(keyQ, false), key(keyLeftShift, false), key(keyLeftMeta, false)}

	// A live client: Super+Shift+Q asks it to close, nothing more.
	d.input(t, superShiftQ...)
	w.draw(t, 0x0000ff) // answers the ping
	waitLog(t, d.rig, "the client answers pings")

	// Now it is hung: close and ping go unanswered.
	hung := newWindow(t, d.dial(t), 40)
	hung.draw(t, 0xff0000)
	d.input(t, key(keyLeftMeta, true), key(keyQ, true), key(keyQ, false), key(keyLeftMeta, false))
	// Once the ping timed out (100 ms), Super+Shift+Q kills; until
	// then it asks again.
	for deadline := time.Now().Add(3 * time.Second); !strings.Contains(d.log.String(), "killing a client that ignored close"); {
		if time.Now().After(deadline) {
			t.Fatalf("Super+Shift+Q never killed the hung client:\n%s", d.log.String())
		}
		time.Sleep(50 * time.Millisecond)
		d.input(t, superShiftQ...)
	}
	closes := 0
	for {
		e, err := hung.h.Read(3 * time.Second)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, unix.ECONNRESET) {
				t.Fatalf("the hung client was not disconnected: %v", err)
			}
			break
		}
		if e.Object == hung.top && e.Opcode == xdgToplevelClose {
			closes++
		}
	}
	if closes == 0 {
		t.Error("the hung client was never sent xdg_toplevel.close")
	}
	waitClients(t, d.rig, 1)
	d.expect(t, w, 0x0000ff, map[[2]int]uint32{{81, 81}: 0x0000ff, {115, 115}: 0x0000ff})
}

// TestDesktopWindowGoesDuringGrab: a window destroyed while the user
// drags it ends the drag; the pointer works on for the others.
func TestDesktopWindowGoesDuringGrab(t *testing.T) {
	d := startDesk(t)
	w := newWindow(t, d.dial(t), 40)
	w.draw(t, 0x0000ff)
	doomed := newWindow(t, d.dial(t), 40)
	doomed.draw(t, 0xff0000)
	d.pointTo(t, 130, 130)
	d.input(t, key(keyLeftMeta, true), button(btnRight, true), inputevent.Frame{}, inputevent.PointerMotion{DX: 5, DY: 5})
	doomed.h.Close()
	waitClients(t, d.rig, 1)
	d.input(t, inputevent.PointerMotion{DX: 5, DY: 5}, inputevent.Frame{}, button(btnRight, false), inputevent.Frame{}, key(keyLeftMeta, false))
	d.pointTo(t, 100, 100)
	d.input(t, key(keyLeftMeta, true), button(btnLeft, true), inputevent.Frame{},
		inputevent.PointerMotion{DX: -50}, inputevent.Frame{}, button(btnLeft, false), inputevent.Frame{}, key(keyLeftMeta, false))
	d.expect(t, w, 0x0000ff, map[[2]int]uint32{{31, 81}: 0x0000ff, {115, 115}: 0})
}

func TestHostileResizeWithInvalidEdge(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: 0, msg: "not an xdg_toplevel.resize_edge"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		w := hs.window(t, h)
		seat := w.reg.bind(t, "wl_seat", 7)
		must(t, h.Send(w.top, xdgToplevelResize, seat, uint32(0), uint32(3)))
		return w.top
	})
}

func TestHostileMoveAndResizeWithoutAButton(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{tolerated: true}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		w := hs.window(t, h)
		seat := w.reg.bind(t, "wl_seat", 7)
		for range 100 {
			must(t, h.Send(w.top, xdgToplevelMove, seat, uint32(12345)))
			must(t, h.Send(w.top, xdgToplevelResize, seat, uint32(0), uint32(10)))
			must(t, h.Send(w.top, xdgToplevelSetMaximized))
			must(t, h.Send(w.top, xdgToplevelSetMinimized))
		}
		return 0
	})
}

// resize gives w a new buffer of w×h and commits it.
func (w *window) resize(t *testing.T, width, height int) {
	t.Helper()
	buf := w.h.NewID()
	if width*height > w.size*w.size {
		t.Fatalf("resize to %dx%d: the pool holds %dx%d", width, height, w.size, w.size)
	}
	must(t, w.h.Send(w.pool, 0, buf, int32(0), int32(width), int32(height), int32(width*4), uint32(1)))
	w.buffer = buf
	must(t, w.h.Send(w.surface, 1, buf, int32(0), int32(0)))
	must(t, w.h.Send(w.surface, 9, int32(0), int32(0), int32(width), int32(height)))
	must(t, w.h.Send(w.surface, 6))
}

func TestDesktopFullscreenAndBack(t *testing.T) {
	const xdgToplevelSetFullscreen, xdgToplevelUnsetFullscreen, stateFullscreen = 11, 12, 2
	d := startDesk(t)
	w := newWindow(t, d.dial(t), 40)
	w.draw(t, 0x0000ff)
	must(t, w.h.Send(w.top, xdgToplevelSetFullscreen, uint32(0)))
	nextConfigure(t, w, "fullscreen", func(c configure) bool {
		return c.w == deskSize && c.h == deskSize && slices.Contains(c.states, stateFullscreen)
	})
	must(t, w.h.Send(w.top, xdgToplevelUnsetFullscreen))
	nextConfigure(t, w, "back to its size", func(c configure) bool {
		return c.w == 40 && c.h == 40 && !slices.Contains(c.states, stateFullscreen)
	})
	d.expect(t, w, 0x0000ff, map[[2]int]uint32{{81, 81}: 0x0000ff, {79, 79}: 0, {121, 121}: 0})
}

// TestDesktopTouchRaises: a touch focuses and raises the window under
// it, as a click does.
func TestDesktopTouchRaises(t *testing.T) {
	d := startDesk(t)
	d.input(t, inputevent.DeviceAdded{Header: inputevent.Header{Device: "touch"}, Caps: inputevent.DeviceCaps{Touch: true}})
	w1 := newWindow(t, d.dial(t), 40)
	w1.draw(t, 0x0000ff)
	w2 := newWindow(t, d.dial(t), 40)
	w2.draw(t, 0x00ff00)
	nextConfigure(t, w1, "the first window deactivated", func(c configure) bool { return !slices.Contains(c.states, stateActivated) })
	d.input(t, inputevent.TouchDown{ID: 1, X: 85.0 / deskSize, Y: 85.0 / deskSize}, inputevent.TouchFrame{},
		inputevent.TouchUp{ID: 1}, inputevent.TouchFrame{})
	nextConfigure(t, w1, "the touched window activated", func(c configure) bool { return slices.Contains(c.states, stateActivated) })
	d.expect(t, w1, 0x0000ff, map[[2]int]uint32{{115, 115}: 0x0000ff, {150, 150}: 0x00ff00})
}

// TestDesktopFullscreenFromTheStartThenWindowed: a window that never
// floated is centred at the size it picks when it leaves fullscreen,
// not at the size it had.
func TestDesktopFullscreenFromTheStartThenWindowed(t *testing.T) {
	const xdgToplevelSetFullscreen, xdgToplevelUnsetFullscreen = 11, 12
	d := startDesk(t)
	h := d.dial(t)
	w := &window{h: h, reg: getRegistry(t, h), size: deskSize}
	w.compositor = w.reg.bind(t, "wl_compositor", 4)
	w.shm = w.reg.bind(t, "wl_shm", 1)
	w.wm = w.reg.bind(t, "xdg_wm_base", 1)
	windowMemory(t, w)
	w.surface, w.xsurf, w.top = h.NewID(), h.NewID(), h.NewID()
	must(t, h.Send(w.compositor, 0, w.surface))
	must(t, h.Send(w.wm, 2, w.xsurf, w.surface))
	must(t, h.Send(w.xsurf, 1, w.top))
	must(t, h.Send(w.top, xdgToplevelSetFullscreen, uint32(0)))
	must(t, h.Send(w.surface, 6))
	nextConfigure(t, w, "fullscreen", func(c configure) bool { return c.w == deskSize })
	w.draw(t, 0x0000ff)
	must(t, h.Send(w.top, xdgToplevelUnsetFullscreen))
	nextConfigure(t, w, "its own size", func(c configure) bool { return c.w == 0 && c.h == 0 })
	w.resize(t, 40, 40)
	d.expect(t, w, 0x0000ff, map[[2]int]uint32{{81, 81}: 0x0000ff, {119, 119}: 0x0000ff, {79, 79}: 0, {121, 121}: 0})
}

// windowMemory gives w a pool and a size×size XRGB8888 buffer.
func windowMemory(t *testing.T, w *window) {
	t.Helper()
	mem, err := unix.MemfdCreate("window", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	w.mem = mem
	t.Cleanup(w.closeMem)
	bytes := w.size * w.size * 4
	must(t, unix.Ftruncate(mem, int64(bytes)))
	w.pix, err = unix.Mmap(mem, 0, bytes, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(w.pix) })
	w.pool, w.buffer = w.h.NewID(), w.h.NewID()
	must(t, w.h.SendFDs([]int{mem}, w.shm, 0, w.pool, int32(bytes)))
	must(t, w.h.Send(w.pool, 0, w.buffer, int32(0), int32(w.size), int32(w.size), int32(w.size*4), uint32(1)))
}
