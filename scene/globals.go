package scene

import (
	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/activation"
	"github.com/vitrine-wm/vitrine/protocol/cursorshape"
	"github.com/vitrine-wm/vitrine/protocol/datacontrol"
	linuxdmabuf "github.com/vitrine-wm/vitrine/protocol/dmabuf"
	"github.com/vitrine-wm/vitrine/protocol/fractionalscale"
	"github.com/vitrine-wm/vitrine/protocol/idleinhibit"
	"github.com/vitrine-wm/vitrine/protocol/idlenotify"
	"github.com/vitrine-wm/vitrine/protocol/inputmethod"
	"github.com/vitrine-wm/vitrine/protocol/layershell"
	"github.com/vitrine-wm/vitrine/protocol/outputmgmt"
	"github.com/vitrine-wm/vitrine/protocol/outputpower"
	"github.com/vitrine-wm/vitrine/protocol/pointerconstraints"
	"github.com/vitrine-wm/vitrine/protocol/presentation"
	"github.com/vitrine-wm/vitrine/protocol/primaryselection"
	"github.com/vitrine-wm/vitrine/protocol/relativepointer"
	"github.com/vitrine-wm/vitrine/protocol/screencopy"
	"github.com/vitrine-wm/vitrine/protocol/sessionlock"
	"github.com/vitrine-wm/vitrine/protocol/singlepixel"
	"github.com/vitrine-wm/vitrine/protocol/textinput"
	"github.com/vitrine-wm/vitrine/protocol/viewporter"
	"github.com/vitrine-wm/vitrine/protocol/wl"
	"github.com/vitrine-wm/vitrine/protocol/xdg"
	"github.com/vitrine-wm/vitrine/protocol/xdgdecoration"
	"github.com/vitrine-wm/vitrine/protocol/xdgoutput"
)

// Global versions: the newest the Debian bookworm clients use (libwayland
// 1.21, wayland-protocols 1.31).
const (
	compositorVersion    = 5
	subcompositorVersion = 1
	shmVersion           = 1
	seatVersion          = 8
	dataDeviceVersion    = 3
	wmBaseVersion        = 5
	decorationVersion    = 1
	viewporterVersion    = 1
	presentationVersion  = 1
	singlePixelVersion   = 1
	xdgOutputVersion     = 3
	screencopyVersion    = 3
	dmabufVersion        = 4
	outputManagerVersion = 4
	idleNotifierVersion  = 1
	idleInhibitVersion   = 1
	outputPowerVersion   = 1
	fractionalVersion    = 1
)

