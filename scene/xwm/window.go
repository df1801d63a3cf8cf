package xwm

import (
	"bytes"
	"context"
	"errors"
	"image"
	"log/slog"
	"slices"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"

	"github.com/vitrine-wm/vitrine/protocol/eventloop"
	"github.com/vitrine-wm/vitrine/scene"
)

// window is a child of the root the window manager knows. It implements
// scene.X11Window while it has a wl_surface.
type window struct {
	wm       *WM
	id       xproto.Window
	override bool
	// geom is the X window's geometry as the last ConfigureNotify said.
	geom   image.Rectangle
	mapped bool
	// xw is the scene's side while the window has a wl_surface.
	xw *scene.XWindow

	wmName, netWMName string
	class             string
	transientFor      xproto.Window
	protocols         []xproto.Atom
	types             []xproto.Atom
	acceptsFocus      bool
	minSize, maxSize  image.Point
	wantFullscreen    bool
	wantMaximized     bool
	// sent is the geometry last given with ConfigureWindow.
	sent     image.Rectangle
	sentOnce bool
	focused  bool
	// refusals counts WL_SURFACE_IDs refused for this window.
	refusals int
	// killTimer kills the client of a window that ignored
	// WM_DELETE_WINDOW.
	killTimer *eventloop.Timer
	// reads numbers each property's GetProperty: replies reach the loop
	// through one goroutine each, in any order, and only the reply to
	// the latest read (sent after the latest PropertyNotify) holds the
	// value the window has now.
	reads map[xproto.Atom]uint64
}

var _ scene.X11Window = (*window)(nil)

func (w *window) title() string {
	if w.netWMName != "" {
		return w.netWMName
	}
	return w.wmName
}

// pair shows the window through Xwayland's wl_surface id.
func (w *window) pair(id uint32) {
	wm := w.wm
	switch {
	case w.xw != nil:
		w.refused("WL_SURFACE_ID for a window that already has a surface: ignored", id, nil)
		return
	case !w.mapped:
		// Xwayland pairs a window when it maps it, after MapNotify; a
		// message for a window not mapped is forged, and would let its
		// sender show a surface that is not its own.
		w.refused("WL_SURFACE_ID for a window that is not mapped: ignored", id, nil)
		return
	}
	_, err := sceneAttach(wm, id, w)
	if err != nil {
		if errorsIsNoSurface(err) {
			// The client message overtook create_surface; pair it when
			// the surface comes. A forged id waits here harmlessly,
			// replaced by the window's next message or dropped with it.
			w.dropUnpaired()
			if len(wm.unpaired) < 1024 {
				wm.unpaired[id] = w
			}
			return
		}
		w.refused("WL_SURFACE_ID refused", id, err)
		return
	}
	// An id still waiting for this window (a forged one, or one
	// overtaken) must not pair it with some later surface.
	w.dropUnpaired()
	if !w.override {
		wm.log.Info("X11 window shown", "window", w.id, "title", w.title(), "class", w.class, "geometry", w.geom.String(), "types", len(w.types))
	} else {
		wm.log.Debug("X11 override-redirect window shown", "window", w.id, "geometry", w.geom.String())
	}
}

// refused logs a WL_SURFACE_ID that was not taken: the first for a
// window as a warning, the rest at debug level, so that a client
// sending thousands cannot flood the log.
func (w *window) refused(msg string, id uint32, err error) {
	level := slog.LevelWarn
	if w.refusals > 0 {
		level = slog.LevelDebug
	}
	w.refusals++
	w.wm.log.Log(context.Background(), level, msg, "window", w.id, "surface", id, "err", err, "refusals", w.refusals)
}

func sceneAttach(wm *WM, id uint32, w *window) (*scene.XWindow, error) {
	return wm.cfg.Scene.AttachX11(wm.cfg.Client, id, w, w.override, w.geom, w.attached)
}

// attached tells the scene's new side of the window everything known
// of it, before the scene shows it.
func (w *window) attached(xw *scene.XWindow) {
	w.xw = xw
	xw.SetTitle(w.title())
	xw.SetAppID(w.class)
	if w.wantFullscreen {
		xw.SetFullscreen(true)
	}
	if w.wantMaximized {
		xw.SetMaximized(true)
	}
	w.applyTransient()
	w.applyHints()
}

