package scene

import (
	"image"
	"math"
	"os"
	"slices"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/protocol/eventloop"
	"github.com/vitrine-wm/vitrine/protocol/xdg"
	"github.com/vitrine-wm/vitrine/seat/xkb"
)

// The desktop layout: toplevels float at the size they pick, each new
// one cascaded from the one on top so it never hides it completely;
// a click (or touch) focuses and raises the window under it, and the
// newest window gets focus. Clients move and resize themselves through
// xdg_toplevel.move/resize (their title bars), or the user does with
// Super+drag (left button: move, right button: resize). Maximize,
// fullscreen and minimize do what they say; Alt+Tab raises the bottom
// window (so repeated presses visit every one), Alt+Shift+Tab sends the
// top one to the bottom; Super+Q asks the focused window to close, and
// Super+Shift+Q then kills its client if it ignored that and stopped
// answering pings. It shares the stack, the draw list and the frame path
// with the kiosk layout: only placement, configure and the bindings
// differ.

// cascadeStep is how far a new window is placed from the top one: enough
// to leave a title bar's worth of the one below in sight.
const cascadeStep = 32

// evdev button codes.
const (
	btnLeft  = 0x110
	btnRight = 0x111
)

// grab is an interactive move or resize of a toplevel by the pointer.
type grab struct {
	t *toplevel
	// resize is false for a move; edges are xdg_toplevel.resize_edge
	// bits.
	resize bool
	edges  uint32
	// where the pointer and the window geometry were when it started.
	from     [2]float64
	startPos image.Point
	start    image.Point // window geometry size
}

func (c *Compositor) desktop() bool { return c.layout == LayoutDesktop }

// windowBindings reports whether the desktop's own key and button
// bindings are on.
func (c *Compositor) windowBindings() bool { return c.desktop() && !c.in.cfg.NoWindowBindings }

// topToplevel is the toplevel on top that is not minimized (nil: none).
func (c *Compositor) topToplevel() *toplevel {
	for i := len(c.toplevels) - 1; i >= 0; i-- {
		if t := c.toplevels[i]; !t.minimized {
			return t
		}
	}
	return nil
}

// placeNew chooses where a floating toplevel first goes: a dialog
// centred on its parent, any other window cascaded from the top one on
// the same output and slid back onto it where it would stick out. The
// first window on an output is centred on it.
func (c *Compositor) placeNew(t *toplevel) {
	t.placed = true
	g := t.xs.windowGeometry()
	if p := t.shownParent(); p != nil && p.out != nil {
		pg := p.xs.windowGeometry()
		at := centre(g.Size(), image.Rectangle{p.geomPos, p.geomPos.Add(pg.Size())})
		b := p.out.bounds()
		at.X = max(min(at.X, b.Max.X-g.Dx()), b.Min.X)
		at.Y = max(min(at.Y, b.Max.Y-g.Dy()), b.Min.Y)
		t.geomPos = at
		return
	}
	o := c.outputForToplevel(t)
	top := c.topToplevel()
	if top == t {
		top = nil
	}
	if top != nil && top.out != nil && t.wantOutput == nil {
		o = top.out
	}
	if o == nil {
		return
	}
	// The first window is centred, where the pointer starts and where
	// a kiosk would show it.
	b := o.bounds()
	at := centre(g.Size(), b)
	if top != nil && top.out == o && !top.maximized && !top.fullscreen {
		at = top.geomPos.Add(image.Pt(cascadeStep, cascadeStep))
	}
	// Slid back onto the output where it would stick out; if that puts
	// it (nearly) on the top window, the output's corner instead.
	at.X = max(min(at.X, b.Max.X-g.Dx()), b.Min.X)
	at.Y = max(min(at.Y, b.Max.Y-g.Dy()), b.Min.Y)
	if top != nil {
		d := at.Sub(top.geomPos)
		if abs(d.X) < cascadeStep && abs(d.Y) < cascadeStep {
			at = b.Min
		}
	}
	t.geomPos = at
}

// fillOutput is the output a fullscreen or maximized t fills: the one
// it asked for, else the one it is on, else the one its floating
// position is on. Placement and configure both ask here, so an output
// unplugged under t gives it the new output's size as well as place.
func (c *Compositor) fillOutput(t *toplevel) *output {
	if t.fullscreen && t.wantOutput != nil && !t.wantOutput.gone {
		return t.wantOutput
	}
	if t.out != nil && !t.out.gone {
		return t.out
	}
	if !t.placed {
		// Fullscreen from its first commit, never floating: where a new
		// toplevel goes (its --app-output), not the first output that
		// its zero position is on.
		return c.outputForToplevel(t)
	}
	return c.outputAt(t.geomPos)
}

