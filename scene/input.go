package scene

import (
	"encoding/binary"
	"image"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/eventloop"
	"github.com/vitrine-wm/vitrine/protocol/wl"
	"github.com/vitrine-wm/vitrine/render"
	"github.com/vitrine-wm/vitrine/seat/inputevent"
	"github.com/vitrine-wm/vitrine/seat/xkb"
)

// InputConfig is how the compositor treats input devices.
type InputConfig struct {
	Keymap *xkb.Keymap // nil: the built-in US keymap
	// RepeatRate (keys per second) and RepeatDelay go to clients.
	RepeatRate  int
	RepeatDelay time.Duration
	// SwitchVT changes virtual terminals (Ctrl+Alt+F1..F12); nil disables
	// the binding.
	SwitchVT func(vt int) error
	// QuitKey enables Ctrl+Alt+Backspace.
	QuitKey bool
	// HideCursor never shows a cursor (touch kiosks).
	HideCursor bool
	// NoWindowBindings turns off the desktop layout's bindings (Alt+Tab,
	// Super+Q, Super+drag...), for sessions whose clients want those
	// keys and buttons themselves.
	NoWindowBindings bool
	// CursorTheme, CursorSize and CursorPath say where the cursors
	// clients name by shape come from (XCURSOR_THEME, XCURSOR_SIZE,
	// XCURSOR_PATH); "" and 0 mean "default" and 24.
	CursorTheme string
	CursorSize  int
	CursorPath  []string
}

// inputState is the seat as the scene sees it: devices, focus, pointer.
type inputState struct {
	cfg    InputConfig
	keymap *xkb.Keymap
	keys   *xkb.KeyState
	devs   map[string]inputDevice
	caps   uint32

	seats     []*wl.Seat
	keyboards []*wl.Keyboard
	// keymapSent is the keymap each keyboard was last sent: a keyboard
	// switch (a virtual keyboard typing) reaches the focused client only,
	// the others get it when they get focus. Sending wtype's or wvkbd's
	// small keymap to every client made Xwayland re-map the X keyboard,
	// and xterm in the background died on it (BadValue).
	keymapSent map[*wl.Keyboard]*xkb.Keymap
	pointers   []*wl.Pointer
	touches    []*wl.Touch

	kbFocus *surface
	// layerFocus is an on-demand layer surface the user pressed on; it
	// has the keyboard until the user presses elsewhere.
	layerFocus *layerSurface
	// enterSerial is the serial of the last wl_pointer.enter.
	enterSerial uint32
	// shapes are the cursor-shape cursors loaded so far.
	shapes      map[shapeKey]*surface
	themeWarned bool
	// serials are the last presses' serials, a ring (activation tokens).
	serials    [inputSerials]inputSerial
	nextSerial int
	// vkActive is the virtual keyboard whose keymap clients have (nil:
	// the seat's own).
	vkActive *virtualKeyboard

	// Pointer position in global layout coordinates.
	pointer     [2]float64
	ptrFocus    *surface
	ptrFocusPos image.Point // focus surface origin, global
	cursor      *surface
	cursorHot   image.Point
	cursorShown bool
	cursorDirty bool // the cursor image changed since the planes loaded it
	buttons     []uint32
	// grabSerial is the serial of the press that started the implicit
	// grab: a drag must start with it.
	grabSerial   uint32
	pendingFrame bool
	// grab is the move or resize the pointer is doing (desktop layout).
	grab *grab

	// swallowed are keys whose press ran a binding; their release is not
	// the client's business either.
	swallowed []uint32

	touchFocus   map[int32]touchPoint
	touchFrameTo []touchPoint

	// Scratch reused by every motion event, which must not allocate
	// (a mouse reports up to 1000 times a second).
	focusedPtrs []*wl.Pointer
	hitList     []drawItem
}

// inputDevice is a device the seat reported; paused ones are closed for
// a session pause and still count, so clients do not see the seat's
// capabilities flicker on every VT switch.
type inputDevice struct {
	caps   inputevent.DeviceCaps
	paused bool
	// missingOutput is the output the device is mapped to that was not
	// there when it was last used, logged once.
	missingOutput string
}

type touchPoint struct {
	s      *surface
	origin image.Point
	// touches got the down; a wl_touch bound later must not see the
	// point's motion or up without its down.
	touches []*wl.Touch
}

