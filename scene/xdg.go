package scene

import (
	"encoding/binary"
	"image"
	"slices"
	"time"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/wl"
	"github.com/vitrine-wm/vitrine/protocol/xdg"
)

// --- xdg_wm_base ---

type wmBase struct {
	c   *Compositor
	res *xdg.WmBase
	// surfaces made through this wm_base; destroying it before them is an
	// error (defunct_surfaces).
	surfaces []*xdgSurface
	// pingSerial is the outstanding ping (0: none).
	pingSerial uint32
	pingSent   time.Time
}

func (c *Compositor) bindWmBase(pc *protocol.Client, version, id uint32) error {
	res, err := xdg.NewWmBase(pc, id, version)
	if err != nil {
		return err
	}
	wm := &wmBase{c: c, res: res}
	res.Handler = wm
	cs := c.client(pc)
	cs.wmBases = append(cs.wmBases, wm)
	res.OnDestroy(func() { cs.wmBases = slices.DeleteFunc(cs.wmBases, func(x *wmBase) bool { return x == wm }) })
	return nil
}

func (wm *wmBase) Destroy(r *xdg.WmBase) error {
	for _, xs := range wm.surfaces {
		if xs.res.Alive() {
			return protocol.NewError(r, xdg.WmBaseErrorDefunctSurfaces, "destroyed before its xdg_surfaces")
		}
	}
	return nil
}

func (wm *wmBase) CreatePositioner(_ *xdg.WmBase, res *xdg.Positioner) error {
	res.Handler = &positioner{res: res}
	return nil
}

func (wm *wmBase) GetXdgSurface(r *xdg.WmBase, res *xdg.Surface, ws *wl.Surface) error {
	s := surfaceOf(ws)
	if s.roleName != "" && s.roleName != "xdg_surface" {
		return protocol.NewError(r, xdg.WmBaseErrorRole, "wl_surface#%d already has role %s", ws.ID(), s.roleName)
	}
	if s.buf != nil || s.pending.buffer != nil {
		return protocol.NewError(res, xdg.SurfaceErrorUnconfiguredBuffer, "wl_surface#%d already has a buffer", ws.ID())
	}
	xs := &xdgSurface{c: wm.c, res: res, surface: s, wm: wm}
	res.Handler = xs
	s.roleName, s.role = "xdg_surface", xs
	wm.surfaces = append(wm.surfaces, xs)
	res.OnDestroy(xs.destroyed)
	return nil
}

// ping asks the client to prove it is alive; the timer only exists while
// an answer is outstanding, so an idle compositor does not wake up.
func (wm *wmBase) ping() {
	if wm.pingSerial != 0 || !wm.res.Alive() {
		return
	}
	wm.pingSerial = wm.c.srv.NextSerial()
	wm.pingSent = time.Now()
	wm.res.SendPing(wm.pingSerial)
	serial := wm.pingSerial
	wm.c.after(wm.c.pingAfter, func() {
		if wm.pingSerial == serial && wm.res.Alive() {
			cs := wm.c.client(wm.res.Client())
			if !cs.unresponsive {
				cs.unresponsive = true
				wm.c.log.Warn("client is not responding to ping", "pid", wm.res.Client().PID, "after", wm.c.pingAfter)
			}
		}
	})
}

func (wm *wmBase) Pong(r *xdg.WmBase, serial uint32) error {
	if serial == wm.pingSerial {
		wm.pingSerial = 0
		cs := wm.c.client(r.Client())
		if cs.unresponsive {
			cs.unresponsive = false
			wm.c.log.Info("client is responding again", "pid", r.Client().PID)
		}
	}
	return nil
}

// Unresponsive reports clients that did not answer a ping in time.
func (c *Compositor) Unresponsive(pc *protocol.Client) bool { return c.client(pc).unresponsive }

// --- xdg_positioner ---

type positionerState struct {
	size       image.Point
	anchorRect image.Rectangle
	anchorSet  bool
	anchor     uint32
	gravity    uint32
	constraint uint32
	offset     image.Point
	reactive   bool
}

type positioner struct {
	res *xdg.Positioner
	positionerState
}

func (p *positioner) Destroy(*xdg.Positioner) error { return nil }