func errorsIsNoSurface(err error) bool { return errors.Is(err, scene.ErrNoSurface) }

func (w *window) applyTransient() {
	if w.xw == nil {
		return
	}
	var parent *scene.XWindow
	if p := w.wm.windows[w.transientFor]; p != nil && p != w {
		parent = p.xw
	}
	w.xw.SetParent(parent)
}

// dropUnpaired forgets the surface id this window waits for, if any.
func (w *window) dropUnpaired() {
	for sid, u := range w.wm.unpaired {
		if u == w {
			delete(w.wm.unpaired, sid)
		}
	}
}

// SurfaceGone is the scene saying the wl_surface went.
func (w *window) SurfaceGone() {
	w.xw = nil
	w.sentOnce = false
}

// forget drops a destroyed window (or every window when Xwayland went).
func (w *window) forget() {
	if w.killTimer != nil {
		w.killTimer.Stop()
	}
	w.dropUnpaired()
	if w.wm.active == w.id {
		w.wm.active = 0
	}
	// Its wl_surface goes with Xwayland's own cleanup; until then the
	// scene keeps it, but it must not call back into a dead window.
	w.xw = nil
}

func (w *window) mapRequest() {
	x, a := w.wm.x, &w.wm.atoms
	// ICCCM NormalState, no icon window.
	setWindowProp(x, w.id, a.wmState, a.wmState, 1, 0)
	xproto.MapWindow(x, w.id)
}

func (w *window) unmapped() {
	w.mapped = false
	if !w.override {
		setWindowProp(w.wm.x, w.id, w.wm.atoms.wmState, w.wm.atoms.wmState, 0, 0)
	}
	if w.wm.active == w.id {
		w.wm.active = 0
		setWindowProp(w.wm.x, w.wm.root, w.wm.atoms.netActiveWindow, xproto.AtomWindow, 0)
	}
}

// configureRequest: a managed window shown by the scene gets the place
// the layout gave it (and a ConfigureNotify saying so, as ICCCM asks
// when a request is refused); one not shown yet gets what it asked.
func (w *window) configureRequest(e xproto.ConfigureRequestEvent) {
	want := w.geom
	if e.ValueMask&xproto.ConfigWindowX != 0 {
		want = want.Add(image.Pt(int(e.X)-want.Min.X, 0))
	}
	if e.ValueMask&xproto.ConfigWindowY != 0 {
		want = want.Add(image.Pt(0, int(e.Y)-want.Min.Y))
	}
	if e.ValueMask&xproto.ConfigWindowWidth != 0 {
		want.Max.X = want.Min.X + max(int(e.Width), 1)
	}
	if e.ValueMask&xproto.ConfigWindowHeight != 0 {
		want.Max.Y = want.Min.Y + max(int(e.Height), 1)
	}
	// A window that picks its own size (a dialog, a floating window)
	// is granted it, and the layout places it again once its buffer
	// has the new size.
	if w.xw != nil && w.sentOnce && !w.override && !w.xw.OwnSize() {
		w.configureWindow(w.sent, true)
		w.syntheticConfigureNotify(w.sent)
		return
	}
	w.configureWindow(want, true)
}

func (w *window) configured(r image.Rectangle, override bool) {
	w.geom = r
	w.override = override
	if w.xw != nil {
		w.xw.SetGeometry(r)
	}
}

// Configure is the scene placing the window.
func (w *window) Configure(r image.Rectangle, fullscreen, activated bool) {
	if r.Dx() <= 0 || r.Dy() <= 0 {
		r.Max = r.Min.Add(w.geom.Size())
	}
	if !w.sentOnce || r != w.sent {
		w.configureWindow(r, false)
	}
	w.sent, w.sentOnce = r, true
	w.setState(fullscreen, activated)
	if activated && !w.focused {
		w.focus()
	}
	w.focused = activated
}

func (w *window) configureWindow(r image.Rectangle, force bool) {
	if !force && r == w.geom {
		return
	}
	x := w.wm.x
	mask := uint16(xproto.ConfigWindowX | xproto.ConfigWindowY | xproto.ConfigWindowWidth | xproto.ConfigWindowHeight | xproto.ConfigWindowBorderWidth)
	xproto.ConfigureWindow(x, w.id, mask, []uint32{uint32(int32(r.Min.X)), uint32(int32(r.Min.Y)), uint32(r.Dx()), uint32(r.Dy()), 0})
}

