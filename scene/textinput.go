package scene

import (
	"image"
	"slices"
	"time"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/inputmethod"
	"github.com/vitrine-wm/vitrine/protocol/textinput"
	"github.com/vitrine-wm/vitrine/protocol/wl"
)

// Text input (zwp_text_input_v3, what GTK, Qt and Chromium speak for a
// focused text field) and the input method (zwp_input_method_v2, the
// privileged client that composes text: an on-screen keyboard or an
// IME). vitrine stands between the two: the text input of the client
// with keyboard focus that is enabled is the active one; the input
// method is activated for it, told its surrounding text and content
// type, and what it commits goes to that text input only. Whether a
// text field wants typing is also what shows or hides an on-screen
// keyboard that has no input method of its own (Config.TextInputActive).

const (
	textInputManagerVersion   = 1
	inputMethodManagerVersion = 1
)

// textInputState is the double-buffered part of a text input, applied
// on zwp_text_input_v3.commit.
type textInputState struct {
	enabled        bool
	surrounding    string
	cursor, anchor int32
	cause          uint32
	hint, purpose  uint32
	rect           image.Rectangle
	surroundingSet bool
	causeSet       bool
	contentSet     bool
	rectSet        bool
}

type textInput struct {
	c   *Compositor
	res *textinput.TextInputV3
	// focus is the surface enter was sent for (nil: none).
	focus            *surface
	pending, current textInputState
	enableChanged    bool
	// commits counts commit requests: done events carry it.
	commits uint32
}

func (c *Compositor) bindTextInputManager(pc *protocol.Client, version, id uint32) error {
	res, err := textinput.NewTextInputManagerV3(pc, id, version)
	if err == nil {
		res.Handler = textInputManager{c}
	}
	return err
}

type textInputManager struct{ c *Compositor }

func (textInputManager) Destroy(*textinput.TextInputManagerV3) error { return nil }

func (m textInputManager) GetTextInput(_ *textinput.TextInputManagerV3, res *textinput.TextInputV3, _ *wl.Seat) error {
	c := m.c
	ti := &textInput{c: c, res: res}
	res.Handler = ti
	c.textInputs = append(c.textInputs, ti)
	res.OnDestroy(func() {
		c.textInputs = slices.DeleteFunc(c.textInputs, func(x *textInput) bool { return x == ti })
		ti.focus = nil
		c.updateInputMethod()
	})
	// A text input made while its client has the keyboard enters at once.
	if s := c.in.kbFocus; s != nil && !s.destroyed && s.res.Client() == res.Client() {
		ti.focus = s
		res.SendEnter(s.res)
	}
	return nil
}

func (ti *textInput) Destroy(*textinput.TextInputV3) error { return nil }

func (ti *textInput) Enable(*textinput.TextInputV3) error {
	// enable resets everything else to its initial value.
	ti.pending = textInputState{enabled: true}
	ti.enableChanged = true
	return nil
}

func (ti *textInput) Disable(*textinput.TextInputV3) error {
	ti.pending.enabled = false
	ti.enableChanged = true
	return nil
}

func (ti *textInput) SetSurroundingText(_ *textinput.TextInputV3, text string, cursor, anchor int32) error {
	// Offsets outside the text would be passed on to the input method
	// as the protocol's uint: clamp them so it sees what it can use.
	n := int32(len(text))
	ti.pending.surrounding = text
	ti.pending.cursor, ti.pending.anchor = max(min(cursor, n), 0), max(min(anchor, n), 0)
	ti.pending.surroundingSet = true
	return nil
}

func (ti *textInput) SetTextChangeCause(_ *textinput.TextInputV3, cause uint32) error {
	ti.pending.cause, ti.pending.causeSet = cause, true
	return nil
}

func (ti *textInput) SetContentType(_ *textinput.TextInputV3, hint, purpose uint32) error {
	ti.pending.hint, ti.pending.purpose, ti.pending.contentSet = hint, purpose, true
	return nil
}

func (ti *textInput) SetCursorRectangle(_ *textinput.TextInputV3, x, y, w, h int32) error {
	ti.pending.rect, ti.pending.rectSet = clampRect(x, y, max(w, 0), max(h, 0)), true
	return nil
}