func (p *positioner) SetSize(r *xdg.Positioner, w, h int32) error {
	if w <= 0 || h <= 0 {
		return protocol.NewError(r, xdg.PositionerErrorInvalidInput, "size %dx%d must be positive", w, h)
	}
	p.size = image.Pt(int(w), int(h))
	return nil
}

func (p *positioner) SetAnchorRect(r *xdg.Positioner, x, y, w, h int32) error {
	if w < 0 || h < 0 {
		return protocol.NewError(r, xdg.PositionerErrorInvalidInput, "anchor rect size %dx%d is negative", w, h)
	}
	p.anchorRect, p.anchorSet = clampRect(x, y, w, h), true
	return nil
}

func (p *positioner) SetAnchor(r *xdg.Positioner, a uint32) error {
	if a > xdg.PositionerAnchorBottomRight {
		return protocol.NewError(r, xdg.PositionerErrorInvalidInput, "invalid anchor %d", a)
	}
	p.anchor = a
	return nil
}

func (p *positioner) SetGravity(r *xdg.Positioner, g uint32) error {
	if g > xdg.PositionerGravityBottomRight {
		return protocol.NewError(r, xdg.PositionerErrorInvalidInput, "invalid gravity %d", g)
	}
	p.gravity = g
	return nil
}

func (p *positioner) SetConstraintAdjustment(_ *xdg.Positioner, a uint32) error {
	p.constraint = a
	return nil
}

func (p *positioner) SetOffset(_ *xdg.Positioner, x, y int32) error {
	p.offset = image.Pt(int(x), int(y))
	return nil
}

func (p *positioner) SetReactive(*xdg.Positioner) error                 { p.reactive = true; return nil }
func (p *positioner) SetParentSize(*xdg.Positioner, int32, int32) error { return nil }
func (p *positioner) SetParentConfigure(*xdg.Positioner, uint32) error  { return nil }

// place computes the popup rectangle relative to the parent's window
// geometry, then keeps it inside bounds (also parent-relative) by
// flipping or sliding as the client allowed.
func (ps positionerState) place(bounds image.Rectangle) image.Rectangle {
	r := ps.placeWith(ps.anchor, ps.gravity)
	if r.In(bounds) {
		return r
	}
	flip := func(v uint32, swaps [9]uint32) uint32 { return swaps[v] }
	// Anchor/gravity values: none top bottom left right tl bl tr br.
	flipX := [9]uint32{0, 1, 2, 4, 3, 7, 8, 5, 6}
	flipY := [9]uint32{0, 2, 1, 3, 4, 6, 5, 8, 7}
	if ps.constraint&xdg.PositionerConstraintAdjustmentFlipX != 0 && (r.Min.X < bounds.Min.X || r.Max.X > bounds.Max.X) {
		if f := ps.placeWith(flip(ps.anchor, flipX), flip(ps.gravity, flipX)); f.Min.X >= bounds.Min.X && f.Max.X <= bounds.Max.X {
			r.Min.X, r.Max.X = f.Min.X, f.Max.X
		}
	}
	if ps.constraint&xdg.PositionerConstraintAdjustmentFlipY != 0 && (r.Min.Y < bounds.Min.Y || r.Max.Y > bounds.Max.Y) {
		if f := ps.placeWith(flip(ps.anchor, flipY), flip(ps.gravity, flipY)); f.Min.Y >= bounds.Min.Y && f.Max.Y <= bounds.Max.Y {
			r.Min.Y, r.Max.Y = f.Min.Y, f.Max.Y
		}
	}
	if ps.constraint&xdg.PositionerConstraintAdjustmentSlideX != 0 {
		if r.Max.X > bounds.Max.X {
			r = r.Add(image.Pt(bounds.Max.X-r.Max.X, 0))
		}
		if r.Min.X < bounds.Min.X {
			r = r.Add(image.Pt(bounds.Min.X-r.Min.X, 0))
		}
	}
	if ps.constraint&xdg.PositionerConstraintAdjustmentSlideY != 0 {
		if r.Max.Y > bounds.Max.Y {
			r = r.Add(image.Pt(0, bounds.Max.Y-r.Max.Y))
		}
		if r.Min.Y < bounds.Min.Y {
			r = r.Add(image.Pt(0, bounds.Min.Y-r.Min.Y))
		}
	}
	return r
}