// alive lists the point's wl_touch objects that still exist.
func (tp touchPoint) alive() []*wl.Touch {
	out := tp.touches[:0:0]
	for _, t := range tp.touches {
		if t.Alive() {
			out = append(out, t)
		}
	}
	return out
}

// ConfigureInput sets the keymap and key bindings; call before Run.
func (c *Compositor) ConfigureInput(cfg InputConfig) {
	if cfg.Keymap == nil {
		cfg.Keymap = xkb.USKeymap()
	}
	if cfg.RepeatRate == 0 {
		cfg.RepeatRate = xkb.DefaultRepeatRate
	}
	if cfg.RepeatDelay == 0 {
		cfg.RepeatDelay = xkb.DefaultRepeatDelay
	}
	c.in.cfg = cfg
	c.in.shapes = map[shapeKey]*surface{}
	c.in.keymap = cfg.Keymap
	c.in.keys = cfg.Keymap.NewState()
}

func (c *Compositor) initInput() {
	c.in.devs = map[string]inputDevice{}
	c.in.touchFocus = map[int32]touchPoint{}
	c.ConfigureInput(InputConfig{QuitKey: true})
}

func (c *Compositor) bindSeat(pc *protocol.Client, version, id uint32) error {
	res, err := wl.NewSeat(pc, id, version)
	if err != nil {
		return err
	}
	res.Handler = seatHandler{c}
	c.in.seats = append(c.in.seats, res)
	res.OnDestroy(func() { c.in.seats = slices.DeleteFunc(c.in.seats, func(x *wl.Seat) bool { return x == res }) })
	res.SendCapabilities(c.in.caps)
	res.SendName("seat0")
	return nil
}

type seatHandler struct{ c *Compositor }

func (h seatHandler) GetPointer(_ *wl.Seat, res *wl.Pointer) error {
	in := &h.c.in
	res.Handler = pointerHandler{h.c}
	in.pointers = append(in.pointers, res)
	res.OnDestroy(func() { in.pointers = slices.DeleteFunc(in.pointers, func(x *wl.Pointer) bool { return x == res }) })
	if s := in.ptrFocus; s != nil && s.res.Client() == res.Client() {
		x, y := in.pointer[0]-float64(in.ptrFocusPos.X), in.pointer[1]-float64(in.ptrFocusPos.Y)
		in.enterSerial = h.c.srv.NextSerial()
		res.SendEnter(in.enterSerial, s.res, protocol.FixedFromFloat(x), protocol.FixedFromFloat(y))
		res.SendFrame()
	}
	return nil
}

func (h seatHandler) GetKeyboard(_ *wl.Seat, res *wl.Keyboard) error {
	in := &h.c.in
	res.Handler = keyboardHandler{}
	in.keyboards = append(in.keyboards, res)
	res.OnDestroy(func() {
		in.keyboards = slices.DeleteFunc(in.keyboards, func(x *wl.Keyboard) bool { return x == res })
		delete(in.keymapSent, res)
	})
	// A client without focus gets the seat's keymap even while a
	// virtual keyboard types: it is sent the active one with its enter.
	km := in.keymap
	if s := in.kbFocus; s != nil && s.res.Client() == res.Client() {
		km = h.c.activeKeymap()
	}
	if err := h.c.sendKeymapOf(res, km); err != nil {
		return protocol.NewError(res, protocol.ErrNoMemory, "keymap: %v", err)
	}
	res.SendRepeatInfo(int32(in.cfg.RepeatRate), int32(in.cfg.RepeatDelay/time.Millisecond))
	if s := in.kbFocus; s != nil && s.res.Client() == res.Client() {
		h.c.keyboardEnter(res, s)
	}
	return nil
}

func (h seatHandler) GetTouch(_ *wl.Seat, res *wl.Touch) error {
	in := &h.c.in
	res.Handler = touchHandler{}
	in.touches = append(in.touches, res)
	res.OnDestroy(func() { in.touches = slices.DeleteFunc(in.touches, func(x *wl.Touch) bool { return x == res }) })
	return nil
}

func (seatHandler) Release(*wl.Seat) error { return nil }

type pointerHandler struct{ c *Compositor }