// desktopPlacement is where t's surface goes in the desktop layout.
func (c *Compositor) desktopPlacement(t *toplevel) (image.Point, *output) {
	g := t.xs.windowGeometry()
	if t.fullscreen || t.maximized {
		o := c.fillOutput(t)
		if o == nil {
			return image.Point{}, nil
		}
		if t.fullscreen {
			return centre(g.Size(), o.bounds()).Sub(g.Min), o
		}
		return o.bounds().Min.Sub(g.Min), o
	}
	if !t.placed {
		if t.placeAt != 0 && t.xs.lastAck < t.placeAt {
			// Still the size it had fullscreen or maximized: centred
			// until it draws the size of its own choosing.
			if o := c.outputAt(t.geomPos); o != nil {
				return centre(g.Size(), o.bounds()).Sub(g.Min), o
			}
		}
		t.placeAt = 0
		c.placeNew(t)
	}
	if a := t.anchor; a != nil {
		// The edge opposite the one dragged stays where it was, whatever
		// size the client settles on, until it has drawn the size of
		// the last configure of the drag.
		if a.edges&xdg.ToplevelResizeEdgeLeft != 0 {
			t.geomPos.X = a.far.X - g.Dx()
		}
		if a.edges&xdg.ToplevelResizeEdgeTop != 0 {
			t.geomPos.Y = a.far.Y - g.Dy()
		}
		if a.until != 0 && t.xs.lastAck >= a.until {
			t.anchor = nil
		}
	}
	o := c.outputAt(t.geomPos.Add(g.Size().Div(2)))
	if o == nil {
		return t.geomPos.Sub(g.Min), nil
	}
	if b := o.bounds(); !b.Overlaps(image.Rectangle{t.geomPos, t.geomPos.Add(g.Size())}) {
		// Left where no output is (one was unplugged, or made smaller):
		// slid onto the nearest one.
		t.geomPos.X = max(min(t.geomPos.X, b.Max.X-g.Dx()), b.Min.X)
		t.geomPos.Y = max(min(t.geomPos.Y, b.Max.Y-g.Dy()), b.Min.Y)
	}
	return t.geomPos.Sub(g.Min), o
}

// outputAt is the output containing p, else the nearest one.
func (c *Compositor) outputAt(p image.Point) *output {
	var best *output
	bestDist := math.MaxInt
	for _, o := range c.outputs {
		if o.gone {
			continue
		}
		b := o.bounds()
		if p.In(b) {
			return o
		}
		dx := max(b.Min.X-p.X, 0, p.X-b.Max.X+1)
		dy := max(b.Min.Y-p.Y, 0, p.Y-b.Max.Y+1)
		if d := dx + dy; d < bestDist {
			best, bestDist = o, d
		}
	}
	return best
}

// desktopConfigure is the size and states t is told in the desktop
// layout; bounds is the most it can show.
func (c *Compositor) desktopConfigure(t *toplevel) (size image.Point, states []uint32, bounds image.Point) {
	o := t.out
	if o == nil || o.gone {
		o = c.outputForToplevel(t)
	}
	if t.fullscreen || t.maximized {
		o = c.fillOutput(t)
	}
	if o != nil {
		bounds = image.Pt(o.width, o.height)
	}
	switch {
	case t.fullscreen && o != nil:
		size = image.Pt(o.width, o.height)
		states = append(states, xdg.ToplevelStateFullscreen)
	case t.maximized && o != nil:
		size = image.Pt(o.width, o.height)
		states = append(states, xdg.ToplevelStateMaximized)
	default:
		size = t.floatSize
	}
	if gr := c.in.grab; gr != nil && gr.t == t && gr.resize {
		states = append(states, xdg.ToplevelStateResizing)
	}
	return size, states, bounds
}

// desktopCapabilities: what a floating window can be put into.
var desktopCapabilities = []byte{
	xdg.ToplevelWmCapabilitiesMaximize, 0, 0, 0,
	xdg.ToplevelWmCapabilitiesFullscreen, 0, 0, 0,
	xdg.ToplevelWmCapabilitiesMinimize, 0, 0, 0,
}