func (ps positionerState) placeWith(anchor, gravity uint32) image.Rectangle {
	a := ps.anchorRect
	p := image.Pt((a.Min.X+a.Max.X)/2, (a.Min.Y+a.Max.Y)/2)
	switch anchor {
	case xdg.PositionerAnchorTop, xdg.PositionerAnchorTopLeft, xdg.PositionerAnchorTopRight:
		p.Y = a.Min.Y
	case xdg.PositionerAnchorBottom, xdg.PositionerAnchorBottomLeft, xdg.PositionerAnchorBottomRight:
		p.Y = a.Max.Y
	}
	switch anchor {
	case xdg.PositionerAnchorLeft, xdg.PositionerAnchorTopLeft, xdg.PositionerAnchorBottomLeft:
		p.X = a.Min.X
	case xdg.PositionerAnchorRight, xdg.PositionerAnchorTopRight, xdg.PositionerAnchorBottomRight:
		p.X = a.Max.X
	}
	p = p.Add(ps.offset)
	w, h := ps.size.X, ps.size.Y
	r := image.Rect(p.X-w/2, p.Y-h/2, p.X-w/2+w, p.Y-h/2+h)
	switch gravity {
	case xdg.PositionerGravityTop, xdg.PositionerGravityTopLeft, xdg.PositionerGravityTopRight:
		r.Min.Y, r.Max.Y = p.Y-h, p.Y
	case xdg.PositionerGravityBottom, xdg.PositionerGravityBottomLeft, xdg.PositionerGravityBottomRight:
		r.Min.Y, r.Max.Y = p.Y, p.Y+h
	}
	switch gravity {
	case xdg.PositionerGravityLeft, xdg.PositionerGravityTopLeft, xdg.PositionerGravityBottomLeft:
		r.Min.X, r.Max.X = p.X-w, p.X
	case xdg.PositionerGravityRight, xdg.PositionerGravityTopRight, xdg.PositionerGravityBottomRight:
		r.Min.X, r.Max.X = p.X, p.X+w
	}
	return r
}

// --- xdg_surface ---

type xdgSurface struct {
	c       *Compositor
	res     *xdg.Surface
	surface *surface
	wm      *wmBase

	toplevel *toplevel
	popup    *popup

	// configure serials sent and not yet acknowledged, oldest first.
	sent       []uint32
	acked      bool
	lastAck    uint32
	configured bool // the first configure was sent
	mapped     bool

	geometry, pendingGeometry image.Rectangle
	geometrySet               bool
}

func (xs *xdgSurface) destroyed() {
	if xs.toplevel != nil && xs.toplevel.res.Alive() || xs.popup != nil && xs.popup.res.Alive() {
		// The role object must go first; libwayland clients always do
		// this, so only a broken client gets here and it is gone anyway.
		xs.c.log.Debug("xdg_surface destroyed before its role object")
	}
	xs.unmap()
	if xs.surface.role == surfaceRole(xs) {
		xs.surface.role = nil
	}
}

func (xs *xdgSurface) Destroy(*xdg.Surface) error { return nil }

func (xs *xdgSurface) GetToplevel(r *xdg.Surface, res *xdg.Toplevel) error {
	if xs.toplevel != nil || xs.popup != nil {
		return protocol.NewError(r, xdg.SurfaceErrorAlreadyConstructed, "already has a role object")
	}
	t := &toplevel{xs: xs, res: res}
	xs.toplevel = t
	res.Handler = t
	res.OnDestroy(func() {
		xs.unmap()
		t.destroyed()
		xs.toplevel = nil
	})
	return nil
}

