package scene

import (
	"image"
	"slices"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/layershell"
	"github.com/vitrine-wm/vitrine/protocol/wl"
	"github.com/vitrine-wm/vitrine/protocol/xdg"
)

// wlr-layer-shell: panels, on-screen keyboards, wallpapers, lock
// screens and notifications. A layer surface is placed by its anchors
// and margins on one output, drawn in its layer (background and bottom
// below the windows, top and overlay above them), and one with an
// exclusive zone takes that strip away from the area windows are laid
// out in (output.usable): a keyboard at the bottom makes the kiosk
// window shorter instead of covering its lower part.

const layerShellVersion = 4

// Layers, bottom to top; toplevels are drawn between layerBottom and
// layerTop.
const (
	layerBackground = layershell.LayerShellV1LayerBackground
	layerBottom     = layershell.LayerShellV1LayerBottom
	layerTop        = layershell.LayerShellV1LayerTop
	layerOverlay    = layershell.LayerShellV1LayerOverlay
)

const (
	anchorTop    = layershell.LayerSurfaceV1AnchorTop
	anchorBottom = layershell.LayerSurfaceV1AnchorBottom
	anchorLeft   = layershell.LayerSurfaceV1AnchorLeft
	anchorRight  = layershell.LayerSurfaceV1AnchorRight
	anchorAll    = anchorTop | anchorBottom | anchorLeft | anchorRight
)

// layerState is the double-buffered part of a layer surface.
type layerState struct {
	layer                  uint32
	size                   image.Point
	anchor                 uint32
	zone                   int32
	margin                 [4]int32 // top, right, bottom, left
	keyboard               uint32
	layerSet, sizeSet      bool
	anchorSet, zoneSet     bool
	marginSet, keyboardSet bool
}

type layerSurface struct {
	c       *Compositor
	res     *layershell.LayerSurfaceV1
	surface *surface
	// wantOutput is the output the client named (nil: vitrine picks).
	wantOutput *output
	namespace  string

	pending, current layerState

	out *output
	// rect is where the surface goes, global coordinates.
	rect image.Rectangle
	// sent are configure serials not yet acknowledged, oldest first.
	sent       []uint32
	sentSize   image.Point
	acked      bool
	configured bool
	// needConfigure: the initial commit waits for its configure even
	// if the size is the one sent before the surface was unmapped.
	needConfigure bool
	mapped        bool
	closed        bool
	zoneRefused   bool // logged once
}

func (c *Compositor) bindLayerShell(pc *protocol.Client, version, id uint32) error {
	res, err := layershell.NewLayerShellV1(pc, id, version)
	if err == nil {
		res.Handler = layerShell{c}
	}
	return err
}

type layerShell struct{ c *Compositor }

func (layerShell) Destroy(*layershell.LayerShellV1) error { return nil }

func (h layerShell) GetLayerSurface(r *layershell.LayerShellV1, res *layershell.LayerSurfaceV1, ws *wl.Surface, wo *wl.Output, layer uint32, namespace string) error {
	s := surfaceOf(ws)
	if s.roleName != "" {
		return protocol.NewError(r, layershell.LayerShellV1ErrorRole, "wl_surface#%d already has role %s", ws.ID(), s.roleName)
	}
	if s.buf != nil || s.pending.buffer != nil {
		return protocol.NewError(r, layershell.LayerShellV1ErrorAlreadyConstructed, "wl_surface#%d already has a buffer", ws.ID())
	}
	if layer > layerOverlay {
		return protocol.NewError(r, layershell.LayerShellV1ErrorInvalidLayer, "invalid layer %d", layer)
	}
	ls := &layerSurface{c: h.c, res: res, surface: s, namespace: namespace}
	ls.current.layer, ls.pending.layer = layer, layer
	if wo != nil {
		ls.wantOutput = h.c.outputFor(wo)
		if ls.wantOutput == nil {
			// The client's wl_output is of an unplugged display: the
			// surface has nowhere to be shown.
			ls.closed = true
			res.SendClosed()
		}
	}
	s.roleName, s.role = "zwlr_layer_surface_v1", ls
	res.Handler = ls
	h.c.layers = append(h.c.layers, ls)
	res.OnDestroy(func() {
		ls.unmap()
		h.c.layers = slices.DeleteFunc(h.c.layers, func(x *layerSurface) bool { return x == ls })
		if s.role == surfaceRole(ls) {
			s.role = nil
		}
		for _, p := range h.c.popupsOfLayer(ls) {
			p.layer = nil
		}
	})
	return nil
}

