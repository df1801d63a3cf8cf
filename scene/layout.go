package scene

import (
	"image"
	"math"
	"slices"

	"github.com/vitrine-wm/vitrine/protocol/wl"
)

// The kiosk layout: every toplevel fills its output whatever it asks
// (centred when the client draws something smaller), except a dialog (a
// toplevel with a parent), which keeps its own size centred above its
// parent; the newest on top and activated, dialogs above their parents,
// popups above their parent.

func surfaceOf(ws *wl.Surface) *surface {
	s, _ := ws.Handler.(*surface)
	return s
}

// outputForToplevel is where t goes: a dialog's parent's output, else
// the output it asked for, else the first one.
func (c *Compositor) outputForToplevel(t *toplevel) *output {
	if p := t.shownParent(); p != nil {
		return c.outputForToplevel(p)
	}
	if t.wantOutput != nil && !t.wantOutput.gone {
		return t.wantOutput
	}
	if name, ok := c.appOutputs[t.appID]; ok {
		for _, o := range c.outputs {
			if o.dev.Name() == name {
				return o
			}
		}
		// Not connected (yet): the first output until it is.
	}
	if len(c.outputs) > 0 {
		return c.outputs[0]
	}
	return nil
}

func (c *Compositor) surfaceMapped(xs *xdgSurface) {
	switch {
	case xs.toplevel != nil && xs.toplevel.x11 != nil && xs.toplevel.x11.override:
		c.x11OverrideMapped(xs.toplevel)
	case xs.toplevel != nil:
		t := xs.toplevel
		if c.desktop() && !t.placed && !t.fullscreen && !t.maximized {
			// Placed against the window on top before t is.
			c.placeNew(t)
		}
		c.toplevels = append(c.toplevels, t)
		c.relayout()
		c.restack()
		for _, wm := range c.client(xs.surface.res.Client()).wmBases {
			wm.ping()
		}
	case xs.popup != nil:
		c.relayout()
	}
	c.damageSurfaceArea(xs.surface)
	c.refreshFeedback(xs.surface)
}

func (c *Compositor) surfaceUnmapped(xs *xdgSurface) {
	if t := xs.toplevel; t != nil {
		if gr := c.in.grab; gr != nil && gr.t == t {
			c.in.grab, t.anchor = nil, nil
		}
		c.toplevels = slices.DeleteFunc(c.toplevels, func(x *toplevel) bool { return x == t })
		c.x11Overlays = slices.DeleteFunc(c.x11Overlays, func(x *toplevel) bool { return x == t })
		c.leaveOutputs(xs.surface)
		c.restack()
		// Its dialogs now stand above its own parent, or fill.
		c.relayout()
	}
	// Popups of an unmapped surface cannot stay.
	for _, pt := range c.popupsOf(xs) {
		if pt.res.Alive() {
			pt.res.SendPopupDone()
		}
		pt.xs.unmap()
	}
}

// restack keeps every dialog above its parent, activates the topmost
// toplevel and deactivates the others; keyboard focus follows.
func (c *Compositor) restack() {
	c.dialogsAboveParents()
	top := c.topToplevel()
	for _, t := range c.toplevels {
		active := t == top
		if active != t.activated {
			t.activated = active
			t.reconfigure()
		}
	}
	c.focusChanged()
}

// dialogsAboveParents moves each dialog that is below its parent (the
// parent mapped again, or set_parent came after both mapped) to just
// above it, keeping the order of everything else.
func (c *Compositor) dialogsAboveParents() {
	// Each move puts a dialog above its parent for good, and parents
	// form no cycles, so this ends within len² moves.
	for moves := 0; moves <= len(c.toplevels)*len(c.toplevels); moves++ {
		moved := false
		for i, t := range c.toplevels {
			p := t.shownParent()
			if p == nil {
				continue
			}
			if j := slices.Index(c.toplevels, p); j > i {
				c.toplevels = slices.Insert(slices.Delete(c.toplevels, i, i+1), j, t)
				// Same place, but now over what covered it.
				c.damageSurfaceArea(t.xs.surface)
				moved = true
				break
			}
		}
		if !moved {
			return
		}
	}
}

// configuredSize is what t is told to be: its output's size when it
// fills it, else 0x0 (a dialog picks its own).
func (c *Compositor) configuredSize(t *toplevel) image.Point {
	if c.desktop() {
		size, _, _ := c.desktopConfigure(t)
		return size
	}
	if o := c.outputForToplevel(t); o != nil && t.fills() {
		return o.usableArea().Size()
	}
	return image.Point{}
}