// raise puts t on top of the stack and gives it focus; it is shown
// again if it was minimized.
func (c *Compositor) raise(t *toplevel) {
	if t.minimized {
		t.minimized = false
		c.relayout()
	}
	if i := slices.Index(c.toplevels, t); i >= 0 && i != len(c.toplevels)-1 {
		c.toplevels = append(slices.Delete(c.toplevels, i, i+1), t)
	}
	c.damageSurfaceArea(t.xs.surface)
	c.restack()
	// What the dialogs above t and its popups cover is now on top too.
	for _, d := range c.toplevels {
		if d.shownParent() == t {
			c.damageSurfaceArea(d.xs.surface)
		}
	}
	for _, p := range c.popupsOf(t.xs) {
		c.damageSurfaceArea(p.xs.surface)
	}
	if !c.desktop() {
		// The kiosk layout configures the new top window (activated).
		c.relayout()
	}
}

// toplevelOf is the toplevel a surface belongs to: its own, its
// subsurface tree's root's, or its popup chain's.
func (c *Compositor) toplevelOf(s *surface) *toplevel {
	for depth := 0; s != nil && depth < 64; depth++ {
		if s.sub != nil {
			s = s.sub.parent
			continue
		}
		xs, _ := s.role.(*xdgSurface)
		if xs == nil {
			return nil
		}
		if xs.toplevel != nil {
			return xs.toplevel
		}
		if xs.popup == nil || xs.popup.parent == nil {
			return nil
		}
		s = xs.popup.parent.surface
	}
	return nil
}

// desktopButton handles a button in the desktop layout before clients
// see it; it reports whether the button was the compositor's.
func (c *Compositor) desktopButton(code uint32, pressed bool, ms uint32) bool {
	in := &c.in
	if in.grab != nil {
		if !pressed && len(in.buttons) == 0 {
			c.endGrab(ms)
		}
		return true
	}
	if !pressed {
		return false
	}
	s, _ := c.surfaceAt(in.pointer[0], in.pointer[1])
	t := c.toplevelOf(s)
	if t == nil {
		return false
	}
	if t != c.topToplevel() {
		c.raise(t)
	}
	if c.windowBindings() && c.keyMods().Effective()&xkb.ModMod4 != 0 && (code == btnLeft || code == btnRight) && len(in.buttons) == 1 {
		if code == btnLeft {
			c.startGrab(t, false, 0)
		} else {
			c.startGrab(t, true, c.nearestEdges(t))
		}
		return true
	}
	return false
}

// nearestEdges are the edges of the corner of t nearest the pointer.
func (c *Compositor) nearestEdges(t *toplevel) uint32 {
	g := t.xs.windowGeometry()
	mid := t.geomPos.Add(g.Size().Div(2))
	var e uint32
	if c.in.pointer[0] < float64(mid.X) {
		e |= xdg.ToplevelResizeEdgeLeft
	} else {
		e |= xdg.ToplevelResizeEdgeRight
	}
	if c.in.pointer[1] < float64(mid.Y) {
		e |= xdg.ToplevelResizeEdgeTop
	} else {
		e |= xdg.ToplevelResizeEdgeBottom
	}
	return e
}

// startGrab begins moving or resizing t with the pointer; the client
// with pointer focus loses it until the buttons are released.
func (c *Compositor) startGrab(t *toplevel, resize bool, edges uint32) {
	in := &c.in
	if t.fullscreen || t.maximized {
		if resize {
			return
		}
		// Dragging a maximized window takes it out of maximized, under
		// the pointer.
		c.unmaximize(t)
	}
	in.grab = &grab{t: t, resize: resize, edges: edges, from: in.pointer, startPos: t.geomPos, start: t.xs.windowGeometry().Size()}
	if resize {
		t.anchor = &resizeAnchor{edges: edges, far: t.geomPos.Add(in.grab.start)}
	}
	if in.ptrFocus != nil {
		c.pointerLeave(c.srv.NextSerial())
		if in.cursor != nil {
			// The client's cursor image goes with its focus.
			c.damageCursor()
			in.cursor = nil
		}
	}
	if resize {
		t.reconfigure()
	}
}

func (c *Compositor) endGrab(ms uint32) {
	gr := c.in.grab
	c.in.grab = nil
	if t := gr.t; gr.resize && t.xs.mapped {
		t.reconfigure()
		if a := t.anchor; a != nil {
			if n := len(t.xs.sent); n > 0 {
				a.until = t.xs.sent[n-1]
			} else {
				t.anchor = nil
			}
		}
	}
	c.updatePointerFocus(ms)
}

