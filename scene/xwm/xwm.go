// Package xwm is vitrine's window manager for Xwayland: it speaks X11
// (github.com/jezek/xgb) on the connection Xwayland gives it with -wm,
// pairs each X window with the wl_surface Xwayland shows it through
// (the WL_SURFACE_ID client message of Xwayland 22), and hands managed
// windows to the scene as toplevels and override-redirect ones as
// windows shown where X put them. It keeps the ICCCM and EWMH basics:
// names and classes, transient-for, size hints, window types, the
// fullscreen state, focus, closing, and the root cursor.
//
// Everything the window manager knows lives on the compositor's loop.
// xgb reads the connection in goroutines of its own, so events and
// replies reach the loop through Post; requests are sent from the loop
// without waiting for replies, because Xwayland may itself be waiting
// for the compositor.
package xwm

import (
	"errors"
	"fmt"
	"image"
	"log/slog"
	"net"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/composite"
	"github.com/jezek/xgb/res"
	"github.com/jezek/xgb/xfixes"
	"github.com/jezek/xgb/xproto"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/eventloop"
	"github.com/vitrine-wm/vitrine/scene"
)

// Scene is what the window manager needs of the compositor.
type Scene interface {
	// Post runs f on the loop; safe from any goroutine.
	Post(f func())
	// Loop is the loop, for timers.
	Loop() *eventloop.Loop
	AttachX11(pc *protocol.Client, id uint32, w scene.X11Window, override bool, geom image.Rectangle, setup func(*scene.XWindow)) (*scene.XWindow, error)
	OnSurfaceCreated(pc *protocol.Client, f func(id uint32))
	// The selection bridge (scene.X11SelectionBridge).
	SetX11SelectionBridge(b scene.X11SelectionBridge)
	SetX11Selection(pc *protocol.Client, kind scene.Selection, mimes []string)
	ReadSelection(kind scene.Selection, mime string, fd int) bool
}

// Config is what Start needs.
type Config struct {
	Log   *slog.Logger
	Scene Scene
	// Client is Xwayland's Wayland connection: WL_SURFACE_ID names its
	// surfaces.
	Client *protocol.Client
	// Conn is the -wm connection; the window manager closes it.
	Conn net.Conn
	// Idle runs on the loop when no X client but the window manager is
	// left: Xwayland's -terminate counts the window manager as a client,
	// so it would never end on its own.
	Idle func()
	// CloseTimeout is how long a window asked to close with
	// WM_DELETE_WINDOW has before its client is killed (5 s if 0).
	CloseTimeout time.Duration
}

// WM is the window manager of one Xwayland.
type WM struct {
	cfg   Config
	log   *slog.Logger
	x     *xgb.Conn
	root  xproto.Window
	atoms atoms
	// windows are the root's children the window manager knows.
	windows map[xproto.Window]*window
	// unpaired are windows whose WL_SURFACE_ID named a surface not yet
	// created, by surface id.
	unpaired map[uint32]*window
	check    xproto.Window
	active   xproto.Window
	closed   bool
	// idleCheck counts X clients while the root has no windows left:
	// then and only then, a client that never made a window is waited
	// out once a second.
	idleCheck *eventloop.Timer
	counting  bool
	// idleEvery is the pause before the next count: it doubles up to a
	// minute while windowless clients stay, so a daemon that never makes
	// a window costs a wake-up a minute, not one a second.
	idleEvery time.Duration
	sel       selections
}

// Start connects to Xwayland in the background and manages its windows
// from then on; the window manager ends when the connection does.
func Start(cfg Config) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.CloseTimeout == 0 {
		cfg.CloseTimeout = 5 * time.Second
	}
	wm := &WM{cfg: cfg, log: cfg.Log.With("component", "xwm"), windows: map[xproto.Window]*window{}, unpaired: map[uint32]*window{}}
	wm.sel.wm = wm
	go wm.connect()
}

// setup is what connect learns before the loop takes over.
type setup struct {
	existing []existingWindow
}

type existingWindow struct {
	id       xproto.Window
	override bool
	viewable bool
	geom     image.Rectangle
}

// connect does the round trips of starting up off the loop (Xwayland
// answers them only after its own Wayland round trips with the loop),
// then reads events for the loop.
func (wm *WM) connect() {
	st, err := wm.handshake()
	if err != nil {
		wm.log.Error("X11 window manager failed to start; X11 windows will not show", "err", err)
		wm.cfg.Conn.Close()
		if wm.x != nil {
			wm.x.Close()
		}
		wm.cfg.Scene.Post(func() { wm.closed = true })
		return
	}
	wm.cfg.Scene.Post(func() { wm.ready(st) })
	for {
		ev, xerr := wm.x.WaitForEvent()
		if ev == nil && xerr == nil {
			wm.cfg.Scene.Post(wm.connectionClosed)
			return
		}
		wm.cfg.Scene.Post(func() { wm.handle(ev, xerr) })
	}
}