// SetCursor gives the pointer the client's cursor image while the
// client has pointer focus.
func (h pointerHandler) SetCursor(r *wl.Pointer, serial uint32, ws *wl.Surface, hx, hy int32) error {
	in := &h.c.in
	if in.ptrFocus == nil || in.ptrFocus.res.Client() != r.Client() {
		return nil
	}
	var s *surface
	if ws != nil {
		s = surfaceOf(ws)
		if s.roleName != "" && s.roleName != "wl_pointer-cursor" {
			return protocol.NewError(r, wl.PointerErrorRole, "wl_surface#%d already has role %s", ws.ID(), s.roleName)
		}
		s.roleName, s.role = "wl_pointer-cursor", cursorRole{h.c}
	}
	h.c.damageCursor()
	in.cursor, in.cursorHot = s, image.Pt(int(hx), int(hy))
	h.c.cursorImageChanged()
	h.c.damageCursor()
	return nil
}

func (pointerHandler) Release(*wl.Pointer) error { return nil }

type cursorRole struct{ c *Compositor }

func (cursorRole) precommit(*surface) error { return nil }
func (r cursorRole) committed(s *surface) {
	if r.c.in.cursor != s {
		return
	}
	r.c.cursorImageChanged()
	r.c.damageCursor()
	if len(s.frames) > 0 || len(s.feedbacks) > 0 {
		// No draw list carries a cursor on a plane: its frame
		// callbacks need a frame of their own.
		for _, o := range r.c.outputs {
			if o.cursor.on {
				o.wantFrame = true
			}
		}
	}
}

type keyboardHandler struct{}

func (keyboardHandler) Release(*wl.Keyboard) error { return nil }

type touchHandler struct{}

func (touchHandler) Release(*wl.Touch) error { return nil }

// HandleInput applies one input event; call it on the loop.
func (c *Compositor) HandleInput(ev inputevent.Event) {
	in := &c.in
	ms := uint32(ev.When() / time.Millisecond)
	switch e := ev.(type) {
	case inputevent.DeviceAdded:
		in.devs[e.Source()] = inputDevice{caps: e.Caps}
		c.updateCaps()
	case inputevent.DeviceRemoved:
		if e.Paused {
			in.devs[e.Source()] = inputDevice{caps: e.Caps, paused: true}
		} else {
			delete(in.devs, e.Source())
		}
		c.updateCaps()
	case inputevent.DevicesRescanned:
		for src, d := range in.devs {
			if d.paused {
				delete(in.devs, src)
			}
		}
		c.updateCaps()
	case inputevent.Key:
		c.noteActivity()
		c.handleKey(e.Code, e.Pressed, ms)
	case inputevent.PointerMotion:
		c.noteActivity()
		c.relativeMotion(e)
		if k := c.activeConstraint(); k != nil && k.locked != nil {
			break
		}
		x, y := c.constrain(in.pointer[0]+e.DX, in.pointer[1]+e.DY)
		c.movePointer(x, y, ms)
	case inputevent.PointerAbs:
		c.noteActivity()
		if k := c.activeConstraint(); k != nil && k.locked != nil {
			break
		}
		if o := c.mappedOutput(e.Source(), e.Output); o != nil {
			x, y := c.constrain(o.panelToGlobal(e.X, e.Y))
			c.movePointer(x, y, ms)
		}
	case inputevent.Button:
		c.noteActivity()
		c.handleButton(e.Code, e.Pressed, ms)
	case inputevent.Axis:
		c.noteActivity()
		c.handleAxis(e, ms, wl.PointerAxisSourceWheel)
	case inputevent.Frame:
		if in.pendingFrame {
			for _, p := range c.focusedPointers() {
				p.SendFrame()
			}
			in.pendingFrame = false
		}
	case inputevent.TouchDown:
		c.noteActivity()
		c.touchDown(e, ms)
	case inputevent.TouchMotion:
		c.noteActivity()
		c.touchMotion(e, ms)
	case inputevent.TouchUp:
		c.touchUp(e, ms)
	case inputevent.TouchFrame:
		c.touchFrame()
	}
}