func (c *Compositor) registerGlobals() {
	s := c.srv
	s.AddGlobal(wl.CompositorInterface, compositorVersion, func(pc *protocol.Client, v, id uint32) error {
		res, err := wl.NewCompositor(pc, id, v)
		if err == nil {
			res.Handler = compositorHandler{c}
		}
		return err
	})
	s.AddGlobal(wl.SubcompositorInterface, subcompositorVersion, func(pc *protocol.Client, v, id uint32) error {
		res, err := wl.NewSubcompositor(pc, id, v)
		if err == nil {
			res.Handler = subcompositor{c}
		}
		return err
	})
	s.AddGlobal(wl.ShmInterface, shmVersion, c.bindShm)
	s.AddGlobal(wl.SeatInterface, seatVersion, c.bindSeat)
	s.AddGlobal(linuxdmabuf.LinuxDmabufV1Interface, dmabufVersion, c.bindDmabuf)
	s.AddGlobal(wl.DataDeviceManagerInterface, dataDeviceVersion, func(pc *protocol.Client, v, id uint32) error {
		res, err := wl.NewDataDeviceManager(pc, id, v)
		if err == nil {
			res.Handler = dataDeviceManager{c}
		}
		return err
	})
	s.AddGlobal(xdg.WmBaseInterface, wmBaseVersion, c.bindWmBase)
	s.AddGlobal(xdgdecoration.DecorationManagerV1Interface, decorationVersion, func(pc *protocol.Client, v, id uint32) error {
		res, err := xdgdecoration.NewDecorationManagerV1(pc, id, v)
		if err == nil {
			res.Handler = decorationManager{}
		}
		return err
	})
	s.AddGlobal(viewporter.ViewporterInterface, viewporterVersion, func(pc *protocol.Client, v, id uint32) error {
		res, err := viewporter.NewViewporter(pc, id, v)
		if err == nil {
			res.Handler = viewporterHandler{}
		}
		return err
	})
	s.AddGlobal(fractionalscale.FractionalScaleManagerV1Interface, fractionalVersion, func(pc *protocol.Client, v, id uint32) error {
		res, err := fractionalscale.NewFractionalScaleManagerV1(pc, id, v)
		if err == nil {
			res.Handler = fractionalScaleManager{c}
		}
		return err
	})
	s.AddGlobal(presentation.PresentationInterface, presentationVersion, func(pc *protocol.Client, v, id uint32) error {
		res, err := presentation.NewPresentation(pc, id, v)
		if err != nil {
			return err
		}
		res.Handler = presentationHandler{}
		res.SendClockId(clockMonotonicID)
		return nil
	})
	s.AddGlobal(singlepixel.SinglePixelBufferManagerV1Interface, singlePixelVersion, func(pc *protocol.Client, v, id uint32) error {
		res, err := singlepixel.NewSinglePixelBufferManagerV1(pc, id, v)
		if err == nil {
			res.Handler = singlePixelManager{c}
		}
		return err
	})
	s.AddGlobal(xdgoutput.OutputManagerV1Interface, xdgOutputVersion, func(pc *protocol.Client, v, id uint32) error {
		res, err := xdgoutput.NewOutputManagerV1(pc, id, v)
		if err == nil {
			res.Handler = xdgOutputManager{c}
		}
		return err
	})
	sc := s.AddGlobal(screencopy.ScreencopyManagerV1Interface, screencopyVersion, func(pc *protocol.Client, v, id uint32) error {
		res, err := screencopy.NewScreencopyManagerV1(pc, id, v)
		if err == nil {
			res.Handler = screencopyManager{c}
		}
		return err
	})
	sc.Filter = c.privileged
	om := s.AddGlobal(outputmgmt.OutputManagerV1Interface, outputManagerVersion, c.bindOutputManager)
	om.Filter = c.privileged
	s.AddGlobal(layershell.LayerShellV1Interface, layerShellVersion, c.bindLayerShell)
	s.AddGlobal(textinput.TextInputManagerV3Interface, textInputManagerVersion, c.bindTextInputManager)
	im := s.AddGlobal(inputmethod.InputMethodManagerV2Interface, inputMethodManagerVersion, c.bindInputMethodManager)
	im.Filter = c.privileged
	s.AddGlobal(activation.ActivationV1Interface, activationVersion, c.bindActivation)
	s.AddGlobal(cursorshape.CursorShapeManagerV1Interface, cursorShapeVersion, c.bindCursorShapeManager)
	c.registerVirtualInput()
	s.AddGlobal(idlenotify.IdleNotifierV1Interface, idleNotifierVersion, c.bindIdleNotifier)
	s.AddGlobal(idleinhibit.IdleInhibitManagerV1Interface, idleInhibitVersion, c.bindIdleInhibit)
	op := s.AddGlobal(outputpower.OutputPowerManagerV1Interface, outputPowerVersion, c.bindOutputPower)
	op.Filter = c.privileged
	s.AddGlobal(primaryselection.PrimarySelectionDeviceManagerV1Interface, primarySelectionVersion, c.bindPrimarySelection)
	dc := s.AddGlobal(datacontrol.DataControlManagerV1Interface, dataControlVersion, c.bindDataControl)
	dc.Filter = c.privileged
	s.AddGlobal(relativepointer.RelativePointerManagerV1Interface, relativePointerVersion, c.bindRelativePointer)
	s.AddGlobal(pointerconstraints.PointerConstraintsV1Interface, pointerConstraintsVersion, c.bindPointerConstraints)
	s.AddGlobal(sessionlock.SessionLockManagerV1Interface, sessionLockVersion, c.bindSessionLock)
}

// clockMonotonicID is CLOCK_MONOTONIC's clockid_t.
const clockMonotonicID = 1

type compositorHandler struct{ c *Compositor }

func (h compositorHandler) CreateSurface(_ *wl.Compositor, res *wl.Surface) error {
	h.c.newSurface(res)
	if f := h.c.client(res.Client()).surfaceCreated; f != nil {
		f(res.ID())
	}
	return nil
}

func (h compositorHandler) CreateRegion(_ *wl.Compositor, res *wl.Region) error {
	h.c.newRegion(res)
	return nil
}

// --- presentation ---

type presentationHandler struct{}