func (wm *WM) handshake() (*setup, error) {
	x, err := xgb.NewConnNet(wm.cfg.Conn)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	wm.x = x
	screen := xproto.Setup(x).DefaultScreen(x)
	wm.root = screen.Root
	if err := res.Init(x); err != nil {
		return nil, fmt.Errorf("X-Resource extension: %w", err)
	}
	if err := wm.atoms.intern(x); err != nil {
		return nil, err
	}
	mask := uint32(xproto.EventMaskSubstructureRedirect | xproto.EventMaskSubstructureNotify | xproto.EventMaskPropertyChange)
	if err := xproto.ChangeWindowAttributesChecked(x, wm.root, xproto.CwEventMask, []uint32{mask}).Check(); err != nil {
		return nil, fmt.Errorf("another window manager runs on this X server: %w", err)
	}
	// Rootless Xwayland gives a window a wl_surface only when its
	// drawing is redirected by the compositing manager, which we are.
	if err := composite.Init(x); err != nil {
		return nil, fmt.Errorf("X Composite extension: %w", err)
	}
	if err := composite.RedirectSubwindowsChecked(x, wm.root, composite.RedirectManual).Check(); err != nil {
		return nil, fmt.Errorf("redirect windows (another compositing manager?): %w", err)
	}
	wm.announce(screen)
	wm.rootCursor()
	if err := wm.sel.setup(screen); err != nil {
		return nil, fmt.Errorf("X selections (XFixes): %w", err)
	}
	// Owning the ICCCM manager selection is what Xwayland waits for
	// before it accepts X clients on its listening sockets.
	xproto.SetSelectionOwner(x, wm.check, wm.atoms.wmS0, xproto.TimeCurrentTime)
	xproto.SetSelectionOwner(x, wm.check, wm.atoms.netWMCMS0, xproto.TimeCurrentTime)
	tree, err := xproto.QueryTree(x, wm.root).Reply()
	if err != nil {
		return nil, fmt.Errorf("list windows: %w", err)
	}
	st := &setup{}
	for _, id := range tree.Children {
		if wm.own(id) {
			continue
		}
		a, err1 := xproto.GetWindowAttributes(x, id).Reply()
		g, err2 := xproto.GetGeometry(x, xproto.Drawable(id)).Reply()
		if err1 != nil || err2 != nil {
			continue // gone meanwhile
		}
		st.existing = append(st.existing, existingWindow{id: id, override: a.OverrideRedirect, viewable: a.MapState == xproto.MapStateViewable,
			geom: image.Rect(int(g.X), int(g.Y), int(g.X)+int(g.Width), int(g.Y)+int(g.Height))})
	}
	return st, nil
}

// announce makes the window manager visible to EWMH clients: the
// supporting-WM check window and the hints it supports.
func (wm *WM) announce(screen *xproto.ScreenInfo) {
	x, a := wm.x, &wm.atoms
	id, err := xproto.NewWindowId(x)
	if err != nil {
		return
	}
	wm.check = id
	xproto.CreateWindow(x, 0, id, wm.root, -1, -1, 1, 1, 0, xproto.WindowClassInputOnly, screen.RootVisual, 0, nil)
	for _, w := range []xproto.Window{wm.root, id} {
		setWindowProp(x, w, a.netSupportingWMCheck, xproto.AtomWindow, uint32(id))
	}
	name := "vitrine"
	xproto.ChangeProperty(x, xproto.PropModeReplace, id, a.netWMName, a.utf8String, 8, uint32(len(name)), []byte(name))
	supported := []xproto.Atom{a.netSupported, a.netSupportingWMCheck, a.netWMName, a.netWMState, a.netWMStateFullscreen,
		a.netWMStateMaximizedV, a.netWMStateMaximizedH, a.netActiveWindow, a.netWMWindowType, a.netWMWindowTypeNormal,
		a.netWMWindowTypeDialog, a.netWMWindowTypeUtility, a.netWMWindowTypeSplash, a.netWMWindowTypeMenu,
		a.netWMWindowTypeDropdownMenu, a.netWMWindowTypePopupMenu, a.netWMWindowTypeTooltip, a.netWMWindowTypeNotification,
		a.netCloseWindow}
	setAtomsProp(x, wm.root, a.netSupported, supported)
	setWindowProp(x, wm.root, a.netActiveWindow, xproto.AtomWindow, 0)
}