func (c *Compositor) updateCaps() {
	var caps uint32
	for _, dev := range c.in.devs {
		d := dev.caps
		if d.Pointer {
			caps |= wl.SeatCapabilityPointer
		}
		if d.Keyboard {
			caps |= wl.SeatCapabilityKeyboard
		}
		if d.Touch {
			caps |= wl.SeatCapabilityTouch
		}
	}
	if caps == c.in.caps {
		return
	}
	c.in.caps = caps
	c.seatCaps = caps
	for _, s := range c.in.seats {
		s.SendCapabilities(caps)
	}
	// A new pointer device shows no cursor until it moves: HDMI-CEC
	// adapters and some remotes claim to be pointers and never move, and
	// a kiosk should not show an arrow in the middle of its screen.
	if caps&wl.SeatCapabilityPointer == 0 {
		c.setCursorVisible(false)
	}
}

// outputNamed is the output called name, the first one for "".
func (c *Compositor) outputNamed(name string) *output {
	if name == "" {
		return c.primaryOutput()
	}
	for _, o := range c.outputs {
		if o.dev.Name() == name {
			return o
		}
	}
	return nil
}

// mappedOutput is the output an absolute device's position is on: the
// one named (--map-input, udev's WL_OUTPUT, a wayland backend window),
// or the first while no output has that name, which is logged once per
// device and output name.
func (c *Compositor) mappedOutput(device, name string) *output {
	if o := c.outputNamed(name); o != nil {
		return o
	}
	first := c.primaryOutput()
	if first == nil {
		return nil
	}
	d, known := c.in.devs[device]
	if !known || d.missingOutput != name {
		c.log.Warn("input: the device's output is not connected; using the first output", "device", device,
			"output", name, "using", first.dev.Name(), "event", "input.output_missing")
		if known {
			d.missingOutput = name
			c.in.devs[device] = d
		}
	}
	return first
}

func (c *Compositor) primaryOutput() *output {
	if len(c.outputs) == 0 {
		return nil
	}
	return c.outputs[0]
}

// panelToGlobal maps a normalized position on the physical panel of o
// to global layout coordinates: the panel shows the shadow transformed
// by the output transform, so the inverse transform brings it back.
func (o *output) panelToGlobal(nx, ny float64) (float64, float64) {
	w, h, _ := o.dev.Mode()
	px, py := nx*float64(w), ny*float64(h)
	lx, ly := untransform(o.dev.Transform(), px, py, float64(w), float64(h))
	if o.scale != scaleDenom {
		// Panel pixels to logical units.
		lx, ly = lx*scaleDenom/float64(o.scale), ly*scaleDenom/float64(o.scale)
	}
	return float64(o.pos.X) + lx, float64(o.pos.Y) + ly
}

// untransform maps a point of a w×h framebuffer back to the logical
// image that the output transform t turned into it; the continuous
// counterpart of render.Transform.Point, inverted.
func untransform(t render.Transform, x, y, w, h float64) (float64, float64) {
	lw, lh := w, h
	if t&1 == 1 {
		lw, lh = h, w
	}
	switch t {
	case render.Rotate90:
		return lw - y, x
	case render.Rotate180:
		return lw - x, lh - y
	case render.Rotate270:
		return y, lh - x
	case render.Flipped:
		return lw - x, y
	case render.Flipped90:
		return y, x
	case render.Flipped180:
		return x, lh - y
	case render.Flipped270:
		return lw - y, lh - x
	}
	return x, y
}

// layoutBounds is the union of all outputs.
func (c *Compositor) layoutBounds() image.Rectangle {
	var b image.Rectangle
	for _, o := range c.outputs {
		b = b.Union(o.bounds())
	}
	return b
}

func (c *Compositor) movePointer(x, y float64, ms uint32) {
	in := &c.in
	x, y, ok := c.clampToLayout(x, y)
	if !ok {
		return
	}
	c.damageCursor()
	c.damageDragIcon()
	in.pointer = [2]float64{x, y}
	c.setCursorVisible(true)
	c.damageCursor()
	c.damageDragIcon()
	c.updatePointerFocus(ms)
}

// clampToLayout moves (x, y) to the nearest point inside the outputs'
// bounds; ok is false when there are no outputs.
func (c *Compositor) clampToLayout(x, y float64) (float64, float64, bool) {
	b := c.layoutBounds()
	if b.Empty() {
		return x, y, false
	}
	x = math.Max(float64(b.Min.X), math.Min(x, float64(b.Max.X)-1))
	y = math.Max(float64(b.Min.Y), math.Min(y, float64(b.Max.Y)-1))
	return x, y, true
}

