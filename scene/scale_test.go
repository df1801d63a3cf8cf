package scene_test

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/fractionalscale"
	"github.com/vitrine-wm/vitrine/protocol/protocoltest"
	"github.com/vitrine-wm/vitrine/render"
	"github.com/vitrine-wm/vitrine/scene"
	"github.com/vitrine-wm/vitrine/seat/inputevent"
)

// Requests and events of the scale tests, spoken raw.
const (
	surfaceSetBufferScale = 8
	outputEvScale         = 3

	fracManagerDestroy   = 0
	fracManagerGet       = 1
	fracDestroy          = 0
	fracEvPreferredScale = 0

	viewporterGetViewport = 1
	viewportSetDest       = 2
)

func withScale(s float64) func(*scene.Config) {
	return func(c *scene.Config) { c.OutputScale = func(string) float64 { return s } }
}

// scalePattern is a colour unique to each pixel of a buffer, so a
// screenshot shows whether every pixel landed where it should, once.
func scalePattern(x, y int) uint32 {
	return uint32(x&0xff)<<16 | uint32(y&0xff)<<8 | uint32((x>>8)*16+(y>>8))
}

// patternBuffer makes a w×h XRGB8888 wl_shm buffer, pixel (x, y)
// fill(x, y).
func patternBuffer(tb testing.TB, h *protocoltest.Client, shm uint32, w, ht int, fill func(x, y int) uint32) uint32 {
	tb.Helper()
	fd, err := unix.MemfdCreate("buffer", unix.MFD_CLOEXEC)
	must(tb, err)
	defer unix.Close(fd)
	size := w * ht * 4
	must(tb, unix.Ftruncate(fd, int64(size)))
	pix, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	must(tb, err)
	for y := 0; y < ht; y++ {
		for x := 0; x < w; x++ {
			binary.LittleEndian.PutUint32(pix[4*(y*w+x):], fill(x, y))
		}
	}
	unix.Munmap(pix)
	pool, buf := h.NewID(), h.NewID()
	must(tb, h.SendFDs([]int{fd}, shm, 0, pool, int32(size)))
	must(tb, h.Send(pool, 0, buf, int32(0), int32(w), int32(ht), int32(w*4), uint32(1)))
	must(tb, h.Send(pool, 1)) // the buffer keeps the memory
	return buf
}

// commitAndWait commits surf with a frame callback and waits for it.
func commitAndWait(t *testing.T, h *protocoltest.Client, surf uint32) {
	t.Helper()
	cb := h.NewID()
	must(t, h.Send(surf, 3, cb))
	must(t, h.Send(surf, 6))
	for {
		e, err := h.Read(5 * time.Second)
		if err != nil {
			t.Fatalf("waiting for the frame callback: %v", err)
		}
		if e.Object == 1 && e.Opcode == 0 {
			t.Fatalf("protocol error: %s", e.String(2))
		}
		if e.Object == cb {
			return
		}
	}
}

// checkShown compares every pixel the output shows (its shadow, brought
// up to date as for a screen copy) with want.
func checkShown(t *testing.T, r *rig, want func(x, y int) uint32) {
	t.Helper()
	r.onLoop(t, r.comp.RefreshShadows)
	img := r.screenshot(t)
	for y := 0; y < img.Height; y++ {
		for x := 0; x < img.Width; x++ {
			got := binary.LittleEndian.Uint32(img.Pix[y*img.Stride+4*x:]) & 0xffffff
			if w := want(x, y) & 0xffffff; got != w {
				t.Fatalf("pixel (%d,%d) = %06x, want %06x", x, y, got, w)
			}
		}
	}
}