// rootCursor gives X windows that set no cursor of their own the usual
// arrow (the cursor font's left_ptr), which Xwayland shows through
// wl_pointer.set_cursor.
func (wm *WM) rootCursor() {
	x := wm.x
	font, err := xproto.NewFontId(x)
	if err != nil {
		return
	}
	cursor, err := xproto.NewCursorId(x)
	if err != nil {
		return
	}
	const leftPtr = 68 // XC_left_ptr; its mask is the next glyph
	xproto.OpenFont(x, font, uint16(len("cursor")), "cursor")
	xproto.CreateGlyphCursor(x, cursor, font, font, leftPtr, leftPtr+1, 0, 0, 0, 0xffff, 0xffff, 0xffff)
	xproto.ChangeWindowAttributes(x, wm.root, xproto.CwCursor, []uint32{uint32(cursor)})
	xproto.CloseFont(x, font)
}

// ready runs on the loop once the window manager is set up.
func (wm *WM) ready(st *setup) {
	if wm.closed {
		return
	}
	wm.cfg.Scene.OnSurfaceCreated(wm.cfg.Client, wm.surfaceCreated)
	wm.cfg.Scene.SetX11SelectionBridge(&wm.sel)
	wm.idleCheck = wm.cfg.Scene.Loop().NewTimer(wm.countClients)
	for _, e := range st.existing {
		w := wm.add(e.id, e.override, e.geom)
		w.mapped = e.viewable
	}
	wm.log.Info("X11 window manager running", "windows", len(st.existing))
	if wm.cfg.Idle != nil {
		// Not at once: the client that started Xwayland may still wait
		// in the listening socket's backlog, uncounted.
		wm.idleEvery = time.Second
		wm.idleCheck.SetAfter(time.Second)
	}
}

// maybeIdle starts counting clients when the last window is gone.
func (wm *WM) maybeIdle() {
	if len(wm.windows) == 0 && wm.cfg.Idle != nil && !wm.closed && !wm.counting && !wm.idleCheck.Armed() {
		wm.idleEvery = time.Second
		wm.countClients()
	}
}

// countClients asks X-Resource how many clients are connected; with the
// window manager alone, Xwayland has nothing left to do.
func (wm *WM) countClients() {
	if wm.closed || len(wm.windows) > 0 {
		return
	}
	wm.counting = true
	cookie := res.QueryClients(wm.x)
	go func() {
		r, err := cookie.Reply()
		wm.cfg.Scene.Post(func() {
			wm.counting = false
			if err != nil || wm.closed || len(wm.windows) > 0 {
				wm.log.Debug("X11 client count", "err", err)
				return
			}
			// The list has the server itself (resource base 0) and the
			// window manager besides the clients.
			others := 0
			for _, cl := range r.Clients {
				if cl.ResourceBase != 0 && cl.ResourceBase != uint32(wm.check)&^cl.ResourceMask {
					others++
				}
			}
			wm.log.Debug("X11 client count", "clients", others)
			if others == 0 {
				wm.log.Info("no X11 clients left; stopping Xwayland")
				wm.cfg.Idle()
				return
			}
			wm.idleCheck.SetAfter(wm.idleEvery)
			wm.idleEvery = min(2*wm.idleEvery, time.Minute)
		})
	}()
}

func (wm *WM) connectionClosed() {
	if wm.closed {
		return
	}
	wm.closed = true
	wm.log.Info("X11 window manager stopped: Xwayland closed its connection")
	if wm.idleCheck != nil {
		wm.idleCheck.Stop()
	}
	if wm.cfg.Client.Alive() {
		wm.cfg.Scene.OnSurfaceCreated(wm.cfg.Client, nil)
	}
	wm.cfg.Scene.SetX11SelectionBridge(nil)
	wm.sel.dropAll()
	for _, w := range wm.windows {
		w.forget()
	}
	clear(wm.windows)
	clear(wm.unpaired)
	wm.x.Close()
}