// updatePointerFocus sends enter/leave/motion for the surface under the
// pointer.
func (c *Compositor) updatePointerFocus(ms uint32) {
	in := &c.in
	defer c.updateConstraints()
	if c.sel.drag != nil {
		c.dragMotion(ms)
		return
	}
	if in.grab != nil {
		c.grabMotion()
		return
	}
	if len(in.buttons) > 0 && in.ptrFocus != nil && !in.ptrFocus.destroyed {
		// An implicit grab: while a button is held, the surface that got
		// the press keeps the pointer.
		c.sendMotion(ms)
		return
	}
	s, origin := c.surfaceAt(in.pointer[0], in.pointer[1])
	if s != in.ptrFocus {
		serial := c.srv.NextSerial()
		if in.ptrFocus != nil && in.cursor != nil {
			c.damageCursor()
			in.cursor = nil
		}
		c.pointerLeave(serial)
		in.ptrFocus, in.ptrFocusPos = s, origin
		in.enterSerial = serial
		if s != nil {
			lx, ly := in.pointer[0]-float64(origin.X), in.pointer[1]-float64(origin.Y)
			for _, p := range c.focusedPointers() {
				p.SendEnter(serial, s.res, protocol.FixedFromFloat(lx), protocol.FixedFromFloat(ly))
			}
			in.pendingFrame = true
		}
		return
	}
	in.ptrFocusPos = origin
	c.sendMotion(ms)
}

func (c *Compositor) sendMotion(ms uint32) {
	in := &c.in
	if in.ptrFocus == nil {
		return
	}
	lx, ly := in.pointer[0]-float64(in.ptrFocusPos.X), in.pointer[1]-float64(in.ptrFocusPos.Y)
	for _, p := range c.focusedPointers() {
		p.SendMotion(ms, protocol.FixedFromFloat(lx), protocol.FixedFromFloat(ly))
	}
	in.pendingFrame = true
}

// focusedPointers are the wl_pointers of the client with pointer focus,
// in a buffer that the next call reuses: iterate it, don't keep it.
func (c *Compositor) focusedPointers() []*wl.Pointer {
	s := c.in.ptrFocus
	if s == nil || s.destroyed {
		return nil
	}
	out := c.in.focusedPtrs[:0]
	for _, p := range c.in.pointers {
		if p.Client() == s.res.Client() {
			out = append(out, p)
		}
	}
	c.in.focusedPtrs = out
	return out
}

func (c *Compositor) handleButton(code uint32, pressed bool, ms uint32) {
	in := &c.in
	if pressed {
		in.buttons = append(in.buttons, code)
		if len(in.buttons) == 1 && in.ptrFocus != nil {
			c.focusLayerOnInput(in.ptrFocus)
		}
	} else {
		in.buttons = slices.DeleteFunc(in.buttons, func(b uint32) bool { return b == code })
	}
	if c.sel.drag != nil {
		// The drag has the pointer; releasing the last button drops.
		if len(in.buttons) == 0 {
			c.dragDrop()
		}
		return
	}
	if !c.lock.active && c.desktop() && c.desktopButton(code, pressed, ms) {
		return
	}
	state := uint32(wl.PointerButtonStateReleased)
	if pressed {
		state = wl.PointerButtonStatePressed
	}
	serial := c.srv.NextSerial()
	if pressed && len(in.buttons) == 1 {
		in.grabSerial = serial
	}
	for _, p := range c.focusedPointers() {
		p.SendButton(serial, ms, code, state)
	}
	if pressed && in.ptrFocus != nil && !in.ptrFocus.destroyed {
		c.noteInputSerial(serial, in.ptrFocus.res.Client())
	}
	in.pendingFrame = true
	if !pressed && len(in.buttons) == 0 {
		c.updatePointerFocus(ms)
	}
}

// handleAxis sends scrolling from a device of the given
// wl_pointer.axis_source.
func (c *Compositor) handleAxis(e inputevent.Axis, ms uint32, source uint32) {
	for _, p := range c.focusedPointers() {
		axis := uint32(e.Orientation)
		if p.Version() >= 5 && (source != wl.PointerAxisSourceWheelTilt || p.Version() >= 6) {
			p.SendAxisSource(source)
		}
		if e.Value120 != 0 && p.Version() >= 8 {
			p.SendAxisValue120(axis, e.Value120)
		} else if e.Discrete != 0 && p.Version() >= 5 {
			p.SendAxisDiscrete(axis, e.Discrete)
		}
		p.SendAxis(ms, axis, protocol.FixedFromFloat(e.Value))
	}
	c.in.pendingFrame = true
}