// TestScaledOutputCompositing: on a 320x240 output at scale 2 the
// layout is 160x120; a window told that size with a buffer_scale 1
// buffer has each pixel doubled, one with buffer_scale 2 and a 320x240
// buffer is shown 1:1, and wl_output.scale says 2.
func TestScaledOutputCompositing(t *testing.T) {
	r := startRigConfig(t, 320, 240, 60000, render.Normal, protocol.Options{}, withScale(2))
	h := r.dial(t)
	reg := getRegistry(t, h)
	out := reg.bind(t, "wl_output", 3)
	scale := int32(0)
	for {
		e, err := h.Read(3 * time.Second)
		if err != nil {
			t.Fatalf("reading wl_output: %v", err)
		}
		if e.Object == out && e.Opcode == outputEvScale {
			scale = int32(e.Uint(0))
		}
		if e.Object == out && e.Opcode == outputEvDone {
			break
		}
	}
	if scale != 2 {
		t.Fatalf("wl_output.scale %d, want 2", scale)
	}
	w := newWindow(t, h, 8)
	if w.configureW != 160 || w.configureH != 120 {
		t.Fatalf("configure %dx%d, want the logical 160x120", w.configureW, w.configureH)
	}
	buf := patternBuffer(t, h, w.shm, 160, 120, scalePattern)
	must(t, h.Send(w.surface, 1, buf, int32(0), int32(0)))
	must(t, h.Send(w.surface, 9, int32(0), int32(0), int32(160), int32(120)))
	commitAndWait(t, h, w.surface)
	checkShown(t, r, func(x, y int) uint32 { return scalePattern(x/2, y/2) })

	buf = patternBuffer(t, h, w.shm, 320, 240, scalePattern)
	must(t, h.Send(w.surface, surfaceSetBufferScale, int32(2)))
	must(t, h.Send(w.surface, 1, buf, int32(0), int32(0)))
	must(t, h.Send(w.surface, 9, int32(0), int32(0), int32(320), int32(240)))
	commitAndWait(t, h, w.surface)
	checkShown(t, r, scalePattern)

	// Damage in logical units repaints the pixels it covers: one
	// logical pixel at (10,10) changed in a buffer_scale 1 buffer.
	buf = patternBuffer(t, h, w.shm, 160, 120, scalePattern)
	must(t, h.Send(w.surface, surfaceSetBufferScale, int32(1)))
	must(t, h.Send(w.surface, 1, buf, int32(0), int32(0)))
	must(t, h.Send(w.surface, 9, int32(0), int32(0), int32(160), int32(120)))
	commitAndWait(t, h, w.surface)
	buf2 := patternBuffer(t, h, w.shm, 160, 120, func(x, y int) uint32 {
		if x == 10 && y == 10 {
			return 0xffffff
		}
		return scalePattern(x, y)
	})
	must(t, h.Send(w.surface, 1, buf2, int32(0), int32(0)))
	must(t, h.Send(w.surface, 2, int32(10), int32(10), int32(1), int32(1)))
	commitAndWait(t, h, w.surface)
	checkShown(t, r, func(x, y int) uint32 {
		if x/2 == 10 && y/2 == 10 {
			return 0xffffff
		}
		return scalePattern(x/2, y/2)
	})
}

// fractionalClient is a raw client with a window that speaks
// wp_fractional_scale_v1 and wp_viewporter, as a client drawing at the
// panel's pixels does.
type fractionalClient struct {
	h              *protocoltest.Client
	w              *window
	manager, frac  uint32
	viewport       uint32
	preferredScale uint32
}

// readPreferred reads events until a preferred_scale comes.
func (fc *fractionalClient) readPreferred(t *testing.T) uint32 {
	t.Helper()
	for {
		e, err := fc.h.Read(5 * time.Second)
		if err != nil {
			t.Fatalf("waiting for preferred_scale: %v", err)
		}
		if e.Object == 1 && e.Opcode == 0 {
			t.Fatalf("protocol error: %s", e.String(2))
		}
		if e.Object == fc.frac && e.Opcode == fracEvPreferredScale {
			fc.preferredScale = e.Uint(0)
			return fc.preferredScale
		}
	}
}

