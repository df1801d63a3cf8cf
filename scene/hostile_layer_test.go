package scene_test

import (
	"testing"
	"time"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/layershell"
	"github.com/vitrine-wm/vitrine/protocol/protocoltest"
)

// Hostile layer-shell clients (runHostile: the right error, vitrine
// still up, the bystander still drawn pixel-exact).

// hostileLayer makes a layer surface on a fresh surface of h without
// committing it.
func hostileLayer(t *testing.T, h *protocoltest.Client, layer uint32) (lc *layerClient, surf, ls uint32) {
	t.Helper()
	lc = &layerClient{h: h, reg: getRegistry(t, h)}
	lc.comp = lc.reg.bind(t, "wl_compositor", 4)
	lc.shm = lc.reg.bind(t, "wl_shm", 1)
	lc.shell = lc.reg.bind(t, "zwlr_layer_shell_v1", 4)
	surf, ls = h.NewID(), h.NewID()
	must(t, h.Send(lc.comp, 0, surf))
	must(t, h.Send(lc.shell, layerShellGetLayerSurface, ls, surf, uint32(0), layer, "hostile"))
	return lc, surf, ls
}

func TestHostileLayerInvalidLayer(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: layershell.LayerShellV1ErrorInvalidLayer, msg: "invalid layer 9"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		lc, _, _ := hostileLayer(t, h, 9)
		return lc.shell
	})
}

func TestHostileLayerSetLayerInvalid(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: layershell.LayerShellV1ErrorInvalidLayer, msg: "invalid layer 4"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		_, _, ls := hostileLayer(t, h, layershell.LayerShellV1LayerTop)
		must(t, h.Send(ls, 8, uint32(4)))
		return ls
	})
}

func TestHostileLayerSurfaceWithAnotherRole(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: layershell.LayerShellV1ErrorRole, msg: "already has role xdg_surface"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		w := hs.window(t, h)
		shell := w.reg.bind(t, "zwlr_layer_shell_v1", 4)
		must(t, h.Send(shell, layerShellGetLayerSurface, h.NewID(), w.surface, uint32(0), uint32(2), "stolen"))
		return shell
	})
}

func TestHostileLayerSurfaceWithBuffer(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: layershell.LayerShellV1ErrorAlreadyConstructed, msg: "already has a buffer"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		reg := getRegistry(t, h)
		comp, shm, shell := reg.bind(t, "wl_compositor", 4), reg.bind(t, "wl_shm", 1), reg.bind(t, "zwlr_layer_shell_v1", 4)
		surf := h.NewID()
		must(t, h.Send(comp, 0, surf))
		must(t, h.Send(surf, 1, shmBuffer(t, h, shm, 4, 4, 0xffffff), int32(0), int32(0)))
		must(t, h.Send(shell, layerShellGetLayerSurface, h.NewID(), surf, uint32(0), uint32(2), "late"))
		return shell
	})
}

func TestHostileLayerInvalidAnchor(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: layershell.LayerSurfaceV1ErrorInvalidAnchor, msg: "invalid anchor 0x30"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		_, _, ls := hostileLayer(t, h, layershell.LayerShellV1LayerTop)
		must(t, h.Send(ls, layerSetAnchor, uint32(0x30)))
		return ls
	})
}

func TestHostileLayerZeroSizeUnanchored(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: layershell.LayerSurfaceV1ErrorInvalidSize, msg: "width 0 needs the surface anchored"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		_, surf, ls := hostileLayer(t, h, layershell.LayerShellV1LayerTop)
		must(t, h.Send(ls, layerSetAnchor, uint32(layershell.LayerSurfaceV1AnchorBottom)))
		must(t, h.Send(surf, 6))
		return ls
	})
}

func TestHostileLayerBufferBeforeConfigure(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: layershell.LayerSurfaceV1ErrorInvalidSurfaceState, msg: "before the first configure"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		lc, surf, ls := hostileLayer(t, h, layershell.LayerShellV1LayerTop)
		must(t, h.Send(ls, layerSetSize, uint32(4), uint32(4)))
		must(t, h.Send(surf, 1, shmBuffer(t, h, lc.shm, 4, 4, 0xffffff), int32(0), int32(0)))
		must(t, h.Send(surf, 6))
		return ls
	})
}