// surfaceAt finds the topmost surface accepting input at a global point.
func (c *Compositor) surfaceAt(x, y float64) (*surface, image.Point) {
	pt := image.Pt(int(math.Floor(x)), int(math.Floor(y)))
	for _, o := range c.outputs {
		if !pt.In(o.bounds()) {
			continue
		}
		list := c.appendDrawList(c.in.hitList[:0], o)
		c.in.hitList = list
		for i := len(list) - 1; i >= 0; i-- {
			it := list[i]
			origin := it.pos.Add(o.pos)
			local := pt.Sub(origin)
			if !local.In(it.s.sizeRect()) {
				continue
			}
			if it.s.input != nil && !it.s.input.contains(local) {
				continue
			}
			return it.s, origin
		}
	}
	return nil, image.Point{}
}

// --- keyboard ---

// handleKey takes a key of the seat's own keyboards.
func (c *Compositor) handleKey(code uint32, pressed bool, ms uint32) {
	c.useKeyboard(nil)
	changed := c.in.keys.Update(code, pressed)
	c.deliverKey(code, pressed, ms, changed)
}

// deliverKey runs a binding for a key, or sends the key to the client
// with keyboard focus; the active keyboard's state already has it.
func (c *Compositor) deliverKey(code uint32, pressed bool, ms uint32, modsChanged bool) {
	in := &c.in
	if pressed && c.keyBinding(c.activeKeymap().Keysym(code), c.keyMods().Effective()) {
		in.swallowed = append(in.swallowed, code)
		return
	}
	if !pressed {
		if i := slices.Index(in.swallowed, code); i >= 0 {
			in.swallowed = slices.Delete(in.swallowed, i, i+1)
			return
		}
	}
	// The input method grabs the seat's own keys only: a virtual
	// keyboard (maybe the input method's own) types straight through.
	if c.in.vkActive == nil && c.grabbedKey(code, pressed, modsChanged, ms) {
		return
	}
	if s := in.kbFocus; s != nil && !s.destroyed {
		state := uint32(wl.KeyboardKeyStateReleased)
		if pressed {
			state = wl.KeyboardKeyStatePressed
		}
		serial := c.srv.NextSerial()
		for _, k := range c.focusedKeyboards() {
			k.SendKey(serial, ms, code, state)
		}
		if pressed {
			c.noteInputSerial(serial, s.res.Client())
		}
		if modsChanged {
			c.sendModifiers()
		}
	}
}

// keyBinding runs vitrine's own bindings for the key with level-one
// keysym sym under the real modifiers mods. Keysyms rather than key
// codes, because a virtual keyboard's codes mean what its keymap says.
func (c *Compositor) keyBinding(sym string, mods uint32) bool {
	cfg := c.in.cfg
	ctrlAlt := mods&xkb.ModControl != 0 && mods&xkb.ModMod1 != 0
	if !ctrlAlt {
		if c.lock.active {
			// Behind a lock screen no binding may close, raise or
			// cycle the session's windows: the keys are the lock's.
			return false
		}
		return c.desktopBinding(sym, mods)
	}
	switch {
	case sym == "BackSpace" && cfg.QuitKey && c.lock.active:
		// Quitting would end the session the lock protects and drop the
		// user to the console vitrine was started from.
		c.log.Info("Ctrl+Alt+Backspace ignored: the session is locked")
		return false
	case sym == "BackSpace" && cfg.QuitKey:
		c.log.Info("Ctrl+Alt+Backspace: quitting", "event", "quit.key")
		c.Stop(nil)
		return true
	case cfg.SwitchVT != nil && len(sym) >= 2 && sym[0] == 'F':
		vt, err := strconv.Atoi(sym[1:])
		if err != nil || vt < 1 || vt > 12 {
			return false
		}
		c.switchVT(vt)
		return true
	}
	return false
}

// activeKeymap is the keymap clients were last sent: the seat's, or
// that of the virtual keyboard typing.
func (c *Compositor) activeKeymap() *xkb.Keymap {
	if vk := c.in.vkActive; vk != nil {
		return vk.keymap
	}
	return c.in.keymap
}