// TestFractionalScaleNativeBuffer: at scale 1.5 a 480x360 output is
// 320x240 logical; a client with wp_fractional_scale_v1 is told 180
// (1.5 in 120ths), and its 480x360 buffer with a 320x240 viewport
// destination is shown pixel for pixel, on the plane when it can be.
func TestFractionalScaleNativeBuffer(t *testing.T) {
	r := startRigConfig(t, 480, 360, 60000, render.Normal, protocol.Options{}, withScale(1.5))
	h := r.dial(t)
	w := newWindow(t, h, 8)
	if w.configureW != 320 || w.configureH != 240 {
		t.Fatalf("configure %dx%d, want the logical 320x240", w.configureW, w.configureH)
	}
	fc := &fractionalClient{h: h, w: w}
	fc.manager = w.reg.bind(t, "wp_fractional_scale_manager_v1", 1)
	fc.frac = h.NewID()
	must(t, h.Send(fc.manager, fracManagerGet, fc.frac, w.surface))
	if s := fc.readPreferred(t); s != 180 {
		t.Fatalf("preferred_scale %d, want 180", s)
	}
	vp := w.reg.bind(t, "wp_viewporter", 1)
	fc.viewport = h.NewID()
	must(t, h.Send(vp, viewporterGetViewport, fc.viewport, w.surface))
	must(t, h.Send(fc.viewport, viewportSetDest, int32(320), int32(240)))
	buf := patternBuffer(t, h, w.shm, 480, 360, scalePattern)
	must(t, h.Send(w.surface, 1, buf, int32(0), int32(0)))
	must(t, h.Send(w.surface, 9, int32(0), int32(0), int32(480), int32(360)))
	commitAndWait(t, h, w.surface)
	checkShown(t, r, scalePattern)
	var scanout int64
	r.onLoop(t, func() {
		for _, s := range r.comp.Stats() {
			scanout += s.Scanout
		}
	})
	if scanout == 0 {
		t.Errorf("the native-size opaque buffer covering the output was never shown on the plane (stats scanout=0)")
	}
}

// TestPointerAtScale: a tablet or touch screen touched at panel pixel P
// of a scale-2 output reaches the client at logical P/2.
func TestPointerAtScale(t *testing.T) {
	r := startRig(t, 640, 480, 60000, render.Normal, protocol.Options{}, withScale(2))
	p := &inProcess{comp: r.comp, out: r.out, runtime: filepath.Dir(r.socket), display: filepath.Base(r.socket)}
	p.input(
		inputevent.DeviceAdded{Header: inputevent.Header{Device: "tablet"}, Caps: inputevent.DeviceCaps{Pointer: true, Tablet: true}},
		inputevent.DeviceAdded{Header: inputevent.Header{Device: "touch"}, Caps: inputevent.DeviceCaps{Touch: true}},
	)
	e := startEcho(t, p)
	e.waitFor(t, "first-frame 320x240")
	e.waitFor(t, "pointer-enter x=160.00 y=120.00")
	// Panel pixel (160, 240) of 640x480.
	p.input(inputevent.PointerAbs{X: 160.0 / 640, Y: 240.0 / 480}, inputevent.Frame{})
	e.waitFor(t, "pointer-motion x=80.00 y=120.00")
	// Relative motion is in logical units, as on any output.
	p.input(inputevent.PointerMotion{DX: 10, DY: -5}, inputevent.Frame{})
	e.waitFor(t, "pointer-motion x=90.00 y=115.00")
	// Panel pixel (480, 120).
	p.input(inputevent.TouchDown{ID: 1, X: 0.75, Y: 0.25}, inputevent.TouchFrame{})
	e.waitFor(t, "touch-down id=1 x=240.00 y=60.00")
}

// Hostile wp_fractional_scale_v1 clients.

func TestHostileFractionalScaleTwice(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: fractionalscale.FractionalScaleManagerV1ErrorFractionalScaleExists, msg: "already has a wp_fractional_scale_v1"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		reg := getRegistry(t, h)
		comp := reg.bind(t, "wl_compositor", 4)
		mgr := reg.bind(t, "wp_fractional_scale_manager_v1", 1)
		surf := h.NewID()
		must(t, h.Send(comp, 0, surf))
		must(t, h.Send(mgr, fracManagerGet, h.NewID(), surf))
		must(t, h.Send(mgr, fracManagerGet, h.NewID(), surf))
		return mgr
	})
}