func (w *window) syntheticConfigureNotify(r image.Rectangle) {
	ev := xproto.ConfigureNotifyEvent{Event: w.id, Window: w.id, X: int16(r.Min.X), Y: int16(r.Min.Y), Width: uint16(r.Dx()), Height: uint16(r.Dy())}
	xproto.SendEvent(w.wm.x, false, w.id, xproto.EventMaskStructureNotify, string(ev.Bytes()))
}

// setState writes _NET_WM_STATE as the layout has it.
func (w *window) setState(fullscreen, activated bool) {
	a := &w.wm.atoms
	var states []xproto.Atom
	if fullscreen {
		states = append(states, a.netWMStateFullscreen)
	}
	if activated {
		states = append(states, a.netWMStateFocused)
	}
	setAtomsProp(w.wm.x, w.id, a.netWMState, states)
}

// focus gives the window X's input focus the way ICCCM says: set it
// when the window takes input, and send WM_TAKE_FOCUS when it asks for
// that; then raise it and publish it as _NET_ACTIVE_WINDOW.
func (w *window) focus() {
	wm, a := w.wm, &w.wm.atoms
	if w.acceptsFocus {
		xproto.SetInputFocus(wm.x, xproto.InputFocusPointerRoot, w.id, xproto.TimeCurrentTime)
	}
	if slices.Contains(w.protocols, a.wmTakeFocus) {
		w.sendProtocol(a.wmTakeFocus)
	}
	xproto.ConfigureWindow(wm.x, w.id, xproto.ConfigWindowStackMode, []uint32{xproto.StackModeAbove})
	wm.active = w.id
	setWindowProp(wm.x, wm.root, a.netActiveWindow, xproto.AtomWindow, uint32(w.id))
}

func (w *window) sendProtocol(p xproto.Atom) {
	a := &w.wm.atoms
	ev := xproto.ClientMessageEvent{Format: 32, Window: w.id, Type: a.wmProtocols,
		Data: xproto.ClientMessageDataUnionData32New([]uint32{uint32(p), uint32(xproto.TimeCurrentTime), 0, 0, 0})}
	xproto.SendEvent(w.wm.x, false, w.id, xproto.EventMaskNoEvent, string(ev.Bytes()))
}

// Close asks the window to close with WM_DELETE_WINDOW when it speaks
// that, and kills its client when it does not, or has not closed after
// the timeout.
func (w *window) Close() {
	wm := w.wm
	if !slices.Contains(w.protocols, wm.atoms.wmDeleteWindow) {
		xproto.KillClient(wm.x, uint32(w.id))
		return
	}
	w.sendProtocol(wm.atoms.wmDeleteWindow)
	if w.killTimer == nil {
		w.killTimer = wm.cfg.Scene.Loop().NewTimer(func() {
			if wm.windows[w.id] == w && !wm.closed {
				wm.log.Info("X11 window ignored WM_DELETE_WINDOW; killing its client", "window", w.id, "title", w.title())
				xproto.KillClient(wm.x, uint32(w.id))
			}
		})
	}
	w.killTimer.SetAfter(wm.cfg.CloseTimeout)
}

// floats says whether the window keeps its own size rather than fill
// the output: splash screens, dialogs, utility windows and toolbars, and
// windows whose size hints fix their size.
func (w *window) floats() bool {
	a := &w.wm.atoms
	for _, t := range w.types {
		switch t {
		case a.netWMWindowTypeDialog, a.netWMWindowTypeUtility, a.netWMWindowTypeSplash, a.netWMWindowTypeToolbar:
			return true
		}
	}
	return w.minSize.X > 0 && w.minSize == w.maxSize
}

// applyHints passes the size hints and window type to the scene.
func (w *window) applyHints() {
	if w.xw == nil {
		return
	}
	w.xw.SetSizeHints(w.minSize, w.maxSize)
	w.xw.SetFloating(w.floats())
}

func (w *window) setWantMaximized(on bool) {
	w.wantMaximized = on
	if w.xw != nil {
		w.xw.SetMaximized(on)
	}
}