func (ti *textInput) Commit(*textinput.TextInputV3) error {
	ti.commits++
	p := ti.pending
	cur := &ti.current
	cur.enabled = p.enabled
	if ti.enableChanged && p.enabled {
		// Enabled anew: nothing of the last field carries over.
		*cur = textInputState{enabled: true}
	}
	if p.surroundingSet {
		cur.surrounding, cur.cursor, cur.anchor, cur.surroundingSet = p.surrounding, p.cursor, p.anchor, true
	}
	if p.causeSet {
		cur.cause, cur.causeSet = p.cause, true
	}
	if p.contentSet {
		cur.hint, cur.purpose, cur.contentSet = p.hint, p.purpose, true
	}
	if p.rectSet {
		cur.rect, cur.rectSet = p.rect, true
	}
	changedEnable := ti.enableChanged
	ti.enableChanged = false
	ti.pending = textInputState{enabled: cur.enabled}
	c := ti.c
	if changedEnable {
		// A new activation sends the whole state; so does switching the
		// active text input.
		if c.im != nil && c.im.activeTI == ti {
			c.im.activeTI = nil
		}
		c.updateInputMethod()
		return nil
	}
	if im := c.im; im != nil && im.activeTI == ti {
		im.sendState(ti, p)
		im.placePopups()
	}
	return nil
}

// textInputFocus moves the text inputs' enter/leave with the keyboard.
func (c *Compositor) textInputFocus(s *surface) {
	for _, ti := range c.textInputs {
		if ti.focus != nil && ti.focus != s {
			if !ti.focus.destroyed {
				ti.res.SendLeave(ti.focus.res)
			}
			ti.focus = nil
		}
		if s != nil && ti.focus == nil && ti.res.Client() == s.res.Client() {
			ti.focus = s
			ti.res.SendEnter(s.res)
		}
	}
	c.updateInputMethod()
}

// activeTextInput is the enabled text input on the focused surface.
func (c *Compositor) activeTextInput() *textInput {
	for _, ti := range c.textInputs {
		if ti.focus != nil && !ti.focus.destroyed && ti.current.enabled {
			return ti
		}
	}
	return nil
}

// updateInputMethod activates the input method for the active text
// input, or deactivates it, and tells the on-screen keyboard hook.
func (c *Compositor) updateInputMethod() {
	ti := c.activeTextInput()
	if active := ti != nil; active != c.textInputActive {
		c.textInputActive = active
		c.log.Debug("text input", "active", active)
		if c.onTextInput != nil {
			c.onTextInput(active)
		}
	}
	im := c.im
	if im == nil || im.unavailable || im.activeTI == ti && im.activated == (ti != nil) {
		if im != nil {
			im.activeTI = ti
		}
		return
	}
	c.damagePopups()
	if im.activated {
		im.res.SendDeactivate()
		im.activated = false
		if ti == nil {
			im.done()
		}
	}
	im.activeTI = ti
	if ti != nil {
		im.res.SendActivate()
		im.activated = true
		im.sendState(ti, ti.current)
	}
	im.placePopups()
	c.damagePopups()
}

// --- input method ---

type inputMethod struct {
	c   *Compositor
	res *inputmethod.InputMethodV2
	// unavailable: another input method holds the seat; this one is inert.
	unavailable bool
	activated   bool
	activeTI    *textInput
	dones       uint32
	grab        *inputmethod.InputMethodKeyboardGrabV2
	popups      []*inputPopup

	commitText, preedit       string
	preeditBegin, preeditEnd  int32
	deleteBefore, deleteAfter uint32
	commitSet, preeditSet     bool
	deleteSet                 bool
}

func (c *Compositor) bindInputMethodManager(pc *protocol.Client, version, id uint32) error {
	res, err := inputmethod.NewInputMethodManagerV2(pc, id, version)
	if err == nil {
		res.Handler = inputMethodManager{c}
	}
	return err
}

type inputMethodManager struct{ c *Compositor }

func (inputMethodManager) Destroy(*inputmethod.InputMethodManagerV2) error { return nil }

