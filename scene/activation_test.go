package scene_test

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/protocoltest"
	"github.com/vitrine-wm/vitrine/render"
	"github.com/vitrine-wm/vitrine/seat/inputevent"
)

// Requests of xdg-activation.
const (
	activationGetToken = 1
	activationActivate = 2

	tokenSetSerial  = 0
	tokenSetSurface = 2
	tokenCommit     = 3
)

// input runs input events on the rig's loop.
func (r *rig) input(tb testing.TB, evs ...inputevent.Event) {
	tb.Helper()
	r.onLoop(tb, func() {
		for _, ev := range evs {
			r.comp.HandleInput(ev)
		}
	})
}

// click presses and releases the left button at (x, y) of the rig's
// 64x64 output with a pointer device.
func (r *rig) click(tb testing.TB, x, y int) {
	tb.Helper()
	h := inputevent.Header{Device: "mouse"}
	r.input(tb,
		inputevent.DeviceAdded{Header: h, Caps: inputevent.DeviceCaps{Pointer: true, Tablet: true}},
		inputevent.PointerAbs{Header: h, X: (float64(x) + 0.5) / 64, Y: (float64(y) + 0.5) / 64},
		inputevent.Frame{Header: h},
		inputevent.Button{Header: h, Code: btnLeft, Pressed: true},
		inputevent.Frame{Header: h},
		inputevent.Button{Header: h, Code: btnLeft},
		inputevent.Frame{Header: h},
	)
}

// token asks for an activation token on w's connection, with serial if
// not 0, and returns it.
func (w *window) token(t *testing.T, act, seat, serial uint32) string {
	t.Helper()
	tok := w.h.NewID()
	must(t, w.h.Send(act, activationGetToken, tok))
	if serial != 0 {
		must(t, w.h.Send(tok, tokenSetSerial, serial, seat))
	}
	must(t, w.h.Send(tok, tokenSetSurface, w.surface))
	must(t, w.h.Send(tok, tokenCommit))
	e := waitFor(t, w.h, "xdg_activation_token_v1.done", func(e protocoltest.Event) bool { return e.Object == tok && e.Opcode == 0 })
	return e.String(0)
}

// activated waits for w's next configure and reports whether it has
// the activated state.
func (w *window) activated(t *testing.T) bool {
	t.Helper()
	var states []uint32
	waitFor(t, w.h, "xdg_toplevel.configure", func(e protocoltest.Event) bool {
		if e.Object == w.top && e.Opcode == 0 {
			n := int(e.Uint(2))
			states = states[:0]
			for i := 0; i < n/4; i++ {
				states = append(states, binary.LittleEndian.Uint32(e.Args[12+4*i:]))
			}
			return true
		}
		return false
	})
	for _, s := range states {
		if s == 4 { // activated
			return true
		}
	}
	return false
}

func centrePixel(img *render.Image) uint32 {
	return binary.LittleEndian.Uint32(img.Pix[32*img.Stride+4*32:]) & 0xffffff
}

// A window the user clicked may raise itself with a token asked for
// with the click's serial; a token without a user's input raises
// nothing, and a token is good for one activation only.
func TestActivationRaisesOnlyWithUserInput(t *testing.T) {
	r := startRig(t, 64, 64, 60000, render.Normal, protocol.Options{})
	a := newWindow(t, r.dial(t), 48)
	a.draw(t, 0xff0000)
	aseat := a.reg.bind(t, "wl_seat", 5)
	aptr := a.h.NewID()
	must(t, a.h.Send(aseat, 0, aptr))
	aact := a.reg.bind(t, "xdg_activation_v1", 1)
	must(t, a.h.Roundtrip(3*time.Second))
	b := newWindow(t, r.dial(t), 16)
	b.draw(t, 0x00ff00)
	bact := b.reg.bind(t, "xdg_activation_v1", 1)
	bseat := b.reg.bind(t, "wl_seat", 5)
	if got := centrePixel(r.screenshot(t)); got != 0x00ff00 {
		t.Fatalf("centre %06x before activation, want the newer window's 00ff00", got)
	}

	// The user clicks A (where B does not cover it).
	r.click(t, 10, 10)
	e := waitFor(t, a.h, "wl_pointer.button", func(e protocoltest.Event) bool { return e.Object == aptr && e.Opcode == 3 })
	serial := e.Uint(0)

	tok := a.token(t, aact, aseat, serial)
	must(t, a.h.Send(aact, activationActivate, tok, a.surface))
	if !a.activated(t) {
		t.Fatal("A's configure after activation does not have the activated state")
	}
	if b.activated(t) {
		t.Fatal("B is still activated after A was raised")
	}
	a.draw(t, 0xff0000)
	if got := centrePixel(r.screenshot(t)); got != 0xff0000 {
		t.Fatalf("centre %06x after A's activation, want A's ff0000 on top", got)
	}

	// B with A's click serial (not an input B got), with no serial,
	// and with A's used token: all refused.
	weak := b.token(t, bact, bseat, serial)
	must(t, b.h.Send(bact, activationActivate, weak, b.surface))
	must(t, b.h.Send(bact, activationActivate, b.token(t, bact, bseat, 0), b.surface))
	must(t, b.h.Send(bact, activationActivate, tok, b.surface))
	must(t, b.h.Roundtrip(3*time.Second))
	a.draw(t, 0xff0000)
	if got := centrePixel(r.screenshot(t)); got != 0xff0000 {
		t.Fatalf("centre %06x after B's refused activations, want A's ff0000 still on top", got)
	}
}