// placement is where t's surface origin goes in the global layout and on
// which output: a filling toplevel centred on its output, a dialog's
// window centred on its parent's window and kept on the parent's output
// as far as it fits.
func (c *Compositor) placement(t *toplevel) (image.Point, *output) {
	if c.desktop() {
		return c.desktopPlacement(t)
	}
	g := t.xs.windowGeometry()
	p := t.shownParent()
	if p == nil {
		o := c.outputForToplevel(t)
		if o == nil {
			return image.Point{}, nil
		}
		return centre(g.Size(), o.usableArea()).Sub(g.Min), o
	}
	ppos, o := c.placement(p)
	if o == nil {
		return image.Point{}, nil
	}
	pg := p.xs.windowGeometry()
	at := centre(g.Size(), pg.Add(ppos))
	b := o.usableArea()
	// Slide back onto the output, the top-left corner winning when the
	// dialog is larger than it.
	at.X = max(min(at.X, b.Max.X-g.Dx()), b.Min.X)
	at.Y = max(min(at.Y, b.Max.Y-g.Dy()), b.Min.Y)
	return at.Sub(g.Min), o
}

// centre is the top-left corner of a size-sized rectangle centred in r;
// one larger than r starts at r's corner.
func centre(size image.Point, r image.Rectangle) image.Point {
	at := r.Min
	if size.X < r.Dx() {
		at.X += (r.Dx() - size.X) / 2
	}
	if size.Y < r.Dy() {
		at.Y += (r.Dy() - size.Y) / 2
	}
	return at
}

// relayout places every toplevel and damages what moved. Parents come
// before their dialogs in the stack, but placement does not rely on it.
func (c *Compositor) relayout() {
	c.arrangeLayers()
	for _, t := range c.toplevels {
		if t.minimized {
			continue
		}
		pos, o := c.placement(t)
		if o == nil {
			// No output at all: windows keep the size they were given
			// rather than be told to pick one, until an output comes.
			continue
		}
		if t.xs.configured && c.configuredSize(t) != t.sentSize {
			t.reconfigure()
		}
		if pos != t.pos || o != t.out {
			if t.out != nil {
				c.damageSurfaceArea(t.xs.surface)
			}
			if o != t.out {
				c.leaveOutputs(t.xs.surface)
			}
			t.pos, t.out = pos, o
			c.damageSurfaceArea(t.xs.surface)
		}
		c.enterOutput(t.xs.surface, o)
		if t.x11 != nil {
			c.x11Sync(t)
		}
	}
}

func (c *Compositor) enterOutput(s *surface, o *output) {
	if s.entered[o] {
		return
	}
	s.entered[o] = true
	for _, res := range c.client(s.res.Client()).outputs[o] {
		s.res.SendEnter(res)
	}
	if s.fractional != nil {
		c.sendPreferredScale(s.fractional)
	}
}

func (c *Compositor) leaveOutputs(s *surface) {
	for o := range s.entered {
		c.leaveOutput(s, o)
	}
}

// leaveOutput sends wl_surface.leave for o if s is shown there.
func (c *Compositor) leaveOutput(s *surface, o *output) {
	if !s.entered[o] {
		return
	}
	for _, res := range c.client(s.res.Client()).outputs[o] {
		s.res.SendLeave(res)
	}
	delete(s.entered, o)
}

// popupsOf lists the popups whose parent is xs.
func (c *Compositor) popupsOf(xs *xdgSurface) []*popup {
	var out []*popup
	for _, wm := range c.client(xs.surface.res.Client()).wmBases {
		for _, other := range wm.surfaces {
			if other.popup != nil && other.popup.parent == xs && other.mapped {
				out = append(out, other.popup)
			}
		}
	}
	return out
}

// geometryOrigin is the global position of xs's window geometry origin.
func (c *Compositor) geometryOrigin(xs *xdgSurface) (image.Point, *output, bool) {
	origin, o, ok := c.surfaceOrigin(xs.surface)
	if !ok {
		return image.Point{}, nil, false
	}
	return origin.Add(xs.windowGeometry().Min), o, true
}

// surfaceOrigin is the global position of s's top-left corner and the
// output it is shown on; ok is false when it is not shown.
func (c *Compositor) surfaceOrigin(s *surface) (image.Point, *output, bool) {
	for depth := 0; s != nil && depth < 64; depth++ {
		if d := c.sel.drag; d != nil && d.icon == s {
			return c.dragIconOrigin(), c.outputAt(image.Pt(int(math.Floor(c.in.pointer[0])), int(math.Floor(c.in.pointer[1])))), len(c.outputs) > 0
		}
		if s.sub != nil {
			parent := s.sub.parent
			if parent == nil {
				return image.Point{}, nil, false
			}
			p, o, ok := c.surfaceOrigin(parent)
			return p.Add(s.sub.pos), o, ok
		}
		switch r := s.role.(type) {
		case *lockSurface:
			return c.lockOrigin(r)
		case *layerSurface:
			return r.rect.Min, r.out, r.shown()
		case *inputPopup:
			return r.origin()
		}
		xs, _ := s.role.(*xdgSurface)
		if xs == nil || !xs.mapped {
			return image.Point{}, nil, false
		}
		if t := xs.toplevel; t != nil {
			return t.pos, t.out, t.out != nil && !t.minimized
		}
		if p := xs.popup; p != nil {
			origin, o, ok := p.parentOrigin()
			return origin.Add(p.rect.Min).Sub(xs.windowGeometry().Min), o, ok
		}
		return image.Point{}, nil, false
	}
	return image.Point{}, nil, false
}