func (m inputMethodManager) GetInputMethod(_ *inputmethod.InputMethodManagerV2, _ *wl.Seat, res *inputmethod.InputMethodV2) error {
	c := m.c
	im := &inputMethod{c: c, res: res}
	res.Handler = im
	if c.im != nil {
		// One input method per seat: the second is told at once.
		im.unavailable = true
		res.SendUnavailable()
		return nil
	}
	c.im = im
	res.OnDestroy(func() {
		if c.im == im {
			c.im = nil
			c.damagePopups()
		}
	})
	c.updateInputMethod()
	return nil
}

// sendState tells the input method the parts of st that were set, then
// done.
func (im *inputMethod) sendState(ti *textInput, st textInputState) {
	if st.surroundingSet {
		im.res.SendSurroundingText(st.surrounding, uint32(st.cursor), uint32(st.anchor))
	}
	if st.causeSet {
		im.res.SendTextChangeCause(st.cause)
	}
	if st.contentSet {
		im.res.SendContentType(st.hint, st.purpose)
	}
	im.done()
}

func (im *inputMethod) done() {
	im.dones++
	im.res.SendDone()
}

func (im *inputMethod) CommitString(_ *inputmethod.InputMethodV2, text string) error {
	im.commitText, im.commitSet = text, true
	return nil
}

func (im *inputMethod) SetPreeditString(_ *inputmethod.InputMethodV2, text string, begin, end int32) error {
	n := int32(len(text))
	clamp := func(v int32) int32 {
		if v == -1 {
			return -1 // hides the cursor
		}
		return max(min(v, n), 0)
	}
	im.preedit, im.preeditBegin, im.preeditEnd, im.preeditSet = text, clamp(begin), clamp(end), true
	return nil
}

func (im *inputMethod) DeleteSurroundingText(_ *inputmethod.InputMethodV2, before, after uint32) error {
	im.deleteBefore, im.deleteAfter, im.deleteSet = before, after, true
	return nil
}

func (im *inputMethod) Commit(_ *inputmethod.InputMethodV2, serial uint32) error {
	ti := im.activeTI
	defer im.resetPending()
	if im.unavailable || !im.activated || ti == nil || !ti.res.Alive() {
		return nil
	}
	// A commit for an older state (serial behind the done events) is
	// still delivered, as wlroots does: the text was typed.
	if im.preeditSet {
		ti.res.SendPreeditString(im.preedit, im.preeditBegin, im.preeditEnd)
	}
	if im.deleteSet {
		ti.res.SendDeleteSurroundingText(im.deleteBefore, im.deleteAfter)
	}
	if im.commitSet {
		ti.res.SendCommitString(im.commitText)
	}
	ti.res.SendDone(ti.commits)
	return nil
}

func (im *inputMethod) resetPending() {
	im.commitText, im.preedit = "", ""
	im.preeditBegin, im.preeditEnd, im.deleteBefore, im.deleteAfter = 0, 0, 0, 0
	im.commitSet, im.preeditSet, im.deleteSet = false, false, false
}

func (im *inputMethod) GrabKeyboard(r *inputmethod.InputMethodV2, res *inputmethod.InputMethodKeyboardGrabV2) error {
	res.Handler = keyboardGrab{}
	if im.unavailable {
		return nil
	}
	if im.grab != nil && im.grab.Alive() {
		return protocol.NewError(r, 0, "the input method already grabs the keyboard")
	}
	c := im.c
	f, size, err := c.in.keymap.File()
	if err != nil {
		return protocol.NewError(res, protocol.ErrNoMemory, "keymap: %v", err)
	}
	res.SendKeymap(wl.KeyboardKeymapFormatXkbV1, int(f.Fd()), uint32(size))
	f.Close()
	res.SendRepeatInfo(int32(c.in.cfg.RepeatRate), int32(c.in.cfg.RepeatDelay/time.Millisecond))
	m := c.in.keys.Mods()
	res.SendModifiers(c.srv.NextSerial(), m.Depressed, m.Latched, m.Locked, m.Group)
	im.grab = res
	res.OnDestroy(func() {
		if im.grab == res {
			im.grab = nil
		}
	})
	return nil
}

func (im *inputMethod) Destroy(*inputmethod.InputMethodV2) error { return nil }

type keyboardGrab struct{}

func (keyboardGrab) Release(*inputmethod.InputMethodKeyboardGrabV2) error { return nil }