// resizeAnchor keeps the edges opposite those dragged in place while a
// client catches up with a resize.
type resizeAnchor struct {
	edges uint32
	// far is the bottom-right corner of the window when the drag began.
	far image.Point
	// until is the drag's last configure (0: the drag goes on).
	until uint32
}

// grabMotion follows the pointer during a move or resize.
func (c *Compositor) grabMotion() {
	gr := c.in.grab
	t := gr.t
	// An X11 window has no xdg_toplevel; its surface's mapping says it
	// is still there.
	if !t.xs.mapped || t.x11 == nil && (t.res == nil || !t.res.Alive()) {
		c.in.grab, t.anchor = nil, nil
		return
	}
	dx := int(math.Round(c.in.pointer[0] - gr.from[0]))
	dy := int(math.Round(c.in.pointer[1] - gr.from[1]))
	if !gr.resize {
		c.damageSurfaceArea(t.xs.surface)
		t.geomPos = gr.startPos.Add(image.Pt(dx, dy))
		c.relayout()
		return
	}
	size := gr.start
	if gr.edges&xdg.ToplevelResizeEdgeLeft != 0 {
		size.X -= dx
	}
	if gr.edges&xdg.ToplevelResizeEdgeRight != 0 {
		size.X += dx
	}
	if gr.edges&xdg.ToplevelResizeEdgeTop != 0 {
		size.Y -= dy
	}
	if gr.edges&xdg.ToplevelResizeEdgeBottom != 0 {
		size.Y += dy
	}
	size = t.clampSize(size)
	if size != t.floatSize {
		t.floatSize = size
		t.reconfigure()
	}
}

// clampSize keeps a size the user drags within the client's hints and
// at least one pixel.
func (t *toplevel) clampSize(s image.Point) image.Point {
	if t.pendingMax.X > 0 {
		s.X = min(s.X, t.pendingMax.X)
	}
	if t.pendingMax.Y > 0 {
		s.Y = min(s.Y, t.pendingMax.Y)
	}
	s.X = max(s.X, t.pendingMin.X, 1)
	s.Y = max(s.Y, t.pendingMin.Y, 1)
	return s
}

// --- xdg_toplevel requests in the desktop layout ---

// requestMove starts a client's move, if the pointer is pressed on it.
func (c *Compositor) requestGrab(t *toplevel, resize bool, edges uint32) {
	in := &c.in
	if !t.xs.mapped || in.grab != nil || len(in.buttons) == 0 || in.ptrFocus == nil {
		return
	}
	if c.toplevelOf(in.ptrFocus) != t {
		// Only the window the pointer pressed may take the pointer.
		return
	}
	c.startGrab(t, resize, edges)
}

func (c *Compositor) maximize(t *toplevel, on bool) {
	if on == t.maximized {
		t.reconfigure()
		return
	}
	if on {
		c.damageSurfaceArea(t.xs.surface)
		t.keepFloatSize()
		t.maximized = true
		c.relayout()
		t.reconfigure()
		return
	}
	c.unmaximize(t)
}

// keepFloatSize remembers the floating window's size before it is
// maximized or made fullscreen, to give it back after.
func (t *toplevel) keepFloatSize() {
	if !t.maximized && !t.fullscreen && t.xs.mapped {
		t.floatSize = t.xs.windowGeometry().Size()
	}
}

func (c *Compositor) unmaximize(t *toplevel) {
	c.damageSurfaceArea(t.xs.surface)
	t.maximized = false
	c.floatAgain(t)
}

// floatAgain lays t out and configures it after it left maximized or
// fullscreen.
func (c *Compositor) floatAgain(t *toplevel) {
	if !t.placed && t.xs.configured {
		// Never floating before: where it goes depends on the size it
		// is about to pick, in answer to the configure sent below.
		t.placeAt = math.MaxUint32
	}
	c.relayout()
	t.reconfigure()
	if t.placeAt != 0 {
		t.placeAt = 0
		if n := len(t.xs.sent); n > 0 {
			t.placeAt = t.xs.sent[n-1]
		}
	}
}

func (c *Compositor) fullscreen(t *toplevel, on bool, o *output) {
	if !on && !t.fullscreen {
		// GTK 4 sends unset_fullscreen while it maps: nothing to undo.
		t.reconfigure()
		return
	}
	c.damageSurfaceArea(t.xs.surface)
	if on {
		t.keepFloatSize()
	}
	t.fullscreen = on
	if on {
		t.wantOutput = o
		c.relayout()
		t.reconfigure()
	} else {
		t.wantOutput = nil
		c.floatAgain(t)
	}
	c.refreshFeedback(t.xs.surface)
}

