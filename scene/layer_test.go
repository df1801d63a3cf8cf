package scene_test

import (
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/layershell"
	"github.com/vitrine-wm/vitrine/protocol/protocoltest"
	"github.com/vitrine-wm/vitrine/render"
	"github.com/vitrine-wm/vitrine/scene/headless"
	"github.com/vitrine-wm/vitrine/scene/present"
	"github.com/vitrine-wm/vitrine/seat/inputevent"
)

// Requests of wlr-layer-shell the tests speak raw.
const (
	layerShellGetLayerSurface = 0

	layerSetSize                = 0
	layerSetAnchor              = 1
	layerSetExclusiveZone       = 2
	layerSetMargin              = 3
	layerSetKeyboardInteractive = 4
	layerGetPopup               = 5
	layerAckConfigure           = 6
	layerDestroy                = 7

	layerEventConfigure = 0
	layerEventClosed    = 1
)

// waitFor reads h's events until match returns true, answering pings
// and failing on a protocol error.
func waitFor(tb testing.TB, h *protocoltest.Client, what string, match func(protocoltest.Event) bool) protocoltest.Event {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		e, err := h.Read(time.Until(deadline))
		if err != nil {
			tb.Fatalf("waiting for %s: %v", what, err)
		}
		if e.Object == 1 && e.Opcode == 0 {
			tb.Fatalf("waiting for %s: protocol error: object %d code %d: %s", what, e.Uint(0), e.Uint(1), e.String(2))
		}
		if match(e) {
			return e
		}
	}
}

// shmBuffer makes a w×h XRGB8888 wl_buffer filled with xrgb.
func shmBuffer(tb testing.TB, h *protocoltest.Client, shm uint32, w, ht int, xrgb uint32) uint32 {
	return patternBuffer(tb, h, shm, w, ht, func(int, int) uint32 { return xrgb })
}

// layerClient is a connection that makes layer surfaces.
type layerClient struct {
	h                *protocoltest.Client
	reg              *registry
	comp, shm, shell uint32
}

func newLayerClient(tb testing.TB, r *rig) *layerClient {
	tb.Helper()
	h := r.dial(tb)
	lc := &layerClient{h: h, reg: getRegistry(tb, h)}
	lc.comp = lc.reg.bind(tb, "wl_compositor", 4)
	lc.shm = lc.reg.bind(tb, "wl_shm", 1)
	lc.shell = lc.reg.bind(tb, "zwlr_layer_shell_v1", 4)
	return lc
}

// layer is one layer surface and the size its first configure gave.
type layer struct {
	lc            *layerClient
	surface, ls   uint32
	width, height int
}

// newLayer makes a layer surface, lets setup send its state, commits
// and returns it configured (not yet mapped).
func (lc *layerClient) newLayer(tb testing.TB, which uint32, setup func(ls uint32)) *layer {
	tb.Helper()
	h := lc.h
	l := &layer{lc: lc, surface: h.NewID(), ls: h.NewID()}
	must(tb, h.Send(lc.comp, 0, l.surface))
	must(tb, h.Send(lc.shell, layerShellGetLayerSurface, l.ls, l.surface, uint32(0), which, "test"))
	setup(l.ls)
	must(tb, h.Send(l.surface, 6))
	e := waitFor(tb, h, "zwlr_layer_surface_v1.configure", func(e protocoltest.Event) bool {
		return e.Object == l.ls && e.Opcode == layerEventConfigure
	})
	l.width, l.height = int(e.Uint(1)), int(e.Uint(2))
	must(tb, h.Send(l.ls, layerAckConfigure, e.Uint(0)))
	return l
}

// show attaches a buffer of the configured size in xrgb and commits.
func (l *layer) show(tb testing.TB, xrgb uint32) {
	tb.Helper()
	l.commit(tb, xrgb)
	must(tb, l.lc.h.Roundtrip(3*time.Second))
}