// handle is one X event, on the loop.
func (wm *WM) handle(ev xgb.Event, xerr xgb.Error) {
	if wm.closed {
		return
	}
	if xerr != nil {
		// Requests are sent without waiting; a window gone before its
		// request arrived gives BadWindow, which is nothing to act on.
		wm.log.Debug("X11 request failed", "err", xerr)
		return
	}
	switch e := ev.(type) {
	case xproto.CreateNotifyEvent:
		if e.Parent == wm.root && !wm.own(e.Window) {
			wm.add(e.Window, e.OverrideRedirect, image.Rect(int(e.X), int(e.Y), int(e.X)+int(e.Width), int(e.Y)+int(e.Height)))
		}
	case xproto.DestroyNotifyEvent:
		if w := wm.windows[e.Window]; w != nil {
			w.forget()
			delete(wm.windows, e.Window)
			wm.maybeIdle()
		}
	case xproto.MapRequestEvent:
		if w := wm.windows[e.Window]; w != nil {
			w.mapRequest()
		} else {
			xproto.MapWindow(wm.x, e.Window)
		}
	case xproto.MapNotifyEvent:
		if w := wm.windows[e.Window]; w != nil {
			w.mapped = true
			w.override = e.OverrideRedirect
		}
	case xproto.UnmapNotifyEvent:
		if w := wm.windows[e.Window]; w != nil {
			w.unmapped()
		}
	case xproto.ConfigureRequestEvent:
		if w := wm.windows[e.Window]; w != nil {
			w.configureRequest(e)
		}
	case xproto.ConfigureNotifyEvent:
		if w := wm.windows[e.Window]; w != nil {
			w.configured(image.Rect(int(e.X), int(e.Y), int(e.X)+int(e.Width), int(e.Y)+int(e.Height)), e.OverrideRedirect)
		}
	case xproto.ReparentNotifyEvent:
		// A window reparented away from the root is no longer ours to
		// manage, and one reparented to it is.
		if e.Parent == wm.root {
			if wm.windows[e.Window] == nil {
				wm.add(e.Window, e.OverrideRedirect, image.Rect(int(e.X), int(e.Y), int(e.X)+1, int(e.Y)+1))
			}
		} else if w := wm.windows[e.Window]; w != nil {
			w.forget()
			delete(wm.windows, e.Window)
		}
	case xproto.PropertyNotifyEvent:
		if w := wm.windows[e.Window]; w != nil {
			w.readProperty(e.Atom)
		}
	case xproto.ClientMessageEvent:
		wm.clientMessage(e)
	case xfixes.SelectionNotifyEvent:
		wm.sel.ownerChanged(e)
	case xproto.SelectionRequestEvent:
		wm.sel.request(e)
	case xproto.SelectionNotifyEvent:
		wm.sel.converted(e)
	}
}

// own says whether a window is one of the window manager's own.
func (wm *WM) own(id xproto.Window) bool { return id == wm.check || id == wm.sel.win }

func (wm *WM) add(id xproto.Window, override bool, geom image.Rectangle) *window {
	if w := wm.windows[id]; w != nil {
		return w
	}
	w := &window{wm: wm, id: id, override: override, geom: geom, acceptsFocus: true}
	wm.windows[id] = w
	// Property changes of the window, for titles and hints.
	xproto.ChangeWindowAttributes(wm.x, id, xproto.CwEventMask, []uint32{xproto.EventMaskPropertyChange})
	w.readAll()
	return w
}

func (wm *WM) clientMessage(e xproto.ClientMessageEvent) {
	a := &wm.atoms
	w := wm.windows[e.Window]
	if e.Format != 32 {
		return
	}
	d := e.Data.Data32
	switch e.Type {
	case a.wlSurfaceID:
		if w == nil {
			wm.log.Warn("WL_SURFACE_ID for an unknown X window: ignored", "window", e.Window, "surface", d[0])
			return
		}
		w.pair(d[0])
	case a.netWMState:
		if w == nil {
			return
		}
		// data: action (0 remove, 1 add, 2 toggle), two properties.
		for _, p := range d[1:3] {
			switch xproto.Atom(p) {
			case a.netWMStateFullscreen:
				w.setWantFullscreen(d[0] == 1 || d[0] == 2 && !w.wantFullscreen)
			case a.netWMStateMaximizedV, a.netWMStateMaximizedH:
				w.setWantMaximized(d[0] == 1 || d[0] == 2 && !w.wantMaximized)
			}
		}
	case a.netActiveWindow:
		if w != nil && w.xw != nil {
			w.xw.Activate()
		}
	case a.netCloseWindow:
		if w != nil {
			w.Close()
		}
	}
}

// surfaceCreated pairs a window whose WL_SURFACE_ID came before the
// surface.
func (wm *WM) surfaceCreated(id uint32) {
	if w := wm.unpaired[id]; w != nil {
		delete(wm.unpaired, id)
		w.pair(id)
	}
}

var errAtoms = errors.New("intern atoms")