func (c *Compositor) minimize(t *toplevel) {
	if t.minimized || !t.xs.mapped {
		return
	}
	c.damageSurfaceArea(t.xs.surface)
	for _, p := range c.popupsOf(t.xs) {
		c.damageSurfaceArea(p.xs.surface)
	}
	t.minimized = true
	// At the bottom, it is the next Alt+Tab brings back.
	if i := slices.Index(c.toplevels, t); i > 0 {
		c.toplevels = slices.Insert(slices.Delete(c.toplevels, i, i+1), 0, t)
	}
	c.leaveOutputs(t.xs.surface)
	if gr := c.in.grab; gr != nil && gr.t == t {
		c.in.grab, t.anchor = nil, nil
	}
	c.restack()
}

// --- key bindings ---

// desktopBinding runs the desktop's key bindings.
func (c *Compositor) desktopBinding(sym string, mods uint32) bool {
	if !c.windowBindings() {
		return false
	}
	alt, super, shift := mods&xkb.ModMod1 != 0, mods&xkb.ModMod4 != 0, mods&xkb.ModShift != 0
	ctrl := mods&xkb.ModControl != 0
	switch {
	case alt && !super && !ctrl && (sym == "Tab" || sym == "ISO_Left_Tab"):
		c.cycle(!shift)
		return true
	case super && !alt && !ctrl && (sym == "q" || sym == "Q"):
		if t := c.topToplevel(); t != nil {
			if shift {
				c.kill(t)
			} else {
				c.askClose(t)
			}
		}
		return true
	}
	return false
}

// cycle raises the bottom window (forward) or sends the top one to the
// bottom (backward); either way focus goes to the new top.
func (c *Compositor) cycle(forward bool) {
	if len(c.toplevels) < 2 {
		return
	}
	if forward {
		c.raise(c.toplevels[0])
		return
	}
	top := c.topToplevel()
	if top == nil {
		return
	}
	i := slices.Index(c.toplevels, top)
	c.toplevels = slices.Insert(slices.Delete(c.toplevels, i, i+1), 0, top)
	// Only what top, its dialogs and its popups cover looks different
	// now.
	c.damageSurfaceArea(top.xs.surface)
	for _, p := range c.popupsOf(top.xs) {
		c.damageSurfaceArea(p.xs.surface)
	}
	for _, d := range c.toplevels {
		if d.shownParent() == top {
			c.damageSurfaceArea(d.xs.surface)
		}
	}
	c.restack()
}

// askClose sends xdg_toplevel.close and a ping, so that a client that
// ignores the close can be told apart from one that is just slow.
func (c *Compositor) askClose(t *toplevel) {
	if t.x11 != nil {
		// The X window manager asks (WM_DELETE_WINDOW) and kills the
		// client if it does not close.
		c.log.Info("Super+Q: asked an X11 window to close", "title", t.title)
		t.requestClose()
		return
	}
	t.res.SendClose()
	t.closeAsked = eventloop.Now()
	for _, wm := range c.client(t.res.Client()).wmBases {
		wm.ping()
	}
	c.log.Info("Super+Q: asked a window to close", "pid", t.res.Client().PID, "app_id", t.appID, "title", t.title)
}

// kill disconnects, and kills, the client of t, but only one that was
// asked to close and has not answered a ping since: a live client gets
// another close instead.
func (c *Compositor) kill(t *toplevel) {
	if t.x11 != nil {
		// Killing Xwayland would take every X window; the X window
		// manager kills the one client.
		t.requestClose()
		return
	}
	pc := t.res.Client()
	if t.closeAsked == 0 || !c.client(pc).unresponsive {
		c.log.Info("Super+Shift+Q: the client answers pings (or was not asked to close yet); asking it to close", "pid", pc.PID)
		c.askClose(t)
		return
	}
	c.log.Warn("Super+Shift+Q: killing a client that ignored close and does not answer ping", "pid", pc.PID, "asked", time.Duration(eventloop.Now()-t.closeAsked).Round(time.Millisecond))
	if pc.PID > 0 && pc.PID != os.Getpid() {
		if err := unix.Kill(pc.PID, unix.SIGKILL); err != nil {
			c.log.Warn("kill client", "pid", pc.PID, "err", err)
		}
	}
	pc.Close()
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