func (xs *xdgSurface) GetPopup(r *xdg.Surface, res *xdg.Popup, parent *xdg.Surface, pos *xdg.Positioner) error {
	if xs.toplevel != nil || xs.popup != nil {
		return protocol.NewError(r, xdg.SurfaceErrorAlreadyConstructed, "already has a role object")
	}
	ps := pos.Handler.(*positioner)
	if ps.size.X <= 0 || !ps.anchorSet {
		return protocol.NewError(xs.wm.res, xdg.WmBaseErrorInvalidPositioner, "positioner for a popup needs a size and an anchor rectangle")
	}
	p := &popup{xs: xs, res: res, state: ps.positionerState}
	if parent != nil {
		pxs, _ := parent.Handler.(*xdgSurface)
		if pxs == nil {
			return protocol.NewError(xs.wm.res, xdg.WmBaseErrorInvalidPopupParent, "popup parent is not an xdg_surface")
		}
		p.parent = pxs
	}
	xs.popup = p
	res.Handler = p
	res.OnDestroy(func() {
		xs.unmap()
		xs.popup = nil
	})
	return nil
}

func (xs *xdgSurface) SetWindowGeometry(r *xdg.Surface, x, y, w, h int32) error {
	if w <= 0 || h <= 0 {
		return protocol.NewError(r, xdg.SurfaceErrorInvalidSize, "window geometry %dx%d must be positive", w, h)
	}
	xs.pendingGeometry, xs.geometrySet = clampRect(x, y, w, h), true
	return nil
}

func (xs *xdgSurface) AckConfigure(r *xdg.Surface, serial uint32) error {
	i := slices.Index(xs.sent, serial)
	if i < 0 {
		return protocol.NewError(r, xdg.SurfaceErrorInvalidSerial, "ack of unknown configure serial %d", serial)
	}
	xs.sent = xs.sent[i+1:]
	xs.acked = true
	xs.lastAck = serial
	return nil
}

func (xs *xdgSurface) precommit(s *surface) error {
	if xs.toplevel == nil && xs.popup == nil {
		return protocol.NewError(xs.res, xdg.SurfaceErrorNotConstructed, "commit before get_toplevel or get_popup")
	}
	if s.pending.attached && s.pending.buffer != nil && !xs.acked {
		return protocol.NewError(xs.res, xdg.SurfaceErrorUnconfiguredBuffer, "buffer committed before the first configure was acknowledged")
	}
	if xs.toplevel != nil {
		return xs.toplevel.checkSizeHints()
	}
	return nil
}

func (xs *xdgSurface) committed(s *surface) {
	if xs.geometrySet {
		xs.geometry = xs.pendingGeometry
	}
	if !xs.configured {
		// The initial commit: answer with the first configure.
		xs.configured = true
		xs.sendConfigure()
		return
	}
	switch {
	case s.mapped() && !xs.mapped:
		xs.mapped = true
		xs.c.surfaceMapped(xs)
	case !s.mapped() && xs.mapped:
		xs.unmap()
		// A null buffer resets the surface to its unconfigured state.
		xs.configured, xs.acked = xs.res == nil, xs.res == nil
	case xs.mapped:
		xs.c.relayout()
	}
}

// windowGeometry is the geometry the client set, or the surface bounds.
func (xs *xdgSurface) windowGeometry() image.Rectangle {
	if xs.geometrySet && !xs.geometry.Empty() {
		return xs.geometry.Intersect(xs.surface.sizeRect().Union(xs.geometry))
	}
	return xs.surface.sizeRect()
}

func (xs *xdgSurface) sendConfigure() {
	if xs.res == nil {
		// An X11 window: no serials, the X window manager is told.
		xs.toplevel.sendConfigure()
		return
	}
	switch {
	case xs.toplevel != nil:
		xs.toplevel.sendConfigure()
	case xs.popup != nil:
		xs.popup.sendConfigure()
	}
	serial := xs.c.srv.NextSerial()
	xs.sent = append(xs.sent, serial)
	if len(xs.sent) > 64 {
		// A client that never acks cannot make the list grow forever.
		xs.sent = xs.sent[len(xs.sent)-64:]
	}
	xs.res.SendConfigure(serial)
}

func (xs *xdgSurface) unmap() {
	if !xs.mapped {
		return
	}
	// Damage while the surface still has a place on screen: once
	// unmapped it has none, and what it covered must be repainted.
	xs.c.damageSurfaceArea(xs.surface)
	xs.mapped = false
	xs.c.surfaceUnmapped(xs)
}