// damageSurfaceArea damages the whole area s and its subsurfaces cover.
func (c *Compositor) damageSurfaceArea(s *surface) {
	origin, _, ok := c.surfaceOrigin(s)
	if !ok {
		return
	}
	c.damageGlobal(s.sizeRect().Add(origin))
	for _, sub := range slices.Concat(s.below, s.above) {
		c.damageSurfaceArea(sub.surface)
	}
}

// surfaceCommitted turns the surface's new damage into output damage and
// makes sure its frame callbacks get a frame.
func (c *Compositor) surfaceCommitted(s *surface) {
	s.answered()
	origin, o, ok := c.surfaceOrigin(s)
	if !ok || !s.mapped() {
		s.damage = s.damage[:0]
		return
	}
	for _, r := range s.damage {
		c.damageGlobal(r.Add(origin))
	}
	s.damage = s.damage[:0]
	if len(s.frames) > 0 || len(s.feedbacks) > 0 {
		o.wantFrame = true
	}
	if len(c.constraints) > 0 {
		c.constraintsCommitted(s)
	}
}

func (c *Compositor) surfaceGone(s *surface) {
	in := &c.in
	for _, ti := range c.textInputs {
		if ti.focus == s {
			ti.focus = nil
		}
	}
	if ls, ok := s.role.(*layerSurface); ok {
		// Its role object outlives it: off the screen, it gives back
		// the strip it reserved.
		ls.unmap()
	}
	if in.kbFocus == s {
		in.kbFocus = nil
	}
	if in.ptrFocus == s {
		in.ptrFocus = nil
	}
	if in.cursor == s {
		c.damageCursor()
		in.cursor = nil
	}
	c.dragSurfaceGone(s)
	c.constraintsSurfaceGone(s)
	for _, o := range c.outputs {
		// Drop callbacks of a destroyed surface queued on a frame.
		o.doneFrames = slices.DeleteFunc(o.doneFrames, func(cb *wl.Callback) bool { return !cb.Alive() })
	}
}

// drawList is what output o shows, bottom to top, without what is
// hidden under a fullscreen opaque surface.
func (c *Compositor) drawList(o *output) []drawItem {
	return c.appendDrawList(nil, o)
}

// appendDrawList is drawList into a caller's buffer.
func (c *Compositor) appendDrawList(list []drawItem, o *output) []drawItem {
	if c.lock.active {
		return c.appendLockList(list, o)
	}
	list = c.appendLayer(list, o, layerBackground)
	list = c.appendLayer(list, o, layerBottom)
	for _, t := range c.toplevels {
		if t.out != o || !t.xs.mapped || t.minimized {
			continue
		}
		list = c.appendTree(list, t.xs.surface, t.pos.Sub(o.pos))
		list = c.appendPopups(list, t.xs, o)
	}
	// X11 menus and tooltips above the windows, below the top and
	// overlay layers (panels, on-screen keyboards, lock screens).
	for _, t := range c.x11Overlays {
		if t.out == o && t.xs.mapped {
			list = c.appendTree(list, t.xs.surface, t.pos.Sub(o.pos))
		}
	}
	list = c.appendLayer(list, o, layerTop)
	list = c.appendLayer(list, o, layerOverlay)
	list = c.appendInputPopups(list, o)
	full := image.Rect(0, 0, o.width, o.height)
	for i := len(list) - 1; i > 0; i-- {
		it := list[i]
		if it.s.fullyOpaque() && full.In(it.s.sizeRect().Add(it.pos)) {
			return list[i:]
		}
	}
	return list
}

func (c *Compositor) appendPopups(list []drawItem, parent *xdgSurface, o *output) []drawItem {
	for _, p := range c.popupsOf(parent) {
		origin, po, ok := c.surfaceOrigin(p.xs.surface)
		if !ok || po != o {
			continue
		}
		list = c.appendTree(list, p.xs.surface, origin.Sub(o.pos))
		list = c.appendPopups(list, p.xs, o)
	}
	return list
}

// appendTree adds s and its mapped subsurfaces in stacking order.
func (c *Compositor) appendTree(list []drawItem, s *surface, pos image.Point) []drawItem {
	if !s.mapped() {
		return list
	}
	for _, sub := range s.below {
		list = c.appendTree(list, sub.surface, pos.Add(sub.pos))
	}
	list = append(list, drawItem{s, pos})
	for _, sub := range s.above {
		list = c.appendTree(list, sub.surface, pos.Add(sub.pos))
	}
	return list
}