func (w *window) setWantFullscreen(on bool) {
	w.wantFullscreen = on
	if w.xw != nil {
		w.xw.SetFullscreen(on)
	}
}

// readAll asks for every property the window manager uses.
func (w *window) readAll() {
	a := &w.wm.atoms
	for _, p := range []xproto.Atom{xproto.AtomWmName, a.netWMName, xproto.AtomWmClass, xproto.AtomWmTransientFor,
		xproto.AtomWmNormalHints, xproto.AtomWmHints, a.wmProtocols, a.netWMWindowType, a.netWMState} {
		w.readProperty(p)
	}
}

// readProperty sends GetProperty now and applies the reply on the loop
// when it comes; waiting for it here could deadlock with Xwayland.
func (w *window) readProperty(p xproto.Atom) {
	wm := w.wm
	if w.reads == nil {
		w.reads = map[xproto.Atom]uint64{}
	}
	w.reads[p]++
	n := w.reads[p]
	cookie := xproto.GetProperty(wm.x, false, w.id, p, xproto.GetPropertyTypeAny, 0, 2048)
	go func() {
		r, err := cookie.Reply()
		wm.cfg.Scene.Post(func() {
			if err != nil || r == nil || wm.closed || wm.windows[w.id] != w || w.reads[p] != n {
				return
			}
			w.applyProperty(p, r)
		})
	}()
}

func (w *window) applyProperty(p xproto.Atom, r *xproto.GetPropertyReply) {
	a := &w.wm.atoms
	switch p {
	case xproto.AtomWmName:
		w.wmName = string(r.Value)
		w.titleChanged()
	case a.netWMName:
		w.netWMName = string(r.Value)
		w.titleChanged()
	case xproto.AtomWmClass:
		// instance NUL class NUL
		parts := bytes.Split(bytes.TrimRight(r.Value, "\x00"), []byte{0})
		w.class = string(parts[len(parts)-1])
		if w.xw != nil {
			w.xw.SetAppID(w.class)
		}
	case xproto.AtomWmTransientFor:
		w.transientFor = 0
		if v := values32(r); len(v) > 0 {
			w.transientFor = xproto.Window(v[0])
		}
		w.applyTransient()
	case xproto.AtomWmNormalHints:
		// WM_SIZE_HINTS: flags, 4 obsolete, min w h, max w h, ...
		if v := values32(r); len(v) >= 9 {
			const pMinSize, pMaxSize = 1 << 4, 1 << 5
			if v[0]&pMinSize != 0 {
				w.minSize = image.Pt(int(int32(v[5])), int(int32(v[6])))
			}
			if v[0]&pMaxSize != 0 {
				w.maxSize = image.Pt(int(int32(v[7])), int(int32(v[8])))
			}
		}
		w.applyHints()
	case xproto.AtomWmHints:
		// flags, input, ...: a window that says it takes no input gets
		// only WM_TAKE_FOCUS.
		if v := values32(r); len(v) >= 2 && v[0]&1 != 0 {
			w.acceptsFocus = v[1] != 0
		}
	case a.wmProtocols:
		w.protocols = atomList(r)
	case a.netWMWindowType:
		w.types = atomList(r)
		w.applyHints()
	case a.netWMState:
		states := atomList(r)
		w.wantFullscreen = slices.Contains(states, a.netWMStateFullscreen)
		w.wantMaximized = slices.Contains(states, a.netWMStateMaximizedV) && slices.Contains(states, a.netWMStateMaximizedH)
	}
}

func (w *window) titleChanged() {
	if w.xw == nil {
		return
	}
	if t := w.title(); t != w.xw.Title() {
		w.xw.SetTitle(t)
		if !w.override {
			w.wm.log.Info("X11 window title", "window", w.id, "title", t)
		}
	}
}

func values32(r *xproto.GetPropertyReply) []uint32 {
	if r.Format != 32 {
		return nil
	}
	v := make([]uint32, len(r.Value)/4)
	for i := range v {
		v[i] = xgb.Get32(r.Value[4*i:])
	}
	return v
}

func atomList(r *xproto.GetPropertyReply) []xproto.Atom {
	v := values32(r)
	out := make([]xproto.Atom, len(v))
	for i, a := range v {
		out[i] = xproto.Atom(a)
	}
	return out
}