// --- xdg_toplevel ---

type toplevel struct {
	xs    *xdgSurface
	res   *xdg.Toplevel
	out   *output
	pos   image.Point // surface origin, global coordinates
	title string
	appID string
	// parent is set_parent's toplevel: a dialog is shown above it at
	// its own size instead of filling the output.
	parent *toplevel
	// requested output for fullscreen (nil: any).
	wantOutput *output
	activated  bool
	// min/max size hints, pending and applied on commit. The kiosk
	// layout does not let them shrink a filling toplevel; they are kept
	// to hold the client to the protocol's rules.
	pendingMin, pendingMax image.Point
	// configured size and states last sent.
	sentSize   image.Point
	sentActive bool
	capsSent   bool
	// x11 is set for an X11 window, which has no xdg objects (res is
	// nil): configures go to the X window manager instead.
	x11 *XWindow

	// The desktop layout's state (desktop.go): where the window
	// geometry's origin is (global), the size it was last dragged to
	// or had before it was maximized (0: its own choice), and its
	// states.
	placed                           bool
	geomPos                          image.Point
	floatSize                        image.Point
	maximized, fullscreen, minimized bool
	// placeAt is the configure that first lets a window that was never
	// floating pick its size: it is placed once the client answered it
	// (0: no such wait).
	placeAt uint32
	// anchor holds an edge still during and just after a resize.
	anchor *resizeAnchor
	// closeAsked is when Super+Q sent close (0: never).
	closeAsked time.Duration
}

func (t *toplevel) Destroy(*xdg.Toplevel) error { return nil }

// destroyed hands t's dialogs to t's own parent, as xdg-shell says for
// an unmapped parent, so none keeps a pointer to a dead toplevel.
func (t *toplevel) destroyed() {
	c := t.xs.c
	for _, wm := range c.client(t.xs.surface.res.Client()).wmBases {
		for _, xs := range wm.surfaces {
			if child := xs.toplevel; child != nil && child.parent == t {
				child.setParent(t.parent)
			}
		}
	}
	for _, child := range c.x11All {
		if child.parent == t {
			child.setParent(t.parent)
		}
	}
}

func (t *toplevel) SetParent(r *xdg.Toplevel, pr *xdg.Toplevel) error {
	var p *toplevel
	if pr != nil {
		p, _ = pr.Handler.(*toplevel)
		if p == nil {
			return protocol.NewError(r, xdg.ToplevelErrorInvalidParent, "parent xdg_toplevel#%d is not a live toplevel", pr.ID())
		}
	}
	for a := p; a != nil; a = a.parent {
		if a == t {
			return protocol.NewError(r, xdg.ToplevelErrorInvalidParent, "xdg_toplevel#%d cannot be its own ancestor", r.ID())
		}
	}
	t.setParent(p)
	return nil
}

// setParent makes t a dialog of p (nil: a filling toplevel) and lays it
// out again: the size it is told and where it goes both change.
func (t *toplevel) setParent(p *toplevel) {
	if t.parent == p {
		return
	}
	c := t.xs.c
	t.parent = p
	if t.xs.mapped {
		c.restack()
		c.relayout()
	}
	t.reconfigure()
	c.refreshFeedback(t.xs.surface)
}

// shownParent is the toplevel t is shown above: its parent or, when that
// is unmapped, the nearest mapped ancestor (nil: t fills its output).
func (t *toplevel) shownParent() *toplevel {
	for p := t.parent; p != nil; p = p.parent {
		if p.xs.mapped {
			return p
		}
	}
	return nil
}

// fills reports whether t covers its output in the kiosk layout: every
// toplevel but a dialog does, whatever it asked for.
func (t *toplevel) fills() bool {
	return t.shownParent() == nil && (t.x11 == nil || !t.x11.override && !t.x11.floating)
}

func (t *toplevel) SetTitle(_ *xdg.Toplevel, title string) error {
	t.title = title
	return nil
}

func (t *toplevel) SetAppId(_ *xdg.Toplevel, id string) error {
	changed := t.appID != id
	t.appID = id
	if changed && t.xs.mapped {
		// --app-output may send it elsewhere.
		t.xs.surface.c.relayout()
	}
	return nil
}