// keyMods is the active keyboard's modifier state.
func (c *Compositor) keyMods() xkb.ModState {
	if vk := c.in.vkActive; vk != nil {
		return vk.mods
	}
	return c.in.keys.Mods()
}

// keysHeld is what the active keyboard holds down.
func (c *Compositor) keysHeld() []uint32 {
	if vk := c.in.vkActive; vk != nil {
		return vk.held
	}
	return c.in.keys.Pressed()
}

// useKeyboard makes vk (nil: the seat's keyboards) the one whose keys
// clients get, sending its keymap and modifiers when that changes.
func (c *Compositor) useKeyboard(vk *virtualKeyboard) {
	if c.in.vkActive == vk {
		return
	}
	c.in.vkActive = vk
	c.sendKeymapToFocused()
	c.sendModifiers()
}

// sendKeymapToFocused gives the client with keyboard focus the active
// keymap (the one its keys are in); others get it with their next
// enter (keyboardEnter).
func (c *Compositor) sendKeymapToFocused() {
	for _, k := range c.focusedKeyboards() {
		if err := c.sendKeymapIfChanged(k); err != nil {
			c.log.Warn("send keymap", "err", err)
			return
		}
	}
}

func (c *Compositor) sendKeymapIfChanged(k *wl.Keyboard) error {
	if c.in.keymapSent[k] == c.activeKeymap() {
		return nil
	}
	return c.sendKeymap(k)
}

func (c *Compositor) sendKeymap(k *wl.Keyboard) error {
	return c.sendKeymapOf(k, c.activeKeymap())
}

func (c *Compositor) sendKeymapOf(k *wl.Keyboard, km *xkb.Keymap) error {
	f, size, err := km.File()
	if err != nil {
		return err
	}
	defer f.Close()
	k.SendKeymap(wl.KeyboardKeymapFormatXkbV1, int(f.Fd()), uint32(size))
	if c.in.keymapSent == nil {
		c.in.keymapSent = map[*wl.Keyboard]*xkb.Keymap{}
	}
	c.in.keymapSent[k] = km
	return nil
}

func (c *Compositor) switchVT(vt int) {
	if err := c.in.cfg.SwitchVT(vt); err != nil {
		c.log.Warn("switch VT", "vt", vt, "err", err, "event", "vt.switch_failed")
	}
}

func (c *Compositor) focusedKeyboards() []*wl.Keyboard {
	s := c.in.kbFocus
	if s == nil {
		return nil
	}
	var out []*wl.Keyboard
	for _, k := range c.in.keyboards {
		if k.Client() == s.res.Client() {
			out = append(out, k)
		}
	}
	return out
}

func (c *Compositor) sendModifiers() {
	m := c.keyMods()
	serial := c.srv.NextSerial()
	for _, k := range c.focusedKeyboards() {
		k.SendModifiers(serial, m.Depressed, m.Latched, m.Locked, m.Group)
	}
}

// pointerLeave tells the client with pointer focus the pointer left its
// surface, and drops the focus (what replaces it is the caller's).
func (c *Compositor) pointerLeave(serial uint32) {
	in := &c.in
	for _, p := range c.focusedPointers() {
		p.SendLeave(serial, in.ptrFocus.res)
		p.SendFrame()
	}
	in.ptrFocus = nil
}

func (c *Compositor) keyboardEnter(k *wl.Keyboard, s *surface) {
	if err := c.sendKeymapIfChanged(k); err != nil {
		c.log.Warn("send keymap", "err", err)
	}
	var keys []byte
	for _, code := range c.keysHeld() {
		keys = binary.LittleEndian.AppendUint32(keys, code)
	}
	k.SendEnter(c.srv.NextSerial(), s.res, keys)
	m := c.keyMods()
	k.SendModifiers(c.srv.NextSerial(), m.Depressed, m.Latched, m.Locked, m.Group)
}

// setKeyboardFocus moves keyboard focus (kiosk: the topmost toplevel).
func (c *Compositor) setKeyboardFocus(s *surface) {
	in := &c.in
	if c.lock.active && s != nil && !c.isLockSurface(s) {
		// Nothing but the lock screen takes keys while locked.
		s = c.lockFocus()
	}
	if in.kbFocus == s {
		return
	}
	if old := in.kbFocus; old != nil && !old.destroyed {
		serial := c.srv.NextSerial()
		for _, k := range c.focusedKeyboards() {
			k.SendLeave(serial, old.res)
		}
	}
	in.kbFocus = s
	c.selectionFocusChanged()
	if s != nil {
		for _, k := range c.focusedKeyboards() {
			c.keyboardEnter(k, s)
		}
	}
	c.textInputFocus(s)
}