// commit is show without waiting: events that come back stay unread.
func (l *layer) commit(tb testing.TB, xrgb uint32) {
	tb.Helper()
	h := l.lc.h
	buf := shmBuffer(tb, h, l.lc.shm, l.width, l.height, xrgb)
	must(tb, h.Send(l.surface, 1, buf, int32(0), int32(0)))
	must(tb, h.Send(l.surface, 9, int32(0), int32(0), int32(l.width), int32(l.height)))
	must(tb, h.Send(l.surface, 6))
}

// bottomBar is an on-screen keyboard's request: the full width, height
// high, at the bottom, reserving its height.
func bottomBar(h *protocoltest.Client, height int) func(uint32) {
	return func(ls uint32) {
		h.Send(ls, layerSetSize, uint32(0), uint32(height))
		h.Send(ls, layerSetAnchor, uint32(layershell.LayerSurfaceV1AnchorBottom|layershell.LayerSurfaceV1AnchorLeft|layershell.LayerSurfaceV1AnchorRight))
		h.Send(ls, layerSetExclusiveZone, int32(height))
	}
}

// reconfigured waits for the window's next xdg_toplevel.configure,
// acknowledges it and returns its size.
func (w *window) reconfigured(tb testing.TB) (int, int) {
	tb.Helper()
	var cw, ch int
	waitFor(tb, w.h, "xdg_toplevel.configure", func(e protocoltest.Event) bool {
		if e.Object == w.top && e.Opcode == 0 {
			cw, ch = int(int32(e.Uint(0))), int(int32(e.Uint(1)))
		}
		if e.Object == w.xsurf && e.Opcode == 0 {
			must(tb, w.h.Send(w.xsurf, 4, e.Uint(0)))
			return true
		}
		if e.Object == w.wm && e.Opcode == 0 {
			must(tb, w.h.Send(w.wm, 3, e.Uint(0)))
		}
		return false
	})
	return cw, ch
}

// drawSized shows a w×h buffer of xrgb in the window and waits until it
// is on screen.
func (w *window) drawSized(tb testing.TB, width, height int, xrgb uint32) {
	tb.Helper()
	buf := shmBuffer(tb, w.h, w.shm, width, height, xrgb)
	cb := w.h.NewID()
	must(tb, w.h.Send(w.surface, 1, buf, int32(0), int32(0)))
	must(tb, w.h.Send(w.surface, 9, int32(0), int32(0), int32(width), int32(height)))
	must(tb, w.h.Send(w.surface, 3, cb))
	must(tb, w.h.Send(w.surface, 6))
	waitFor(tb, w.h, "the frame callback", func(e protocoltest.Event) bool {
		if e.Object == w.wm && e.Opcode == 0 {
			must(tb, w.h.Send(w.wm, 3, e.Uint(0)))
		}
		return e.Object == cb
	})
}