// --- zwlr_layer_surface_v1 requests ---

func (ls *layerSurface) SetSize(r *layershell.LayerSurfaceV1, w, h uint32) error {
	if w > 1<<15 || h > 1<<15 {
		return protocol.NewError(r, layershell.LayerSurfaceV1ErrorInvalidSize, "size %dx%d is larger than any output", w, h)
	}
	ls.pending.size, ls.pending.sizeSet = image.Pt(int(w), int(h)), true
	return nil
}

func (ls *layerSurface) SetAnchor(r *layershell.LayerSurfaceV1, a uint32) error {
	if a&^anchorAll != 0 {
		return protocol.NewError(r, layershell.LayerSurfaceV1ErrorInvalidAnchor, "invalid anchor %#x", a)
	}
	ls.pending.anchor, ls.pending.anchorSet = a, true
	return nil
}

func (ls *layerSurface) SetExclusiveZone(_ *layershell.LayerSurfaceV1, zone int32) error {
	// Beyond any output's size a zone means the whole edge; clamping
	// keeps the arithmetic with margins far from overflow.
	ls.pending.zone, ls.pending.zoneSet = max(min(zone, 1<<15), -1), true
	return nil
}

func (ls *layerSurface) SetMargin(_ *layershell.LayerSurfaceV1, top, right, bottom, left int32) error {
	c := func(v int32) int32 { return max(min(v, 1<<15), -(1 << 15)) }
	ls.pending.margin, ls.pending.marginSet = [4]int32{c(top), c(right), c(bottom), c(left)}, true
	return nil
}

func (ls *layerSurface) SetKeyboardInteractivity(r *layershell.LayerSurfaceV1, k uint32) error {
	limit := uint32(layershell.LayerSurfaceV1KeyboardInteractivityOnDemand)
	if r.Version() < 4 {
		limit = layershell.LayerSurfaceV1KeyboardInteractivityExclusive
	}
	if k > limit {
		return protocol.NewError(r, layershell.LayerSurfaceV1ErrorInvalidKeyboardInteractivity, "invalid keyboard interactivity %d", k)
	}
	ls.pending.keyboard, ls.pending.keyboardSet = k, true
	return nil
}

func (ls *layerSurface) SetLayer(r *layershell.LayerSurfaceV1, layer uint32) error {
	if layer > layerOverlay {
		// The layer shell's own error: the layer surface has none for it.
		return protocol.NewError(r, layershell.LayerShellV1ErrorInvalidLayer, "invalid layer %d", layer)
	}
	ls.pending.layer, ls.pending.layerSet = layer, true
	return nil
}

func (ls *layerSurface) GetPopup(r *layershell.LayerSurfaceV1, xp *xdg.Popup) error {
	p, _ := xp.Handler.(*popup)
	if p == nil {
		return protocol.NewError(r, protocol.ErrInvalidObject, "xdg_popup#%d is gone", xp.ID())
	}
	if p.parent != nil || p.layer != nil || p.xs.configured {
		return protocol.NewError(r, layershell.LayerSurfaceV1ErrorInvalidSurfaceState, "xdg_popup#%d already has a parent or was committed", xp.ID())
	}
	p.layer = ls
	return nil
}

func (ls *layerSurface) AckConfigure(r *layershell.LayerSurfaceV1, serial uint32) error {
	i := slices.Index(ls.sent, serial)
	if i < 0 {
		return protocol.NewError(r, layershell.LayerSurfaceV1ErrorInvalidSurfaceState, "ack of unknown configure serial %d", serial)
	}
	ls.sent = ls.sent[i+1:]
	ls.acked = true
	return nil
}

func (ls *layerSurface) Destroy(*layershell.LayerSurfaceV1) error { return nil }

// --- role ---