// grabbedKey gives a hardware key to the input method's keyboard grab;
// false when there is no grab to take it.
func (c *Compositor) grabbedKey(code uint32, pressed, modsChanged bool, ms uint32) bool {
	im := c.im
	if im == nil || im.grab == nil || !im.grab.Alive() || !im.activated {
		return false
	}
	state := uint32(wl.KeyboardKeyStateReleased)
	if pressed {
		state = wl.KeyboardKeyStatePressed
	}
	im.grab.SendKey(c.srv.NextSerial(), ms, code, state)
	if modsChanged {
		m := c.in.keys.Mods()
		im.grab.SendModifiers(c.srv.NextSerial(), m.Depressed, m.Latched, m.Locked, m.Group)
	}
	return true
}

// --- input popups: candidate windows shown by the text field ---

type inputPopup struct {
	im      *inputMethod
	res     *inputmethod.InputPopupSurfaceV2
	surface *surface
	// rectSent is the text input rectangle last sent.
	rectSent image.Rectangle
}

func (im *inputMethod) GetInputPopupSurface(r *inputmethod.InputMethodV2, res *inputmethod.InputPopupSurfaceV2, ws *wl.Surface) error {
	s := surfaceOf(ws)
	if s.roleName != "" {
		return protocol.NewError(r, 0, "wl_surface#%d already has role %s", ws.ID(), s.roleName)
	}
	p := &inputPopup{im: im, res: res, surface: s}
	s.roleName, s.role = "zwp_input_popup_surface_v2", p
	res.Handler = p
	im.popups = append(im.popups, p)
	res.OnDestroy(func() {
		im.c.damageSurfaceArea(s)
		im.popups = slices.DeleteFunc(im.popups, func(x *inputPopup) bool { return x == p })
		if s.role == surfaceRole(p) {
			s.role = nil
		}
	})
	im.placePopups()
	return nil
}

func (p *inputPopup) Destroy(*inputmethod.InputPopupSurfaceV2) error { return nil }

func (p *inputPopup) precommit(*surface) error { return nil }

func (p *inputPopup) committed(s *surface) { p.im.c.damageSurfaceArea(s) }

// placePopups tells each popup where the text cursor is, in the text
// field's surface coordinates.
func (im *inputMethod) placePopups() {
	ti := im.activeTI
	if ti == nil {
		return
	}
	for _, p := range im.popups {
		if r := ti.current.rect; r != p.rectSent || p.rectSent.Empty() {
			p.rectSent = r
			p.res.SendTextInputRectangle(int32(r.Min.X), int32(r.Min.Y), int32(r.Dx()), int32(r.Dy()))
		}
	}
}

// origin is where the popup is shown: just below the text cursor, kept
// on the output; ok is false while the input method is inactive.
func (p *inputPopup) origin() (image.Point, *output, bool) {
	im := p.im
	c := im.c
	if c.im != im || !im.activated || im.activeTI == nil || im.activeTI.focus == nil {
		return image.Point{}, nil, false
	}
	fo, o, ok := c.surfaceOrigin(im.activeTI.focus)
	if !ok {
		return image.Point{}, nil, false
	}
	r := im.activeTI.current.rect.Add(fo)
	at := image.Pt(r.Min.X, r.Max.Y)
	b := o.bounds()
	at.X = max(min(at.X, b.Max.X-p.surface.width), b.Min.X)
	if at.Y+p.surface.height > b.Max.Y {
		at.Y = r.Min.Y - p.surface.height // above the cursor instead
	}
	at.Y = max(at.Y, b.Min.Y)
	return at, o, true
}

// appendInputPopups adds the input method's popups shown on o, above
// everything else.
func (c *Compositor) appendInputPopups(list []drawItem, o *output) []drawItem {
	if c.im == nil {
		return list
	}
	for _, p := range c.im.popups {
		if at, po, ok := p.origin(); ok && po == o {
			list = c.appendTree(list, p.surface, at.Sub(o.pos))
		}
	}
	return list
}

// damagePopups repaints where the input method's popups are shown.
func (c *Compositor) damagePopups() {
	if c.im == nil {
		return
	}
	for _, p := range c.im.popups {
		c.damageSurfaceArea(p.surface)
	}
}