// --- touch ---

func (c *Compositor) touchPoint(device, output string, nx, ny float64) (float64, float64) {
	o := c.mappedOutput(device, output)
	if o == nil {
		return 0, 0
	}
	return o.panelToGlobal(nx, ny)
}

func (c *Compositor) touchesOf(s *surface) []*wl.Touch {
	var out []*wl.Touch
	for _, t := range c.in.touches {
		if t.Client() == s.res.Client() {
			out = append(out, t)
		}
	}
	return out
}

func (c *Compositor) touchDown(e inputevent.TouchDown, ms uint32) {
	x, y := c.touchPoint(e.Source(), e.Output, e.X, e.Y)
	// Touch hides the cursor until the pointer moves again.
	c.setCursorVisible(false)
	s, origin := c.surfaceAt(x, y)
	if s == nil {
		return
	}
	if t := c.toplevelOf(s); c.desktop() && t != nil && t != c.topToplevel() {
		// A touch focuses and raises as a click does; the point stays
		// with the surface it went down on.
		c.raise(t)
	}
	c.focusLayerOnInput(s)
	tp := touchPoint{s: s, origin: origin, touches: c.touchesOf(s)}
	c.in.touchFocus[e.ID] = tp
	serial := c.srv.NextSerial()
	c.noteInputSerial(serial, s.res.Client())
	for _, t := range tp.touches {
		t.SendDown(serial, ms, s.res, e.ID, protocol.FixedFromFloat(x-float64(origin.X)), protocol.FixedFromFloat(y-float64(origin.Y)))
	}
}

func (c *Compositor) touchMotion(e inputevent.TouchMotion, ms uint32) {
	tp, ok := c.in.touchFocus[e.ID]
	if !ok || tp.s.destroyed {
		return
	}
	x, y := c.touchPoint(e.Source(), e.Output, e.X, e.Y)
	for _, t := range tp.alive() {
		t.SendMotion(ms, e.ID, protocol.FixedFromFloat(x-float64(tp.origin.X)), protocol.FixedFromFloat(y-float64(tp.origin.Y)))
	}
}

func (c *Compositor) touchUp(e inputevent.TouchUp, ms uint32) {
	tp, ok := c.in.touchFocus[e.ID]
	if !ok {
		return
	}
	delete(c.in.touchFocus, e.ID)
	if tp.s.destroyed {
		return
	}
	serial := c.srv.NextSerial()
	for _, t := range tp.alive() {
		t.SendUp(serial, ms, e.ID)
	}
	c.in.touchFrameTo = append(c.in.touchFrameTo, tp)
}

func (c *Compositor) touchFrame() {
	var sent []*wl.Touch
	targets := c.in.touchFrameTo
	for _, tp := range c.in.touchFocus {
		targets = append(targets, tp)
	}
	for _, tp := range targets {
		for _, t := range tp.alive() {
			if !slices.Contains(sent, t) {
				sent = append(sent, t)
				t.SendFrame()
			}
		}
	}
	c.in.touchFrameTo = c.in.touchFrameTo[:0]
}

// --- cursor ---

func (c *Compositor) setCursorVisible(v bool) {
	v = v && c.in.caps&wl.SeatCapabilityPointer != 0 && !c.in.cfg.HideCursor
	if c.in.cursorShown == v {
		return
	}
	c.damageCursor()
	c.in.cursorShown = v
	c.damageCursor()
}

// focusChanged keeps keyboard focus on the topmost toplevel and the
// pointer on what is under it after the stacking changed.
func (c *Compositor) focusChanged() {
	var top *surface
	if c.lock.active {
		top = c.lockFocus()
	} else if t := c.topToplevel(); t != nil {
		top = t.xs.surface
	}
	if ls := c.keyboardLayer(); ls != nil {
		top = ls.surface
	}
	c.setKeyboardFocus(top)
	if len(c.in.buttons) == 0 {
		c.updatePointerFocus(uint32(eventloop.Now() / time.Millisecond))
	}
}