func (ls *layerSurface) precommit(s *surface) error {
	p := ls.pending
	st := ls.current
	if p.sizeSet {
		st.size = p.size
	}
	if p.anchorSet {
		st.anchor = p.anchor
	}
	if st.size.X == 0 && st.anchor&(anchorLeft|anchorRight) != anchorLeft|anchorRight {
		return protocol.NewError(ls.res, layershell.LayerSurfaceV1ErrorInvalidSize, "width 0 needs the surface anchored to the left and right edges")
	}
	if st.size.Y == 0 && st.anchor&(anchorTop|anchorBottom) != anchorTop|anchorBottom {
		return protocol.NewError(ls.res, layershell.LayerSurfaceV1ErrorInvalidSize, "height 0 needs the surface anchored to the top and bottom edges")
	}
	if s.pending.attached && s.pending.buffer != nil && !ls.acked && !ls.closed {
		return protocol.NewError(ls.res, layershell.LayerSurfaceV1ErrorInvalidSurfaceState, "buffer committed before the first configure was acknowledged")
	}
	return nil
}

func (ls *layerSurface) committed(s *surface) {
	p := &ls.pending
	if p.layerSet {
		ls.current.layer = p.layer
	}
	if p.sizeSet {
		ls.current.size = p.size
	}
	if p.anchorSet {
		ls.current.anchor = p.anchor
	}
	if p.zoneSet {
		ls.current.zone = p.zone
	}
	if p.marginSet {
		ls.current.margin = p.margin
	}
	if p.keyboardSet {
		ls.current.keyboard = p.keyboard
	}
	*p = layerState{}
	if ls.closed {
		return
	}
	c := ls.c
	switch {
	case !ls.configured:
		// The initial commit: place it and answer with a configure.
		ls.out = ls.wantOutput
		if ls.out == nil {
			ls.out = c.primaryOutput()
		}
		if ls.out == nil {
			ls.close()
			return
		}
		ls.configured, ls.needConfigure = true, true
		// The layout sends the configure, or closes the surface when
		// its margins leave it no room.
		c.relayout()
	case s.mapped() && !ls.mapped:
		ls.mapped = true
		c.relayout()
		c.enterOutput(s, ls.out)
		c.damageSurfaceArea(s)
		c.focusChanged()
	case !s.mapped() && ls.mapped:
		ls.unmap()
		// A null buffer returns it to its state after get_layer_surface.
		ls.configured, ls.acked = false, false
	default:
		c.relayout()
	}
}

func (ls *layerSurface) sendConfigure() {
	serial := ls.c.srv.NextSerial()
	ls.sent = append(ls.sent, serial)
	if len(ls.sent) > 64 {
		ls.sent = ls.sent[len(ls.sent)-64:]
	}
	ls.sentSize, ls.needConfigure = ls.rect.Size(), false
	ls.res.SendConfigure(serial, uint32(ls.rect.Dx()), uint32(ls.rect.Dy()))
}

// unmap takes the surface off the screen; the area it reserved goes
// back to the windows.
func (ls *layerSurface) unmap() {
	if !ls.mapped {
		return
	}
	c := ls.c
	c.damageSurfaceArea(ls.surface)
	ls.mapped = false
	c.leaveOutputs(ls.surface)
	for _, p := range c.popupsOfLayer(ls) {
		if p.res.Alive() {
			p.res.SendPopupDone()
		}
		p.xs.unmap()
	}
	if c.in.layerFocus == ls {
		c.in.layerFocus = nil
	}
	if !c.arranging {
		// During arrangement the strip it reserved is simply not
		// taken: the arrangement in progress goes on without it.
		c.relayout()
	}
	c.focusChanged()
}

// close tells the client the surface will not be shown (its output is
// gone, or its margins leave it no room).
func (ls *layerSurface) close() {
	if ls.closed {
		return
	}
	ls.unmap()
	ls.closed, ls.configured = true, false
	ls.out = nil
	ls.res.SendClosed()
}

// shown reports whether the surface is on screen.
func (ls *layerSurface) shown() bool {
	return ls.mapped && !ls.closed && ls.out != nil && ls.surface.mapped()
}

// --- arrangement ---

// usableArea is where windows go on o: the output less the exclusive
// zones of its layer surfaces. Every layout (kiosk, desktop) lays
// windows out in it.
func (o *output) usableArea() image.Rectangle {
	if o.usable.Empty() {
		return o.bounds()
	}
	return o.usable
}

