package scene_test

import (
	"testing"
	"time"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/protocoltest"
	"github.com/vitrine-wm/vitrine/render"
	"github.com/vitrine-wm/vitrine/scene"
)

// Hostile text-input and input-method clients.

func TestHostileInputPopupSurfaceWithRole(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: 0, msg: "already has role xdg_surface"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		w := hs.window(t, h)
		seat := w.reg.bind(t, "wl_seat", 5)
		im := h.NewID()
		must(t, h.Send(w.reg.bind(t, "zwp_input_method_manager_v2", 1), imManagerGetInputMethod, seat, im))
		must(t, h.Send(im, imGetPopupSurface, h.NewID(), w.surface))
		return im
	})
}

func TestHostileInputMethodGrabsTwice(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: 0, msg: "already grabs the keyboard"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		reg := getRegistry(t, h)
		im := h.NewID()
		must(t, h.Send(reg.bind(t, "zwp_input_method_manager_v2", 1), imManagerGetInputMethod, reg.bind(t, "wl_seat", 5), im))
		must(t, h.Send(im, imGrabKeyboard, h.NewID()))
		must(t, h.Send(im, imGrabKeyboard, h.NewID()))
		return im
	})
}

// Offsets far outside the surrounding text reach the input method
// clamped to the text, not as huge unsigned numbers.
func TestHostileTextInputSurroundingOutOfRange(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{tolerated: true}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		imh, _, im := newInputMethod(t, hs.rig)
		defer imh.Close()
		w := hs.window(t, h)
		w.draw(t, 0xff00ff)
		reg := w.reg
		ti := h.NewID()
		must(t, h.Send(reg.bind(t, "zwp_text_input_manager_v3", 1), tiManagerGetTextInput, ti, reg.bind(t, "wl_seat", 5)))
		must(t, h.Send(ti, tiEnable))
		must(t, h.Send(ti, tiSetSurrounding, "ab", int32(1000), int32(-7)))
		must(t, h.Send(ti, tiCommit))
		e := waitFor(t, imh, "surrounding_text", func(e protocoltest.Event) bool { return e.Object == im && e.Opcode == imEventSurrounding })
		n := int(e.Uint(0))
		words := 1 + (n+3)/4
		if cur, anchor := e.Uint(words), e.Uint(words+1); cur != 2 || anchor != 0 {
			t.Fatalf("input method told cursor %d anchor %d for \"ab\", want 2 and 0", cur, anchor)
		}
		return 0
	})
}

// The text field's surface destroyed while the input method serves it:
// the input method is deactivated, and its commits go nowhere.
func TestHostileTextInputSurfaceDestroyed(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{tolerated: true}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		imh, _, im := newInputMethod(t, hs.rig)
		defer imh.Close()
		w := hs.window(t, h)
		w.draw(t, 0xff00ff)
		reg := w.reg
		ti := h.NewID()
		must(t, h.Send(reg.bind(t, "zwp_text_input_manager_v3", 1), tiManagerGetTextInput, ti, reg.bind(t, "wl_seat", 5)))
		must(t, h.Send(ti, tiEnable))
		must(t, h.Send(ti, tiCommit))
		waitFor(t, imh, "activate", func(e protocoltest.Event) bool { return e.Object == im && e.Opcode == imEventActivate })
		must(t, h.Send(w.top, 0))
		must(t, h.Send(w.xsurf, 0))
		must(t, h.Send(w.surface, 0))
		waitFor(t, imh, "deactivate", func(e protocoltest.Event) bool { return e.Object == im && e.Opcode == imEventDeactivate })
		must(t, imh.Send(im, imCommitString, "into the void"))
		must(t, imh.Send(im, imCommit, uint32(1)))
		must(t, imh.Roundtrip(3*time.Second))
		return 0
	})
}

// The input method is privileged: a client outside
// --privileged-clients does not see it, while text input stays for all.
func TestHostileInputMethodUnprivileged(t *testing.T) {
	r := startRigConfig(t, 64, 64, 60000, render.Normal, protocol.Options{}, func(c *scene.Config) {
		c.Privileged = func(*protocol.Client) bool { return false }
	})
	reg := getRegistry(t, r.dial(t))
	if _, ok := reg.globals["zwp_input_method_manager_v2"]; ok {
		t.Fatal("an unprivileged client sees zwp_input_method_manager_v2")
	}
	if _, ok := reg.globals["zwp_text_input_manager_v3"]; !ok {
		t.Fatal("zwp_text_input_manager_v3 is missing for an unprivileged client")
	}
}