func (presentationHandler) Destroy(*presentation.Presentation) error { return nil }

func (presentationHandler) Feedback(_ *presentation.Presentation, ws *wl.Surface, fb *presentation.PresentationFeedback) error {
	s := surfaceOf(ws)
	s.pending.feedbacks = append(s.pending.feedbacks, fb)
	return nil
}

// --- viewporter ---

type viewporterHandler struct{}

func (viewporterHandler) Destroy(*viewporter.Viewporter) error { return nil }

func (viewporterHandler) GetViewport(r *viewporter.Viewporter, res *viewporter.Viewport, ws *wl.Surface) error {
	s := surfaceOf(ws)
	if s.viewport != nil {
		return protocol.NewError(r, viewporter.ViewporterErrorViewportExists, "wl_surface#%d already has a viewport", ws.ID())
	}
	vp := &viewport{res: res, surface: s}
	s.viewport = vp
	res.Handler = vp
	res.OnDestroy(func() {
		if vp.surface != nil && vp.surface.viewport == vp {
			vp.surface.viewport = nil
			p := &vp.surface.pending
			p.viewportSet, p.vpSrc, p.vpDst = true, [4]protocol.Fixed{-1, -1, -1, -1}, [2]int32{-1, -1}
		}
	})
	ws.OnDestroy(func() { vp.surface = nil })
	return nil
}

type viewport struct {
	res     *viewporter.Viewport
	surface *surface
}

func (vp *viewport) Destroy(*viewporter.Viewport) error { return nil }

func (vp *viewport) SetSource(r *viewporter.Viewport, x, y, w, h protocol.Fixed) error {
	if vp.surface == nil {
		return protocol.NewError(r, viewporter.ViewportErrorNoSurface, "the wl_surface is gone")
	}
	unset := x == -256 && y == -256 && w == -256 && h == -256
	if !unset && (x < 0 || y < 0 || w <= 0 || h <= 0) {
		return protocol.NewError(r, viewporter.ViewportErrorBadValue, "invalid source %.2f,%.2f %.2fx%.2f", x.Float(), y.Float(), w.Float(), h.Float())
	}
	p := &vp.surface.pending
	if !p.viewportSet {
		p.viewportSet, p.vpSrc, p.vpDst = true, vp.surface.vpSrc, vp.surface.vpDst
	}
	if unset {
		p.vpSrc = [4]protocol.Fixed{-1, -1, -1, -1}
	} else {
		p.vpSrc = [4]protocol.Fixed{x, y, w, h}
	}
	return nil
}

func (vp *viewport) SetDestination(r *viewporter.Viewport, w, h int32) error {
	if vp.surface == nil {
		return protocol.NewError(r, viewporter.ViewportErrorNoSurface, "the wl_surface is gone")
	}
	unset := w == -1 && h == -1
	if !unset && (w <= 0 || h <= 0) {
		return protocol.NewError(r, viewporter.ViewportErrorBadValue, "invalid destination %dx%d", w, h)
	}
	p := &vp.surface.pending
	if !p.viewportSet {
		p.viewportSet, p.vpSrc, p.vpDst = true, vp.surface.vpSrc, vp.surface.vpDst
	}
	if unset {
		p.vpDst = [2]int32{-1, -1}
	} else {
		p.vpDst = [2]int32{w, h}
	}
	return nil
}

// --- decorations: vitrine draws none, so clients keep their own ---

type decorationManager struct{}

func (decorationManager) Destroy(*xdgdecoration.DecorationManagerV1) error { return nil }

func (decorationManager) GetToplevelDecoration(_ *xdgdecoration.DecorationManagerV1, res *xdgdecoration.ToplevelDecorationV1, _ *xdg.Toplevel) error {
	d := decoration{res}
	res.Handler = d
	d.configure()
	return nil
}

type decoration struct {
	res *xdgdecoration.ToplevelDecorationV1
}

func (d decoration) configure() {
	d.res.SendConfigure(xdgdecoration.ToplevelDecorationV1ModeClientSide)
}

func (d decoration) Destroy(*xdgdecoration.ToplevelDecorationV1) error { return nil }
func (d decoration) SetMode(*xdgdecoration.ToplevelDecorationV1, uint32) error {
	d.configure()
	return nil
}
func (d decoration) UnsetMode(*xdgdecoration.ToplevelDecorationV1) error {
	d.configure()
	return nil
}