// arrangeLayers places every layer surface and recomputes each output's
// usable area, as wlroots compositors do: surfaces with an exclusive
// zone first, from the top layer down, each taking its strip from what
// is left; then the others inside the remaining area (or the whole
// output, for a zone of -1). It allocates nothing.
func (c *Compositor) arrangeLayers() {
	c.arranging = true
	defer func() { c.arranging = false }()
	for _, o := range c.outputs {
		usable := o.bounds()
		for _, exclusive := range [2]bool{true, false} {
			for layer := int(layerOverlay); layer >= int(layerBackground); layer-- {
				for _, ls := range c.layers {
					if ls.out != o || !ls.configured || ls.closed || ls.current.layer != uint32(layer) || (ls.current.zone > 0) != exclusive {
						continue
					}
					bounds := usable
					if ls.current.zone < 0 {
						bounds = o.bounds()
					}
					ls.place(bounds, &usable)
				}
			}
		}
		o.usable = usable
	}
}

// closeLayersOn closes the layer surfaces shown on an output that goes
// away: layer-shell says they are not moved, the client makes new ones.
func (c *Compositor) closeLayersOn(o *output) {
	for _, ls := range c.layers {
		if ls.out == o || ls.wantOutput == o {
			ls.close()
		}
	}
}

// place puts ls inside bounds and, when it is mapped with an exclusive
// zone on one edge, takes that strip out of usable.
func (ls *layerSurface) place(bounds image.Rectangle, usable *image.Rectangle) {
	st := ls.current
	a := st.anchor
	m := st.margin
	size := st.size
	if a&(anchorLeft|anchorRight) == anchorLeft|anchorRight && size.X == 0 {
		size.X = bounds.Dx() - int(m[3]) - int(m[1])
	}
	if a&(anchorTop|anchorBottom) == anchorTop|anchorBottom && size.Y == 0 {
		size.Y = bounds.Dy() - int(m[0]) - int(m[2])
	}
	if size.X <= 0 || size.Y <= 0 {
		ls.c.log.Info("layer surface closed: its margins leave it no room", "namespace", ls.namespace, "pid", ls.res.Client().PID)
		ls.close()
		return
	}
	var at image.Point
	switch {
	case a&(anchorLeft|anchorRight) == anchorLeft|anchorRight:
		at.X = bounds.Min.X + int(m[3]) + (bounds.Dx()-int(m[3])-int(m[1])-size.X)/2
	case a&anchorLeft != 0:
		at.X = bounds.Min.X + int(m[3])
	case a&anchorRight != 0:
		at.X = bounds.Max.X - int(m[1]) - size.X
	default:
		at.X = bounds.Min.X + (bounds.Dx()-size.X)/2
	}
	switch {
	case a&(anchorTop|anchorBottom) == anchorTop|anchorBottom:
		at.Y = bounds.Min.Y + int(m[0]) + (bounds.Dy()-int(m[0])-int(m[2])-size.Y)/2
	case a&anchorTop != 0:
		at.Y = bounds.Min.Y + int(m[0])
	case a&anchorBottom != 0:
		at.Y = bounds.Max.Y - int(m[2]) - size.Y
	default:
		at.Y = bounds.Min.Y + (bounds.Dy()-size.Y)/2
	}
	rect := image.Rectangle{Min: at, Max: at.Add(size)}
	if rect != ls.rect {
		if ls.shown() {
			ls.c.damageSurfaceArea(ls.surface)
		}
		ls.rect = rect
		if ls.shown() {
			ls.c.damageSurfaceArea(ls.surface)
		}
	}
	if rect.Size() != ls.sentSize || ls.needConfigure {
		ls.sendConfigure()
	}
	if st.zone > 0 && ls.mapped {
		left := *usable
		reserve(&left, a, int(st.zone), m)
		// A zone that would leave the windows less than a quarter of
		// the output in either direction is a client's mistake (or
		// malice): the windows keep their room, the surface still shows.
		if o := ls.out; left.Dx() >= o.width/4 && left.Dy() >= o.height/4 {
			*usable = left
		} else if !ls.zoneRefused {
			ls.zoneRefused = true
			ls.c.log.Warn("layer surface's exclusive zone ignored: it would leave the windows less than a quarter of the output", "namespace", ls.namespace, "zone", st.zone, "pid", ls.res.Client().PID)
		}
	}
}