// checkRows compares each row of img with the colour want(y) gives.
func checkRows(img *render.Image, want func(y int) uint32) error {
	bad := 0
	var first string
	for y := 0; y < img.Height; y++ {
		for x := 0; x < img.Width; x++ {
			got := binary.LittleEndian.Uint32(img.Pix[y*img.Stride+4*x:]) & 0xffffff
			if w := want(y) & 0xffffff; got != w {
				if bad == 0 {
					first = fmt.Sprintf("(%d,%d)=%06x want %06x", x, y, got, w)
				}
				bad++
			}
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d pixels differ, the first %s", bad, first)
	}
	return nil
}

// An on-screen keyboard anchored to the bottom with an exclusive zone
// makes the kiosk window shorter: the window is configured to the
// height above it and drawn there, the keyboard below, pixel for pixel.
// Taking the keyboard away gives the window the whole output again.
func TestLayerExclusiveZoneShrinksKioskWindow(t *testing.T) {
	r := startRig(t, 64, 64, 60000, render.Normal, protocol.Options{})
	w := newWindow(t, r.dial(t), 64)
	if w.configureW != 64 || w.configureH != 64 {
		t.Fatalf("kiosk window first configured %dx%d, want 64x64", w.configureW, w.configureH)
	}
	w.draw(t, 0xff0000)

	lc := newLayerClient(t, r)
	kb := lc.newLayer(t, layershell.LayerShellV1LayerTop, bottomBar(lc.h, 20))
	if kb.width != 64 || kb.height != 20 {
		t.Fatalf("keyboard configured %dx%d, want 64x20", kb.width, kb.height)
	}
	kb.show(t, 0x0000ff)
	if cw, ch := w.reconfigured(t); cw != 64 || ch != 44 {
		t.Fatalf("kiosk window reconfigured %dx%d with the keyboard shown, want 64x44", cw, ch)
	}
	w.drawSized(t, 64, 44, 0x00ff00)
	if err := checkRows(r.screenshot(t), func(y int) uint32 {
		if y < 44 {
			return 0x00ff00
		}
		return 0x0000ff
	}); err != nil {
		t.Fatalf("window above the keyboard: %v", err)
	}

	must(t, lc.h.Send(kb.ls, layerDestroy))
	if cw, ch := w.reconfigured(t); cw != 64 || ch != 64 {
		t.Fatalf("kiosk window reconfigured %dx%d after the keyboard left, want 64x64", cw, ch)
	}
	// Filling the output again, the window's buffer goes straight to
	// the display (the shadow the rig's screenshot reads is not drawn).
	w.draw(t, 0x123456)
}

// Background and bottom layers are drawn under the windows, top and
// overlay above them; surfaces with no exclusive zone take no room.
func TestLayerOrderAroundWindows(t *testing.T) {
	r := startRig(t, 64, 64, 60000, render.Normal, protocol.Options{})
	w := newWindow(t, r.dial(t), 32)
	w.draw(t, 0xff0000)
	lc := newLayerClient(t, r)
	full := func(ls uint32) {
		lc.h.Send(ls, layerSetAnchor, uint32(15))
	}
	bg := lc.newLayer(t, layershell.LayerShellV1LayerBackground, full)
	bg.show(t, 0x202020)
	// A 16x16 square at the top-left corner, 8 px in, above the window.
	corner := func(ls uint32) {
		lc.h.Send(ls, layerSetSize, uint32(16), uint32(16))
		lc.h.Send(ls, layerSetAnchor, uint32(layershell.LayerSurfaceV1AnchorTop|layershell.LayerSurfaceV1AnchorLeft))
		lc.h.Send(ls, layerSetMargin, int32(20), int32(0), int32(0), int32(20))
	}
	over := lc.newLayer(t, layershell.LayerShellV1LayerOverlay, corner)
	over.show(t, 0x00ff00)
	w.draw(t, 0xff0000)
	img := r.screenshot(t)
	at := func(x, y int) uint32 { return binary.LittleEndian.Uint32(img.Pix[y*img.Stride+4*x:]) & 0xffffff }
	for _, c := range []struct {
		x, y int
		want uint32
		what string
	}{
		{2, 2, 0x202020, "background layer where no window is"},
		{40, 40, 0xff0000, "window above the background layer"},
		{24, 24, 0x00ff00, "overlay layer above the window"},
		{20, 20, 0x00ff00, "overlay's top-left corner at its margins"},
		{19, 19, 0xff0000, "the window just outside the overlay's corner"},
		{10, 10, 0x202020, "background left of the window"},
	} {
		if got := at(c.x, c.y); got != c.want {
			t.Errorf("%s: (%d,%d)=%06x, want %06x", c.what, c.x, c.y, got, c.want)
		}
	}
}

// A layer surface asking for exclusive keyboard interactivity in the
// top layer takes the keyboard from the window; its going away gives
// it back. A keyboard with interactivity none never takes it.
func TestLayerExclusiveKeyboardFocus(t *testing.T) {
	r := startRig(t, 64, 64, 60000, render.Normal, protocol.Options{})
	w := newWindow(t, r.dial(t), 32)
	w.draw(t, 0xff0000)
	seat := w.reg.bind(t, "wl_seat", 5)
	kbd := w.h.NewID()
	must(t, w.h.Send(seat, 1, kbd))
	waitFor(t, w.h, "wl_keyboard.enter on the window", func(e protocoltest.Event) bool {
		return e.Object == kbd && e.Opcode == 1
	})

	lc := newLayerClient(t, r)
	lseat := lc.reg.bind(t, "wl_seat", 5)
	lkbd := lc.h.NewID()
	must(t, lc.h.Send(lseat, 1, lkbd))
	osk := lc.newLayer(t, layershell.LayerShellV1LayerTop, bottomBar(lc.h, 10))
	osk.show(t, 0x0000ff)
	lock := lc.newLayer(t, layershell.LayerShellV1LayerOverlay, func(ls uint32) {
		lc.h.Send(ls, layerSetAnchor, uint32(15))
		lc.h.Send(ls, layerSetExclusiveZone, int32(-1))
		lc.h.Send(ls, layerSetKeyboardInteractive, uint32(1))
	})
	lock.commit(t, 0x00ff00)
	e := waitFor(t, lc.h, "wl_keyboard.enter on the exclusive layer", func(e protocoltest.Event) bool {
		return e.Object == lkbd && e.Opcode == 1
	})
	if got := e.Uint(1); got != lock.surface {
		t.Fatalf("keyboard entered wl_surface#%d, want the exclusive layer's #%d (not the on-screen keyboard's #%d)", got, lock.surface, osk.surface)
	}
	waitFor(t, w.h, "wl_keyboard.leave on the window", func(e protocoltest.Event) bool {
		return e.Object == kbd && e.Opcode == 2
	})
	must(t, lc.h.Send(lock.ls, layerDestroy))
	must(t, lc.h.Send(lock.surface, 0))
	waitFor(t, w.h, "wl_keyboard.enter on the window again", func(e protocoltest.Event) bool {
		return e.Object == kbd && e.Opcode == 1
	})
}

// Margins wider than the output leave a layer surface no room: it is
// closed, not shown at a negative size.
func TestLayerWithNoRoomIsClosed(t *testing.T) {
	r := startRig(t, 64, 64, 60000, render.Normal, protocol.Options{})
	lc := newLayerClient(t, r)
	h := lc.h
	surf, ls := h.NewID(), h.NewID()
	must(t, h.Send(lc.comp, 0, surf))
	must(t, h.Send(lc.shell, layerShellGetLayerSurface, ls, surf, uint32(0), uint32(layershell.LayerShellV1LayerTop), "wide"))
	must(t, h.Send(ls, layerSetAnchor, uint32(layershell.LayerSurfaceV1AnchorLeft|layershell.LayerSurfaceV1AnchorRight)))
	must(t, h.Send(ls, layerSetSize, uint32(0), uint32(10)))
	must(t, h.Send(ls, layerSetMargin, int32(0), int32(40), int32(0), int32(40)))
	must(t, h.Send(surf, 6))
	waitFor(t, h, "zwlr_layer_surface_v1.closed", func(e protocoltest.Event) bool {
		if e.Object == ls && e.Opcode == layerEventConfigure {
			t.Fatalf("configured %dx%d with margins wider than the output", e.Uint(1), e.Uint(2))
		}
		return e.Object == ls && e.Opcode == layerEventClosed
	})
	// Commits after closed are ignored, not errors.
	must(t, h.Send(surf, 6))
	must(t, h.Roundtrip(3*time.Second))
}

// A popup given to a layer surface (a panel's menu) is placed relative
// to the layer surface and drawn above it.
func TestLayerPopup(t *testing.T) {
	r := startRig(t, 64, 64, 60000, render.Normal, protocol.Options{})
	lc := newLayerClient(t, r)
	h := lc.h
	wm := lc.reg.bind(t, "xdg_wm_base", 2)
	panel := lc.newLayer(t, layershell.LayerShellV1LayerTop, func(ls uint32) {
		h.Send(ls, layerSetSize, uint32(32), uint32(16))
		h.Send(ls, layerSetAnchor, uint32(layershell.LayerSurfaceV1AnchorTop|layershell.LayerSurfaceV1AnchorLeft))
	})
	panel.show(t, 0x0000ff)
	pos, psurf, pxs, pop := h.NewID(), h.NewID(), h.NewID(), h.NewID()
	must(t, h.Send(wm, 1, pos))
	must(t, h.Send(pos, 1, int32(8), int32(8)))                       // set_size
	must(t, h.Send(pos, 2, int32(10), int32(12), int32(4), int32(4))) // set_anchor_rect
	must(t, h.Send(pos, 3, uint32(8)))                                // anchor bottom_right
	must(t, h.Send(pos, 4, uint32(8)))                                // gravity bottom_right
	must(t, h.Send(lc.comp, 0, psurf))
	must(t, h.Send(wm, 2, pxs, psurf))
	must(t, h.Send(pxs, 2, pop, uint32(0), pos))
	must(t, h.Send(panel.ls, layerGetPopup, pop))
	must(t, h.Send(psurf, 6))
	var rect [4]int32
	e := waitFor(t, h, "xdg_surface.configure of the popup", func(e protocoltest.Event) bool {
		if e.Object == pop && e.Opcode == 0 {
			for i := range rect {
				rect[i] = int32(e.Uint(i))
			}
		}
		return e.Object == pxs && e.Opcode == 0
	})
	if rect != [4]int32{14, 16, 8, 8} {
		t.Fatalf("popup configured at %v, want [14 16 8 8] (below and right of the anchor rectangle)", rect)
	}
	must(t, h.Send(pxs, 4, e.Uint(0)))
	must(t, h.Send(psurf, 1, shmBuffer(t, h, lc.shm, 8, 8, 0xffff00), int32(0), int32(0)))
	must(t, h.Send(psurf, 9, int32(0), int32(0), int32(8), int32(8)))
	cb := h.NewID()
	must(t, h.Send(psurf, 3, cb))
	must(t, h.Send(psurf, 6))
	waitFor(t, h, "the popup's frame callback", func(e protocoltest.Event) bool { return e.Object == cb })
	img := r.screenshot(t)
	at := func(x, y int) uint32 { return binary.LittleEndian.Uint32(img.Pix[y*img.Stride+4*x:]) & 0xffffff }
	if got := at(14, 16); got != 0xffff00 {
		t.Errorf("popup's corner (14,16)=%06x, want ffff00", got)
	}
	if got := at(21, 23); got != 0xffff00 {
		t.Errorf("popup's far corner (21,23)=%06x, want ffff00", got)
	}
	if got := at(13, 15); got != 0x0000ff {
		t.Errorf("panel next to the popup (13,15)=%06x, want 0000ff", got)
	}
	// Unmapping the panel takes its popup down with it.
	must(t, h.Send(panel.surface, 1, uint32(0), int32(0), int32(0)))
	must(t, h.Send(panel.surface, 6))
	waitFor(t, h, "xdg_popup.popup_done", func(e protocoltest.Event) bool { return e.Object == pop && e.Opcode == 1 })
}

// A layer surface on an output that goes away (another one staying) is
// closed, and the area it reserved is forgotten with the output.
func TestLayerClosedWhenOutputGoes(t *testing.T) {
	r := startRig(t, 64, 64, 60000, render.Normal, protocol.Options{})
	var second *headless.Output
	r.onLoop(t, func() {
		var err error
		second, err = headless.New(r.srv.Loop(), "HEADLESS-2", 64, 64, 60000, render.Normal, func(i present.Info) { r.comp.PresentDone(second, i) })
		must(t, err)
		r.comp.AddOutput(second)
	})
	t.Cleanup(func() { second.Close() })
	lc := newLayerClient(t, r)
	bar := lc.newLayer(t, layershell.LayerShellV1LayerTop, bottomBar(lc.h, 10))
	bar.show(t, 0x0000ff)
	r.onLoop(t, func() { r.comp.RemoveOutput(r.out) })
	waitFor(t, lc.h, "zwlr_layer_surface_v1.closed", func(e protocoltest.Event) bool {
		return e.Object == bar.ls && e.Opcode == layerEventClosed
	})
	// Commits after closed are ignored.
	bar.show(t, 0x00ff00)
}

// A layer surface with on-demand keyboard interactivity gets the
// keyboard when the user clicks it, and gives it back when the user
// clicks the window.
func TestLayerOnDemandKeyboardFocus(t *testing.T) {
	r := startRig(t, 64, 64, 60000, render.Normal, protocol.Options{})
	w := newWindow(t, r.dial(t), 32)
	w.draw(t, 0xff0000)
	lc := newLayerClient(t, r)
	kbd := lc.h.NewID()
	must(t, lc.h.Send(lc.reg.bind(t, "wl_seat", 5), 1, kbd))
	panel := lc.newLayer(t, layershell.LayerShellV1LayerTop, func(ls uint32) {
		bottomBar(lc.h, 8)(ls)
		lc.h.Send(ls, layerSetKeyboardInteractive, uint32(2))
	})
	panel.show(t, 0x0000ff)
	r.click(t, 32, 60)
	waitFor(t, lc.h, "wl_keyboard.enter on the clicked panel", func(e protocoltest.Event) bool {
		return e.Object == kbd && e.Opcode == 1 && e.Uint(1) == panel.surface
	})
	r.click(t, 32, 30)
	waitFor(t, lc.h, "wl_keyboard.leave once the window is clicked", func(e protocoltest.Event) bool {
		return e.Object == kbd && e.Opcode == 2
	})
}

// A tap on an on-screen keyboard (a layer surface with keyboard
// interactivity none) reaches it as a touch at its own coordinates,
// and the window keeps the keyboard focus, so what the keyboard types
// goes to the window's field.
func TestLayerKeyboardTappedKeepsWindowFocus(t *testing.T) {
	r := startRig(t, 64, 64, 60000, render.Normal, protocol.Options{})
	w := newWindow(t, r.dial(t), 32)
	w.draw(t, 0xff0000)
	kbd := w.h.NewID()
	must(t, w.h.Send(w.reg.bind(t, "wl_seat", 5), 1, kbd))
	waitFor(t, w.h, "wl_keyboard.enter on the window", func(e protocoltest.Event) bool { return e.Object == kbd && e.Opcode == 1 })
	lc := newLayerClient(t, r)
	touch := lc.h.NewID()
	must(t, lc.h.Send(lc.reg.bind(t, "wl_seat", 5), 2, touch))
	osk := lc.newLayer(t, layershell.LayerShellV1LayerTop, bottomBar(lc.h, 16))
	osk.show(t, 0x0000ff)
	h := inputevent.Header{Device: "touchscreen"}
	r.input(t,
		inputevent.DeviceAdded{Header: h, Caps: inputevent.DeviceCaps{Touch: true}},
		inputevent.TouchDown{Header: h, ID: 0, X: 10.5 / 64, Y: 52.5 / 64},
		inputevent.TouchFrame{Header: h},
		inputevent.TouchUp{Header: h, ID: 0},
		inputevent.TouchFrame{Header: h},
	)
	e := waitFor(t, lc.h, "wl_touch.down on the keyboard", func(e protocoltest.Event) bool { return e.Object == touch && e.Opcode == 0 })
	if surf, x, y := e.Uint(2), protocol.Fixed(e.Uint(4)).Float(), protocol.Fixed(e.Uint(5)).Float(); surf != osk.surface || x != 10.5 || y != 4.5 {
		t.Fatalf("touch down on wl_surface#%d at %.1f,%.1f, want the keyboard's #%d at 10.5,4.5 (it starts at row 48)", surf, x, y, osk.surface)
	}
	waitFor(t, lc.h, "wl_touch.up", func(e protocoltest.Event) bool { return e.Object == touch && e.Opcode == 1 })
	// The window kept the keyboard: nothing up to a sync is a leave.
	sync := w.h.NewID()
	must(t, w.h.Send(1, 0, sync))
	waitFor(t, w.h, "the sync after the tap", func(e protocoltest.Event) bool {
		if e.Object == kbd && e.Opcode == 2 {
			t.Fatal("the window lost the keyboard to the on-screen keyboard it was tapped on")
		}
		return e.Object == sync
	})
}
