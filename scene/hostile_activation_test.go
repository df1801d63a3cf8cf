package scene_test

import (
	"testing"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/activation"
	"github.com/vitrine-wm/vitrine/protocol/protocoltest"
)

// Hostile xdg-activation clients.

func TestHostileActivationTokenCommittedTwice(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: activation.ActivationTokenV1ErrorAlreadyUsed, msg: "already committed"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		act := getRegistry(t, h).bind(t, "xdg_activation_v1", 1)
		tok := h.NewID()
		must(t, h.Send(act, activationGetToken, tok))
		must(t, h.Send(tok, tokenCommit))
		must(t, h.Send(tok, tokenCommit))
		return tok
	})
}

func TestHostileActivationTokenChangedAfterCommit(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: activation.ActivationTokenV1ErrorAlreadyUsed, msg: "already committed"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		reg := getRegistry(t, h)
		act, seat := reg.bind(t, "xdg_activation_v1", 1), reg.bind(t, "wl_seat", 5)
		tok := h.NewID()
		must(t, h.Send(act, activationGetToken, tok))
		must(t, h.Send(tok, tokenCommit))
		must(t, h.Send(tok, tokenSetSerial, uint32(1), seat))
		return tok
	})
}

// Forged tokens, tokens for surfaces that are no toplevel, thousands of
// tokens: all ignored, none raises the hostile window over the
// bystander, and the token store stays bounded.
func TestHostileActivationForgedAndFlooded(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{tolerated: true}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		w := hs.window(t, h)
		w.draw(t, 0xff00ff)
		act := w.reg.bind(t, "xdg_activation_v1", 1)
		must(t, h.Send(act, activationActivate, "0123456789abcdef0123456789abcdef", w.surface))
		must(t, h.Send(act, activationActivate, "", w.surface))
		sub := h.NewID()
		must(t, h.Send(w.compositor, 0, sub))
		for i := 0; i < 2000; i++ {
			tok := h.NewID()
			must(t, h.Send(act, activationGetToken, tok))
			must(t, h.Send(tok, tokenSetSurface, sub))
			must(t, h.Send(tok, tokenCommit))
			must(t, h.Send(tok, 4)) // destroy
		}
		tok := w.token(t, act, 0, 0)
		must(t, h.Send(act, activationActivate, tok, sub))
		must(t, h.Send(act, activationActivate, tok, w.surface))
		n := 0
		hs.onLoop(t, func() { n = hs.comp.ActivationTokens() })
		if n > 64 {
			t.Fatalf("%d activation tokens kept after a flood, want at most 64", n)
		}
		return 0
	})
}