// reserve takes a zone-wide strip (plus the margin on that edge) off the
// one edge an anchor set names: one edge alone, or one edge and both
// edges perpendicular to it. Corners, parallel pairs and all four
// reserve nothing, as the protocol says.
func reserve(usable *image.Rectangle, a uint32, zone int, m [4]int32) {
	switch a {
	case anchorTop, anchorTop | anchorLeft | anchorRight:
		usable.Min.Y = min(usable.Min.Y+zone+int(m[0]), usable.Max.Y)
	case anchorBottom, anchorBottom | anchorLeft | anchorRight:
		usable.Max.Y = max(usable.Max.Y-zone-int(m[2]), usable.Min.Y)
	case anchorLeft, anchorLeft | anchorTop | anchorBottom:
		usable.Min.X = min(usable.Min.X+zone+int(m[3]), usable.Max.X)
	case anchorRight, anchorRight | anchorTop | anchorBottom:
		usable.Max.X = max(usable.Max.X-zone-int(m[1]), usable.Min.X)
	}
}

// popupsOfLayer lists the mapped popups whose parent is ls.
func (c *Compositor) popupsOfLayer(ls *layerSurface) []*popup {
	var out []*popup
	for _, wm := range c.client(ls.res.Client()).wmBases {
		for _, other := range wm.surfaces {
			if other.popup != nil && other.popup.layer == ls {
				out = append(out, other.popup)
			}
		}
	}
	return out
}

// appendLayer adds the shown layer surfaces of one layer on o, and
// their popups, to a draw list.
func (c *Compositor) appendLayer(list []drawItem, o *output, layer uint32) []drawItem {
	for _, ls := range c.layers {
		if ls.out != o || ls.current.layer != layer || !ls.shown() {
			continue
		}
		list = c.appendTree(list, ls.surface, ls.rect.Min.Sub(o.pos))
		for _, p := range c.popupsOfLayer(ls) {
			if !p.xs.mapped {
				continue
			}
			origin, po, ok := c.surfaceOrigin(p.xs.surface)
			if !ok || po != o {
				continue
			}
			list = c.appendTree(list, p.xs.surface, origin.Sub(o.pos))
			list = c.appendPopups(list, p.xs, o)
		}
	}
	return list
}

// keyboardLayer is the layer surface that takes keyboard focus from the
// windows: the topmost exclusive one in the top or overlay layer, else
// an on-demand one the user touched or clicked.
func (c *Compositor) keyboardLayer() *layerSurface {
	for _, layer := range [2]uint32{layerOverlay, layerTop} {
		for i := len(c.layers) - 1; i >= 0; i-- {
			ls := c.layers[i]
			if ls.current.layer == layer && ls.current.keyboard == layershell.LayerSurfaceV1KeyboardInteractivityExclusive && ls.shown() {
				return ls
			}
		}
	}
	if ls := c.in.layerFocus; ls != nil && ls.shown() && ls.current.keyboard != layershell.LayerSurfaceV1KeyboardInteractivityNone {
		return ls
	}
	return nil
}

// layerOf is the layer surface s belongs to (itself, or the layer
// surface its subsurface tree hangs from), nil if none.
func layerOf(s *surface) *layerSurface {
	for depth := 0; s != nil && depth < 64; depth++ {
		if s.sub != nil {
			s = s.sub.parent
			continue
		}
		ls, _ := s.role.(*layerSurface)
		return ls
	}
	return nil
}

// focusLayerOnInput gives keyboard focus to a layer surface that wants
// it on demand when the user presses on it, and back to the windows
// when the user presses anywhere else.
func (c *Compositor) focusLayerOnInput(s *surface) {
	ls := layerOf(s)
	if ls != nil && ls.current.keyboard == layershell.LayerSurfaceV1KeyboardInteractivityNone {
		// A keyboard that types through the virtual keyboard must not
		// take the focus away from the field it types into.
		return
	}
	if ls != c.in.layerFocus {
		c.in.layerFocus = ls
		c.focusChanged()
	}
}