// A surface may get a new wp_fractional_scale_v1 once the old one is
// destroyed; a destroyed surface cannot be named at all; objects whose
// surface is gone stay harmless; destroying the manager leaves the
// scale objects working.
func TestHostileFractionalScaleLifetimes(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: protocol.ErrInvalidObject, msg: "invalid object"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		reg := getRegistry(t, h)
		comp := reg.bind(t, "wl_compositor", 4)
		mgr := reg.bind(t, "wp_fractional_scale_manager_v1", 1)
		surf := h.NewID()
		must(t, h.Send(comp, 0, surf))
		first := h.NewID()
		must(t, h.Send(mgr, fracManagerGet, first, surf))
		must(t, h.Send(first, fracDestroy))
		again := h.NewID()
		must(t, h.Send(mgr, fracManagerGet, again, surf))
		must(t, h.Send(mgr, fracManagerDestroy))
		must(t, h.Send(surf, 0)) // wl_surface.destroy
		must(t, h.Send(again, fracDestroy))
		must(t, h.Roundtrip(3*time.Second))
		// The manager is gone and so is the surface: naming either is
		// an unknown object.
		mgr2 := reg.bind(t, "wp_fractional_scale_manager_v1", 1)
		must(t, h.Send(mgr2, fracManagerGet, h.NewID(), surf))
		return 0
	})
}

// A fractional-scale object made for a surface that is then destroyed
// while it lives gets no more events and its destroy is harmless; the
// client stays connected.
func TestHostileFractionalScaleOrphaned(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{tolerated: true}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		reg := getRegistry(t, h)
		comp := reg.bind(t, "wl_compositor", 4)
		mgr := reg.bind(t, "wp_fractional_scale_manager_v1", 1)
		for i := 0; i < 50; i++ {
			surf, frac := h.NewID(), h.NewID()
			must(t, h.Send(comp, 0, surf))
			must(t, h.Send(mgr, fracManagerGet, frac, surf))
			must(t, h.Send(surf, 0))
			if i%2 == 0 {
				must(t, h.Send(frac, fracDestroy))
			}
		}
		return 0
	})
}

func TestScaleFlagValues(t *testing.T) {
	for _, s := range []float64{0.25, 1, 1.5, 2, 10} {
		if err := scene.CheckScale(s); err != nil {
			t.Errorf("CheckScale(%g): %v", s, err)
		}
	}
	for _, s := range []float64{0, -1, 0.2, 11} {
		if err := scene.CheckScale(s); err == nil {
			t.Errorf("CheckScale(%g) accepted it", s)
		}
	}
}

// TestFractionalScaleDamage: at fractional scales a window at odd
// logical positions gets damage of random small rectangles; after each
// frame the shadow equals a full recomposite, so logical damage always
// covers every pixel it changes.
func TestFractionalScaleDamage(t *testing.T) {
	for _, scale := range []float64{1.25, 1.5, 1.75, 3} {
		t.Run(fmt.Sprint(scale), func(t *testing.T) {
			r := startRigConfig(t, 100, 70, 60000, render.Normal, protocol.Options{}, withScale(scale))
			h := r.dial(t)
			w := newWindow(t, h, 31)
			w.draw(t, 0x203040)
			rng := rand.New(rand.NewPCG(uint64(scale*100), 1))
			for i := 0; i < 40; i++ {
				x, y := rng.IntN(31), rng.IntN(31)
				dw, dh := 1+rng.IntN(31-x), 1+rng.IntN(31-y)
				c := rng.Uint32() & 0xffffff
				for yy := y; yy < y+dh; yy++ {
					for xx := x; xx < x+dw; xx++ {
						binary.LittleEndian.PutUint32(w.pix[4*(yy*31+xx):], c)
					}
				}
				must(t, h.Send(w.surface, 1, w.buffer, int32(0), int32(0)))
				must(t, h.Send(w.surface, 9, int32(x), int32(y), int32(dw), int32(dh)))
				commitAndWait(t, h, w.surface)
				var want *render.Image
				r.onLoop(t, func() { want = r.comp.Recomposite(0) })
				got := r.screenshot(t)
				if got.Width != want.Width || got.Height != want.Height {
					t.Fatalf("shadow %dx%d, recomposite %dx%d", got.Width, got.Height, want.Width, want.Height)
				}
				for py := 0; py < got.Height; py++ {
					for px := 0; px < got.Width; px++ {
						g := binary.LittleEndian.Uint32(got.Pix[py*got.Stride+4*px:]) & 0xffffff
						if e := binary.LittleEndian.Uint32(want.Pix[py*want.Stride+4*px:]) & 0xffffff; g != e {
							t.Fatalf("frame %d (damage %dx%d at %d,%d): pixel (%d,%d) = %06x, a full repaint gives %06x", i, dw, dh, x, y, px, py, g, e)
						}
					}
				}
			}
		})
	}
}