func (t *toplevel) ShowWindowMenu(*xdg.Toplevel, *wl.Seat, uint32, int32, int32) error { return nil }

// Move and Resize start an interactive grab in the desktop layout, if
// the pointer is pressed on the window; a kiosk window stays put.
func (t *toplevel) Move(*xdg.Toplevel, *wl.Seat, uint32) error {
	if c := t.xs.c; c.desktop() {
		c.requestGrab(t, false, 0)
	}
	return nil
}

func (t *toplevel) Resize(r *xdg.Toplevel, _ *wl.Seat, _ uint32, edges uint32) error {
	switch edges {
	case xdg.ToplevelResizeEdgeNone, xdg.ToplevelResizeEdgeTop, xdg.ToplevelResizeEdgeBottom,
		xdg.ToplevelResizeEdgeLeft, xdg.ToplevelResizeEdgeTopLeft, xdg.ToplevelResizeEdgeBottomLeft,
		xdg.ToplevelResizeEdgeRight, xdg.ToplevelResizeEdgeTopRight, xdg.ToplevelResizeEdgeBottomRight:
	default:
		return protocol.NewError(r, xdg.ToplevelErrorInvalidResizeEdge, "resize edge %d is not an xdg_toplevel.resize_edge", edges)
	}
	if c := t.xs.c; c.desktop() && edges != xdg.ToplevelResizeEdgeNone {
		c.requestGrab(t, true, edges)
	}
	return nil
}

func (t *toplevel) SetMaxSize(r *xdg.Toplevel, w, h int32) error {
	if w < 0 || h < 0 {
		return protocol.NewError(r, xdg.ToplevelErrorInvalidSize, "max size %dx%d is negative", w, h)
	}
	t.pendingMax = image.Pt(int(w), int(h))
	return nil
}

func (t *toplevel) SetMinSize(r *xdg.Toplevel, w, h int32) error {
	if w < 0 || h < 0 {
		return protocol.NewError(r, xdg.ToplevelErrorInvalidSize, "min size %dx%d is negative", w, h)
	}
	t.pendingMin = image.Pt(int(w), int(h))
	return nil
}

// checkSizeHints enforces xdg-shell's rule on the hints about to be
// committed: a maximum (0: none) below the minimum is an error.
func (t *toplevel) checkSizeHints() error {
	mn, mx := t.pendingMin, t.pendingMax
	if mx.X > 0 && mn.X > mx.X || mx.Y > 0 && mn.Y > mx.Y {
		return protocol.NewError(t.res, xdg.ToplevelErrorInvalidSize, "min size %dx%d is larger than max size %dx%d", mn.X, mn.Y, mx.X, mx.Y)
	}
	return nil
}

// In the kiosk layout a toplevel fills its output whatever it asks:
// toolkits such as GTK 4 send unset_fullscreen and unset_maximized while
// they map, and a kiosk app must not end up as a small window on black.
// Each request still gets the configure the protocol promises, which
// repeats the fullscreen state and the output's size.
// The desktop layout does what they ask (desktop.go).
func (t *toplevel) SetMaximized(*xdg.Toplevel) error {
	if c := t.xs.c; c.desktop() {
		c.maximize(t, true)
		return nil
	}
	t.reconfigure()
	return nil
}

func (t *toplevel) UnsetMaximized(*xdg.Toplevel) error {
	if c := t.xs.c; c.desktop() {
		c.maximize(t, false)
		return nil
	}
	t.reconfigure()
	return nil
}

func (t *toplevel) SetFullscreen(_ *xdg.Toplevel, o *wl.Output) error {
	c := t.xs.c
	if c.desktop() {
		c.fullscreen(t, true, c.outputFor(o))
		return nil
	}
	t.wantOutput = c.outputFor(o)
	c.relayout()
	t.reconfigure()
	c.refreshFeedback(t.xs.surface)
	return nil
}

func (t *toplevel) UnsetFullscreen(*xdg.Toplevel) error {
	if c := t.xs.c; c.desktop() {
		c.fullscreen(t, false, nil)
		return nil
	}
	t.reconfigure()
	return nil
}

