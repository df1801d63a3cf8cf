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
			if _, err := hs.comp.AttachX11(pc, 0xdead, win, false, geom); !errors.Is(err, scene.ErrNoSurface) {
				t.Errorf("unknown id: %v, want ErrNoSurface", err)
			}
			if _, err := hs.comp.AttachX11(pc, w.reg.id, win, false, geom); err == nil || errors.Is(err, scene.ErrNoSurface) || !strings.Contains(err.Error(), "not a wl_surface") {
				t.Errorf("wl_registry id: %v, want a not-a-surface error", err)
			}
			if _, err := hs.comp.AttachX11(pc, w.surface, win, false, geom); err == nil || !strings.Contains(err.Error(), "already has role xdg_surface") {
				t.Errorf("xdg surface: %v, want an already-has-role error", err)
			}
			if _, err := hs.comp.AttachX11(pc, bare, win, false, geom); err != nil {
				t.Errorf("bare surface: %v", err)
			}
			if _, err := hs.comp.AttachX11(pc, bare, &fakeX11Window{}, true, geom); err == nil || !strings.Contains(err.Error(), "already has role xwayland_surface") {
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