func TestHostileLayerInvalidKeyboardInteractivity(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: layershell.LayerSurfaceV1ErrorInvalidKeyboardInteractivity, msg: "invalid keyboard interactivity 7"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		_, _, ls := hostileLayer(t, h, layershell.LayerShellV1LayerTop)
		must(t, h.Send(ls, layerSetKeyboardInteractive, uint32(7)))
		return ls
	})
}

func TestHostileLayerAckUnknownSerial(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: layershell.LayerSurfaceV1ErrorInvalidSurfaceState, msg: "unknown configure serial 4242"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		_, _, ls := hostileLayer(t, h, layershell.LayerShellV1LayerTop)
		must(t, h.Send(ls, layerAckConfigure, uint32(4242)))
		return ls
	})
}

// A popup that already has an xdg parent cannot be given to a layer
// surface too.
func TestHostileLayerPopupWithParent(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: layershell.LayerSurfaceV1ErrorInvalidSurfaceState, msg: "already has a parent"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		w := hs.window(t, h)
		shell := w.reg.bind(t, "zwlr_layer_shell_v1", 4)
		lsurf, ls := h.NewID(), h.NewID()
		must(t, h.Send(w.compositor, 0, lsurf))
		must(t, h.Send(shell, layerShellGetLayerSurface, ls, lsurf, uint32(0), uint32(2), "menu"))
		pos, psurf, pxs, pop := h.NewID(), h.NewID(), h.NewID(), h.NewID()
		must(t, h.Send(w.wm, 1, pos))
		must(t, h.Send(pos, 1, int32(8), int32(8)))
		must(t, h.Send(pos, 2, int32(0), int32(0), int32(1), int32(1)))
		must(t, h.Send(w.compositor, 0, psurf))
		must(t, h.Send(w.wm, 2, pxs, psurf))
		must(t, h.Send(pxs, 2, pop, w.xsurf, pos))
		must(t, h.Send(ls, layerGetPopup, pop))
		return ls
	})
}

// A panel reserving far more than the output has: the windows keep
// their room (the zone is ignored with a log line) and the bystander,
// reconfigured while the panel is up, is still the whole output.
func TestHostileLayerHugeExclusiveZone(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{tolerated: true}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		lc := &layerClient{h: h, reg: getRegistry(t, h)}
		lc.comp = lc.reg.bind(t, "wl_compositor", 4)
		lc.shm = lc.reg.bind(t, "wl_shm", 1)
		lc.shell = lc.reg.bind(t, "zwlr_layer_shell_v1", 4)
		bar := lc.newLayer(t, layershell.LayerShellV1LayerTop, func(ls uint32) {
			bottomBar(h, 8)(ls)
			h.Send(ls, layerSetExclusiveZone, int32(1<<30))
			h.Send(ls, layerSetMargin, int32(0), int32(0), int32(1<<30), int32(0))
		})
		bar.show(t, 0xffffff)
		waitLog(t, hs.rig, "exclusive zone ignored")
		return 0
	})
}

// The wl_surface destroyed under a mapped layer surface that reserves a
// strip: the strip goes back to the windows at once.
func TestHostileLayerSurfaceDestroyedFirst(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{tolerated: true}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		lc := &layerClient{h: h, reg: getRegistry(t, h)}
		lc.comp = lc.reg.bind(t, "wl_compositor", 4)
		lc.shm = lc.reg.bind(t, "wl_shm", 1)
		lc.shell = lc.reg.bind(t, "zwlr_layer_shell_v1", 4)
		bar := lc.newLayer(t, layershell.LayerShellV1LayerTop, bottomBar(h, 16))
		bar.show(t, 0xffffff)
		must(t, h.Send(bar.surface, 0))
		must(t, h.Roundtrip(3*time.Second))
		// Still connected, with its layer surface object alive: the
		// bystander must be centred on the whole output again.
		hs.checkBystander(t)
		return 0
	})
}
