package scene

import (
	"errors"
	"fmt"
	"image"
	"slices"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/wl"
)

// X11 windows reach the scene through the window manager for Xwayland
// (package scene/xwm), which knows X11 and tells the scene which of
// Xwayland's wl_surfaces shows which window. A managed window is a
// toplevel like an xdg_toplevel: the same layout places it, in kiosk
// and desktop alike, and what an xdg_toplevel would get as a configure
// event the window manager gets as Configure. An override-redirect
// window (a menu, a tooltip) is shown where X put it, above the
// toplevels, and is never laid out.

// X11Window is what the window manager does for a window the scene
// shows.
type X11Window interface {
	// Configure tells the window where it is shown (global layout
	// coordinates) and at what size, and its states, as an xdg_toplevel
	// configure would; the window manager moves and resizes the X window
	// to match, so that Xwayland's pointer coordinates agree.
	Configure(r image.Rectangle, fullscreen, activated bool)
	// SurfaceGone says Xwayland destroyed the window's wl_surface (the
	// window was unmapped, or Xwayland went away).
	SurfaceGone()
	// Close asks the window to close, where an xdg_toplevel gets the
	// close event (WM_DELETE_WINDOW, and the client killed when it does
	// not close).
	Close()
}

// XWindow is an X11 window the scene shows through a wl_surface of
// Xwayland. Its methods run on the loop.
type XWindow struct {
	c        *Compositor
	xs       *xdgSurface
	t        *toplevel
	win      X11Window
	override bool
	// geom is the X window's own geometry (global coordinates): where an
	// override-redirect window is shown, and the size a managed window
	// asked for.
	geom image.Rectangle
	// sent is the last Configure, so layout passes that change nothing
	// send nothing.
	sent       image.Rectangle
	sentFull   bool
	sentActive bool
	sentOnce   bool
	gone       bool
	wantFull   bool
	wantMax    bool
	// floating: the window keeps its own size, centred, instead of
	// filling the output in the kiosk layout (splash screens, dialogs
	// without WM_TRANSIENT_FOR, fixed-size windows).
	floating bool
}

// ErrNoSurface says the id names no wl_surface of that client (yet: the
// client message can overtake Xwayland's create_surface).
var ErrNoSurface = errors.New("no such wl_surface")

// AttachX11 gives Xwayland's wl_surface id the role of X11 window w,
// managed (a toplevel) or override-redirect, with the X window's
// geometry. It fails without harm to anyone when the id names no
// surface of pc, or one that already has a role: the id comes from an X
// client message, which any X client can forge.
//
// setup (if not nil) gives the window what the window manager knows of
// it (title, type, hints, parent) before a buffer Xwayland committed
// already shows it: a splash screen laid out as a filling window first
// would be told the output's size, and keep it.
func (c *Compositor) AttachX11(pc *protocol.Client, id uint32, w X11Window, override bool, geom image.Rectangle, setup func(*XWindow)) (*XWindow, error) {
	obj := pc.Object(id)
	if obj == nil {
		return nil, fmt.Errorf("wl_surface#%d: %w", id, ErrNoSurface)
	}
	ws, _ := obj.(*wl.Surface)
	if ws == nil {
		return nil, fmt.Errorf("object %d is not a wl_surface", id)
	}
	s := surfaceOf(ws)
	if s == nil || s.destroyed {
		return nil, fmt.Errorf("wl_surface#%d: %w", id, ErrNoSurface)
	}
	if s.roleName != "" {
		return nil, fmt.Errorf("wl_surface#%d already has role %s", id, s.roleName)
	}
	x := &XWindow{c: c, win: w, override: override, geom: geom}
	xs := &xdgSurface{c: c, surface: s, configured: true, acked: true}
	t := &toplevel{xs: xs, x11: x, pos: geom.Min}
	xs.toplevel = t
	x.xs, x.t = xs, t
	s.roleName, s.role = "xwayland_surface", xs
	c.x11All = append(c.x11All, t)
	ws.OnDestroy(x.surfaceDestroyed)
	if setup != nil {
		setup(x)
	}
	// Xwayland may have committed a buffer before the window manager
	// saw the window; show it now.
	xs.committed(s)
	if !xs.mapped {
		// A window not shown yet still learns the size it will have.
		c.x11Sync(t)
	}
	return x, nil
}

// OnSurfaceCreated runs f with the id of every wl_surface pc creates
// from now on (nil: stop), so the window manager can pair a window
// whose client message came first.
func (c *Compositor) OnSurfaceCreated(pc *protocol.Client, f func(id uint32)) {
	c.client(pc).surfaceCreated = f
}

func (x *XWindow) surfaceDestroyed() {
	if x.gone {
		return
	}
	x.gone = true
	x.xs.unmap()
	x.c.x11Overlays = slices.DeleteFunc(x.c.x11Overlays, func(t *toplevel) bool { return t == x.t })
	x.c.x11All = slices.DeleteFunc(x.c.x11All, func(t *toplevel) bool { return t == x.t })
	x.t.destroyed()
	x.win.SurfaceGone()
}

// SetTitle is WM_NAME or _NET_WM_NAME.
func (x *XWindow) SetTitle(title string) { x.t.title = title }

// SetAppID is WM_CLASS's class.
func (x *XWindow) SetAppID(id string) { x.t.appID = id }

// Title and AppID are what SetTitle and SetAppID set.
func (x *XWindow) Title() string { return x.t.title }
func (x *XWindow) AppID() string { return x.t.appID }

