package scene_test

import (
	"errors"
	"image"
	"strings"
	"testing"
	"time"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/protocoltest"
	"github.com/vitrine-wm/vitrine/scene"
)

// fakeX11Window records what the scene tells an X11 window.
type fakeX11Window struct {
	configures []image.Rectangle
	fullscreen bool
	gone       bool
}

func (f *fakeX11Window) Configure(r image.Rectangle, fullscreen, _ bool) {
	f.configures = append(f.configures, r)
	f.fullscreen = fullscreen
}
func (f *fakeX11Window) SurfaceGone() { f.gone = true }
func (f *fakeX11Window) Close()       {}

// TestHostileX11SurfaceID: the ids the X window manager hands to
// AttachX11 come from X client messages any X client can forge. An id
// that names nothing, an object that is not a surface, a surface with an
// xdg role and a surface already paired must each be refused without
// harm; a paired surface is a filling kiosk toplevel; and the client
// that then gives the paired surface an xdg role gets the role error.
func TestHostileX11SurfaceID(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: 0, msg: "already has role xwayland_surface"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		w := hs.window(t, h)
		bare := h.NewID()
		must(t, h.Send(w.compositor, 0, bare))
		must(t, h.Roundtrip(3*time.Second))
		var pc *protocol.Client
		hs.onLoop(t, func() {
			clients := hs.srv.Clients()
			pc = clients[len(clients)-1]
		})
		win := &fakeX11Window{}
		geom := image.Rect(5, 5, 21, 21)
		hs.onLoop(t, func() {
			if _, err := hs.comp.AttachX11(pc, 0xdead, win, false, geom, nil); !errors.Is(err, scene.ErrNoSurface) {
				t.Errorf("unknown id: %v, want ErrNoSurface", err)
			}
			if _, err := hs.comp.AttachX11(pc, w.reg.id, win, false, geom, nil); err == nil || errors.Is(err, scene.ErrNoSurface) || !strings.Contains(err.Error(), "not a wl_surface") {
				t.Errorf("wl_registry id: %v, want a not-a-surface error", err)
			}
			if _, err := hs.comp.AttachX11(pc, w.surface, win, false, geom, nil); err == nil || !strings.Contains(err.Error(), "already has role xdg_surface") {
				t.Errorf("xdg surface: %v, want an already-has-role error", err)
			}
			if _, err := hs.comp.AttachX11(pc, bare, win, false, geom, nil); err != nil {
				t.Errorf("bare surface: %v", err)
			}
			if _, err := hs.comp.AttachX11(pc, bare, &fakeX11Window{}, true, geom, nil); err == nil || !strings.Contains(err.Error(), "already has role xwayland_surface") {
				t.Errorf("second pairing: %v, want an already-has-role error", err)
			}
		})
		hs.onLoop(t, func() {
			// Kiosk: told to fill the 64x64 output, fullscreen.
			if n := len(win.configures); n == 0 || win.configures[n-1] != image.Rect(0, 0, 64, 64) || !win.fullscreen {
				t.Errorf("X11 window configured %v fullscreen=%v, want the output (0,0)-(64,64) fullscreen", win.configures, win.fullscreen)
			}
		})
		// The paired surface cannot become an xdg_surface too.
		must(t, h.Send(w.wm, 2, h.NewID(), bare))
		return w.wm
	})
}

// TestX11SplashWithBufferBeforePairing: Xwayland often commits a
// window's first buffer before the window manager pairs the surface.
// A splash screen (floating) paired then must be shown centred at its
// own size and never be told to fill the output; told the output's size
// first, the X window takes it and keeps it. Fails if the scene lays the
// surface out before the window manager's setup runs.
func TestX11SplashWithBufferBeforePairing(t *testing.T) {
	r := startRig(t, 64, 64, 60000, 0, protocol.Options{})
	h := r.dial(t)
	reg := getRegistry(t, h)
	comp := reg.bind(t, "wl_compositor", 4)
	shm := reg.bind(t, "wl_shm", 1)
	surf := h.NewID()
	must(t, h.Send(comp, 0, surf))
	buf := shmBuffer(t, h, shm, 16, 8, 0x0000ff)
	must(t, h.Send(surf, 1, buf, int32(0), int32(0))) // attach
	must(t, h.Send(surf, 6))                          // commit
	must(t, h.Roundtrip(3*time.Second))
	var pc *protocol.Client
	r.onLoop(t, func() {
		clients := r.srv.Clients()
		pc = clients[len(clients)-1]
	})
	win := &fakeX11Window{}
	r.onLoop(t, func() {
		_, err := r.comp.AttachX11(pc, surf, win, false, image.Rect(0, 0, 16, 8), func(xw *scene.XWindow) { xw.SetFloating(true) })
		if err != nil {
			t.Fatal(err)
		}
	})
	want := image.Rect(24, 28, 40, 36)
	r.onLoop(t, func() {
		for _, c := range win.configures {
			if c.Size() != want.Size() {
				t.Errorf("splash configured %v (all: %v), want only its own size %v", c, win.configures, want.Size())
			}
		}
		if n := len(win.configures); n == 0 || win.configures[n-1] != want || win.fullscreen {
			t.Errorf("splash configured %v fullscreen=%v, want %v, not fullscreen", win.configures, win.fullscreen, want)
		}
	})
}