func (t *toplevel) SetMinimized(*xdg.Toplevel) error {
	if c := t.xs.c; c.desktop() {
		c.minimize(t)
	}
	return nil
}

func (t *toplevel) reconfigure() {
	if t.xs.configured {
		t.xs.sendConfigure()
	}
}

// wmCapabilities is what a kiosk toplevel can be put into: fullscreen
// only. Advertising no maximize, minimize or window menu lets toolkits
// hide buttons that would do nothing here.
var wmCapabilities = []byte{xdg.ToplevelWmCapabilitiesFullscreen, 0, 0, 0}

func (t *toplevel) sendConfigure() {
	c := t.xs.c
	if t.x11 != nil {
		c.x11Sync(t)
		return
	}
	o := c.outputForToplevel(t)
	if !t.capsSent && t.res.Version() >= 5 {
		// Sent once, before the first configure, as xdg-shell asks.
		t.capsSent = true
		if c.desktop() {
			t.res.SendWmCapabilities(desktopCapabilities)
		} else {
			t.res.SendWmCapabilities(wmCapabilities)
		}
	}
	size := image.Point{}
	var states []uint32
	if c.desktop() {
		var bounds image.Point
		size, states, bounds = c.desktopConfigure(t)
		if bounds != (image.Point{}) && t.res.Version() >= 4 {
			t.res.SendConfigureBounds(int32(bounds.X), int32(bounds.Y))
		}
	} else if o != nil && t.fills() {
		// Exactly the output: a filling toplevel is told it is
		// fullscreen, which every xdg_toplevel version knows, so no
		// client needs the maximized state instead.
		size = c.configuredSize(t)
		states = append(states, xdg.ToplevelStateFullscreen)
	} else if o != nil && t.res.Version() >= 4 {
		// A dialog picks its own size; this is the most it can show.
		b := o.usableArea()
		t.res.SendConfigureBounds(int32(b.Dx()), int32(b.Dy()))
	}
	if t.activated {
		states = append(states, xdg.ToplevelStateActivated)
	}
	arr := make([]byte, 4*len(states))
	for i, st := range states {
		binary.LittleEndian.PutUint32(arr[4*i:], st)
	}
	t.sentSize, t.sentActive = size, t.activated
	t.res.SendConfigure(int32(size.X), int32(size.Y), arr)
}

// --- xdg_popup ---

type popup struct {
	xs     *xdgSurface
	res    *xdg.Popup
	parent *xdgSurface
	// layer is the layer surface that took the popup as its child
	// (zwlr_layer_surface_v1.get_popup) when parent is nil.
	layer *layerSurface
	state positionerState
	// geometry relative to the parent's window geometry origin.
	rect image.Rectangle
}

func (p *popup) Destroy(*xdg.Popup) error                { return nil }
func (p *popup) Grab(*xdg.Popup, *wl.Seat, uint32) error { return nil }
func (p *popup) Reposition(_ *xdg.Popup, pos *xdg.Positioner, token uint32) error {
	p.state = pos.Handler.(*positioner).positionerState
	p.res.SendRepositioned(token)
	p.xs.sendConfigure()
	return nil
}

// parentOrigin is the global position of the point the popup's
// rectangle is relative to: its xdg parent's window geometry origin, or
// its layer surface's top-left corner.
func (p *popup) parentOrigin() (image.Point, *output, bool) {
	switch {
	case p.parent != nil:
		return p.xs.c.geometryOrigin(p.parent)
	case p.layer != nil && p.layer.shown():
		return p.layer.rect.Min, p.layer.out, true
	}
	return image.Point{}, nil, false
}

func (p *popup) sendConfigure() {
	p.rect = p.place()
	p.res.SendConfigure(int32(p.rect.Min.X), int32(p.rect.Min.Y), int32(p.rect.Dx()), int32(p.rect.Dy()))
}

// place positions the popup within its output, in parent-geometry
// coordinates.
func (p *popup) place() image.Rectangle {
	bounds := image.Rect(-1<<20, -1<<20, 1<<20, 1<<20)
	if origin, o, ok := p.parentOrigin(); ok {
		bounds = o.bounds().Sub(origin)
	}
	return p.state.place(bounds)
}