// SetParent makes x a dialog of p (WM_TRANSIENT_FOR; nil: none). A
// parent that would make a cycle is ignored: X does not forbid one.
func (x *XWindow) SetParent(p *XWindow) {
	if x.gone || x.override {
		return
	}
	var pt *toplevel
	if p != nil && !p.gone && !p.override {
		pt = p.t
	}
	for a := pt; a != nil; a = a.parent {
		if a == x.t {
			return
		}
	}
	x.t.setParent(pt)
}

// SetFullscreen records _NET_WM_STATE_FULLSCREEN. The kiosk layout fills
// the output anyway; the window manager hears the answer as Configure.
func (x *XWindow) SetFullscreen(on bool) {
	x.wantFull = on
	if x.gone {
		return
	}
	if x.c.desktop() && !x.override {
		x.c.fullscreen(x.t, on, nil)
		return
	}
	x.t.reconfigure()
}

// SetMaximized records _NET_WM_STATE_MAXIMIZED_*; as for fullscreen,
// the layout decides and the window manager hears it as Configure.
func (x *XWindow) SetMaximized(on bool) {
	x.wantMax = on
	if x.gone {
		return
	}
	if x.c.desktop() && !x.override {
		x.c.maximize(x.t, on)
		return
	}
	x.t.reconfigure()
}

// SetFloating keeps the window at its own size, centred on its output
// (or, with a parent, on the parent), instead of filling it.
func (x *XWindow) SetFloating(on bool) {
	if x.gone || x.override || x.floating == on {
		return
	}
	x.floating = on
	if x.xs.mapped {
		x.c.relayout()
	}
	x.t.reconfigure()
}

// SetSizeHints is WM_NORMAL_HINTS' minimum and maximum size (0: none),
// kept as an xdg_toplevel's are, for layouts that size windows.
func (x *XWindow) SetSizeHints(minSize, maxSize image.Point) {
	if x.gone {
		return
	}
	x.t.pendingMin, x.t.pendingMax = minSize, maxSize
	if maxSize.X > 0 && minSize.X > maxSize.X || maxSize.Y > 0 && minSize.Y > maxSize.Y {
		// X does not forbid it; the xdg rule would fail a commit.
		x.t.pendingMax = image.Point{}
	}
}

// SetGeometry is the X window's own place and size: an override-redirect
// window is shown there; for a managed one it is only a wish.
func (x *XWindow) SetGeometry(r image.Rectangle) {
	if x.gone || r == x.geom {
		return
	}
	x.geom = r
	if x.override && x.xs.mapped {
		x.c.damageSurfaceArea(x.xs.surface)
		x.placeOverride()
		x.c.damageSurfaceArea(x.xs.surface)
	}
}

// Activate raises a managed window to the top and gives it the focus
// (_NET_ACTIVE_WINDOW from a client, or a map).
func (x *XWindow) Activate() {
	if x.gone || x.override || !x.xs.mapped {
		return
	}
	x.c.raise(x.t)
}

// OwnSize reports whether the layout lets the window pick its own size
// (a dialog, a floating desktop window), so that its ConfigureRequests
// are granted; otherwise the layout's size stands.
func (x *XWindow) OwnSize() bool {
	return !x.gone && x.c.configuredSize(x.t) == (image.Point{})
}

// Shown reports whether the window is on screen, and where.
func (x *XWindow) Shown() (image.Rectangle, bool) {
	if x.gone || !x.xs.mapped {
		return image.Rectangle{}, false
	}
	return x.xs.surface.sizeRect().Add(x.t.pos), true
}

func (x *XWindow) placeOverride() {
	x.t.pos = x.geom.Min
	x.t.out = nil
	for _, o := range x.c.outputs {
		if x.geom.Min.In(o.bounds()) {
			x.t.out = o
			break
		}
	}
	if x.t.out == nil && len(x.c.outputs) > 0 {
		x.t.out = x.c.outputs[0]
	}
	if x.t.out != nil {
		x.c.enterOutput(x.xs.surface, x.t.out)
	}
}

// requestClose asks a toplevel's client to close it, whichever shell it
// is of; layouts with a close action (the desktop's) call it.
func (t *toplevel) requestClose() {
	if t.x11 != nil {
		if !t.x11.gone {
			t.x11.win.Close()
		}
		return
	}
	t.res.SendClose()
}

// x11Sync tells the window manager where t is shown and at what size,
// if that changed since it was last told. In the kiosk layout a filling
// window is told its output's usable area even while its buffer is still
// the old size; in the desktop layout it is where the layout placed it.
func (c *Compositor) x11Sync(t *toplevel) {
	x := t.x11
	if x == nil || x.gone || x.override {
		return
	}
	size := c.configuredSize(t)
	pos := t.pos
	fullscreen := false
	o := c.outputForToplevel(t)
	switch {
	case c.desktop():
		fullscreen = t.fullscreen
		if !t.xs.mapped {
			pos = x.geom.Min
		}
	case o != nil && t.fills():
		pos, fullscreen = o.usableArea().Min, true
	case !t.xs.mapped:
		pos = x.geom.Min
	}
	if size == (image.Point{}) {
		size = x.geom.Size()
	}
	r := image.Rectangle{Min: pos, Max: pos.Add(size)}
	if x.sentOnce && r == x.sent && fullscreen == x.sentFull && t.activated == x.sentActive {
		return
	}
	x.sent, x.sentFull, x.sentActive, x.sentOnce = r, fullscreen, t.activated, true
	t.sentSize, t.sentActive = c.configuredSize(t), t.activated
	x.win.Configure(r, fullscreen, t.activated)
}

// x11Mapped puts a newly shown override-redirect window above everything.
func (c *Compositor) x11OverrideMapped(t *toplevel) {
	c.x11Overlays = append(c.x11Overlays, t)
	t.x11.placeOverride()
}
