package scene

import (
	"errors"
	"fmt"
	"image"
	"slices"
	"time"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/outputmgmt"
	"github.com/vitrine-wm/vitrine/protocol/wl"
	"github.com/vitrine-wm/vitrine/render"
	"github.com/vitrine-wm/vitrine/scene/present"
)

// wlr-output-management: what wlr-randr and kanshi use to list outputs
// and change them. Every output is a head; a client builds a
// configuration naming every head, then tests or applies it. vitrine
// changes what the output's backend can change while running (see
// ModeSetter and TransformSetter) and answers failed, with a log line
// saying why, for everything else.

// Mode is a display mode in unrotated pixels. It is present's, so the
// outputs (kms, headless) offer their modes without importing scene.
type Mode = present.Mode

// ModeSetter is an Output whose mode can change while it runs.
type ModeSetter interface {
	// Modes lists the modes the display offers, the preferred one first.
	Modes() []Mode
	// SetMode switches the display to m, one of Modes or, where the
	// output accepts any size, a custom one. Shadow then has the new
	// size.
	SetMode(m Mode) error
}

// TransformSetter is an Output whose rotation can change while it runs.
type TransformSetter interface {
	// SetTransform rotates the display; Shadow then has the rotated size.
	SetTransform(t render.Transform) error
}

// outputManagement is the compositor's side of the protocol: the
// current configuration serial and every client's manager.
type outputManagement struct {
	c        *Compositor
	serial   uint32
	managers []*outputManager
}

// outputManager is one client's zwlr_output_manager_v1.
type outputManager struct {
	om    *outputManagement
	res   *outputmgmt.OutputManagerV1
	heads map[*output]*head
}

// head is one output as a client's manager shows it.
type head struct {
	m     *outputManager
	o     *output
	res   *outputmgmt.OutputHeadV1
	modes []*headMode
	// what the client was last told, so only changes are sent again.
	sentMode      Mode
	sentPos       image.Point
	sentTransform render.Transform
	sentScale     int
}

// headMode is a zwlr_output_mode_v1: one mode of one head.
type headMode struct {
	h    *head
	res  *outputmgmt.OutputModeV1
	mode Mode
}

func (hm *headMode) Release(*outputmgmt.OutputModeV1) error { return nil }
func (h *head) Release(*outputmgmt.OutputHeadV1) error      { return nil }

func (c *Compositor) bindOutputManager(pc *protocol.Client, version, id uint32) error {
	res, err := outputmgmt.NewOutputManagerV1(pc, id, version)
	if err != nil {
		return err
	}
	om := &c.outputMgmt
	m := &outputManager{om: om, res: res, heads: map[*output]*head{}}
	res.Handler = m
	om.managers = append(om.managers, m)
	res.OnDestroy(func() { om.managers = slices.DeleteFunc(om.managers, func(x *outputManager) bool { return x == m }) })
	for _, o := range c.outputs {
		if !o.isPlaceholder() {
			m.addHead(o)
		}
	}
	res.SendDone(om.serial)
	return nil
}

// modesOf lists o's modes, the preferred first, always including the
// current one (a custom mode is added to the list it was set from).
func modesOf(o *output) []Mode {
	w, h, mhz := o.dev.Mode()
	cur := Mode{Width: w, Height: h, RefreshMilliHz: mhz}
	var modes []Mode
	if ms, ok := o.dev.(ModeSetter); ok {
		modes = ms.Modes()
	}
	if !slices.Contains(modes, cur) {
		modes = append(modes, cur)
	}
	return modes
}

func currentMode(o *output) Mode {
	w, h, mhz := o.dev.Mode()
	return Mode{Width: w, Height: h, RefreshMilliHz: mhz}
}

// addHead introduces o to m's client with all its properties.
func (m *outputManager) addHead(o *output) {
	pc := m.res.Client()
	h := &head{m: m, o: o, res: &outputmgmt.OutputHeadV1{}}
	protocol.RegisterServer(pc, h.res, outputmgmt.OutputHeadV1Interface, m.res.Version())
	h.res.Handler = h
	m.heads[o] = h
	m.res.SendHead(h.res)
	h.res.SendName(o.dev.Name())
	h.res.SendDescription(o.dev.Description())
	if mmw, mmh := o.dev.PhysicalSize(); mmw > 0 && mmh > 0 {
		h.res.SendPhysicalSize(int32(mmw), int32(mmh))
	}
	// The same make and model as wl_output.geometry, as the protocol
	// asks.
	h.res.SendMake("vitrine")
	h.res.SendModel(o.dev.Name())
	h.res.SendEnabled(1)
	h.sendModes()
	h.sendState(true)
	h.res.SendAdaptiveSync(outputmgmt.OutputHeadV1AdaptiveSyncStateDisabled)
}

// sendModes introduces the modes of h's output the client has not seen.
func (h *head) sendModes() {
	pc := h.m.res.Client()
	for i, mode := range modesOf(h.o) {
		if slices.ContainsFunc(h.modes, func(hm *headMode) bool { return hm.mode == mode }) {
			continue
		}
		hm := &headMode{h: h, res: &outputmgmt.OutputModeV1{}, mode: mode}
		protocol.RegisterServer(pc, hm.res, outputmgmt.OutputModeV1Interface, h.res.Version())
		hm.res.Handler = hm
		h.modes = append(h.modes, hm)
		h.res.SendMode(hm.res)
		hm.res.SendSize(int32(mode.Width), int32(mode.Height))
		if mode.RefreshMilliHz > 0 {
			hm.res.SendRefresh(int32(mode.RefreshMilliHz))
		}
		if i == 0 {
			hm.res.SendPreferred()
		}
	}
}

// sendState sends the current mode, position, transform and scale where they
// changed since the client was last told (all of them when all is set).
func (h *head) sendState(all bool) {
	o := h.o
	if cur := currentMode(o); all || cur != h.sentMode {
		for _, hm := range h.modes {
			if hm.mode == cur {
				h.res.SendCurrentMode(hm.res)
			}
		}
		h.sentMode = cur
	}
	if all || o.pos != h.sentPos {
		h.res.SendPosition(int32(o.pos.X), int32(o.pos.Y))
		h.sentPos = o.pos
	}
	if t := o.dev.Transform(); all || t != h.sentTransform {
		h.res.SendTransform(int32(t))
		h.sentTransform = t
	}
	if all || o.scale != h.sentScale {
		h.res.SendScale(protocol.FixedFromFloat(o.scaleFloat()))
		h.sentScale = o.scale
	}
}

// finish tells the client h's output is gone; its objects stay inert
// until the client releases them.
func (h *head) finish() {
	for _, hm := range h.modes {
		hm.res.SendFinished()
	}
	h.res.SendFinished()
}

// outputsChanged starts a new configuration serial and tells every
// manager what changed: heads added and removed, modes, positions and
// transforms. Configurations made with an older serial are cancelled.
func (om *outputManagement) outputsChanged() {
	om.serial++
	for _, m := range om.managers {
		for o, h := range m.heads {
			if o.gone || o.isPlaceholder() {
				h.finish()
				delete(m.heads, o)
			}
		}
		for _, o := range om.c.outputs {
			if o.isPlaceholder() {
				continue
			}
			h := m.heads[o]
			if h == nil {
				m.addHead(o)
				continue
			}
			h.sendModes()
			h.sendState(false)
		}
		m.res.SendDone(om.serial)
	}
}

func (m *outputManager) Stop(r *outputmgmt.OutputManagerV1) error {
	r.SendFinished()
	r.Destroy()
	return nil
}

func (m *outputManager) CreateConfiguration(_ *outputmgmt.OutputManagerV1, res *outputmgmt.OutputConfigurationV1, serial uint32) error {
	res.Handler = &outputConfig{m: m, serial: serial, heads: map[*output]*configHead{}}
	return nil
}

// --- configurations ---

// outputConfig is a zwlr_output_configuration_v1 being built.
type outputConfig struct {
	m      *outputManager
	serial uint32
	// heads maps the output of each head named so far to its settings;
	// nil settings mean disable_head. By output, not head object: a
	// client with two managers may mix their heads, as wlroots allows.
	heads map[*output]*configHead
	used  bool
}

// configHead is a zwlr_output_configuration_head_v1: the settings one
// enabled head is to get. Unset fields keep the current value.
type configHead struct {
	o         *output
	mode      *Mode
	pos       *image.Point
	transform *render.Transform
	scale     *protocol.Fixed
	vrr       *uint32
}

func (cfg *outputConfig) Destroy(*outputmgmt.OutputConfigurationV1) error { return nil }

// name checks that a head goes into cfg once, before it is used, and
// returns its output. A head whose output is gone is accepted: the
// serial is stale then, and the configuration will be cancelled.
func (cfg *outputConfig) name(r *outputmgmt.OutputConfigurationV1, hr *outputmgmt.OutputHeadV1) (*output, error) {
	if cfg.used {
		return nil, protocol.NewError(r, outputmgmt.OutputConfigurationV1ErrorAlreadyUsed, "configuration already applied or tested")
	}
	h := hr.Handler.(*head)
	if _, dup := cfg.heads[h.o]; dup {
		return nil, protocol.NewError(r, outputmgmt.OutputConfigurationV1ErrorAlreadyConfiguredHead, "head %s configured twice", h.o.dev.Name())
	}
	return h.o, nil
}

func (cfg *outputConfig) EnableHead(r *outputmgmt.OutputConfigurationV1, res *outputmgmt.OutputConfigurationHeadV1, hr *outputmgmt.OutputHeadV1) error {
	o, err := cfg.name(r, hr)
	if err != nil {
		return err
	}
	ch := &configHead{o: o}
	cfg.heads[o] = ch
	res.Handler = ch
	return nil
}

func (cfg *outputConfig) DisableHead(r *outputmgmt.OutputConfigurationV1, hr *outputmgmt.OutputHeadV1) error {
	o, err := cfg.name(r, hr)
	if err != nil {
		return err
	}
	cfg.heads[o] = nil
	return nil
}

func (cfg *outputConfig) Apply(r *outputmgmt.OutputConfigurationV1) error { return cfg.finish(r, true) }
func (cfg *outputConfig) Test(r *outputmgmt.OutputConfigurationV1) error  { return cfg.finish(r, false) }

// finish answers test or apply: cancelled when the outputs changed since
// the client's serial, a protocol error when a head is left out, failed
// when vitrine cannot make a change, succeeded otherwise.
func (cfg *outputConfig) finish(r *outputmgmt.OutputConfigurationV1, apply bool) error {
	if cfg.used {
		return protocol.NewError(r, outputmgmt.OutputConfigurationV1ErrorAlreadyUsed, "configuration already applied or tested")
	}
	cfg.used = true
	om := cfg.m.om
	if cfg.serial != om.serial {
		r.SendCancelled()
		return nil
	}
	for _, o := range om.c.outputs {
		if _, ok := cfg.heads[o]; !ok {
			return protocol.NewError(r, outputmgmt.OutputConfigurationV1ErrorUnconfiguredHead, "head %s is missing from the configuration", o.dev.Name())
		}
	}
	changes, err := cfg.changes()
	if err == nil && apply {
		err = om.c.applyOutputChanges(changes)
	}
	if err != nil {
		om.c.log.Warn("output configuration failed", "pid", r.Client().PID, "apply", apply, "err", err)
		r.SendFailed()
		return nil
	}
	r.SendSucceeded()
	if apply && len(changes) > 0 {
		om.outputsChanged()
	}
	return nil
}

// outputChange is what applying a configuration does to one output.
type outputChange struct {
	o         *output
	mode      *Mode
	transform *render.Transform
	scale     int // in 120ths; 0: unchanged
}

// changes checks every setting against what the outputs can do and
// lists the real changes.
func (cfg *outputConfig) changes() ([]outputChange, error) {
	var out []outputChange
	for o, ch := range cfg.heads {
		name := o.dev.Name()
		if ch == nil {
			return nil, fmt.Errorf("%s: disabling an output is not supported", name)
		}
		if ch.pos != nil && *ch.pos != o.pos {
			return nil, fmt.Errorf("%s: position %v: outputs are laid out left to right in the order they were added (here %v)", name, *ch.pos, o.pos)
		}
		if ch.vrr != nil && *ch.vrr != outputmgmt.OutputHeadV1AdaptiveSyncStateDisabled {
			return nil, fmt.Errorf("%s: adaptive sync is not supported", name)
		}
		chg := outputChange{o: o}
		if ch.mode != nil && !sameMode(*ch.mode, currentMode(o)) {
			if _, ok := o.dev.(ModeSetter); !ok {
				return nil, fmt.Errorf("%s: mode %v: this output cannot change its mode while running", name, *ch.mode)
			}
			chg.mode = ch.mode
		}
		if ch.transform != nil && *ch.transform != o.dev.Transform() {
			if _, ok := o.dev.(TransformSetter); !ok {
				return nil, fmt.Errorf("%s: transform %v: this output cannot change its transform while running (use --rotate)", name, *ch.transform)
			}
			chg.transform = ch.transform
		}
		if ch.scale != nil {
			s := ch.scale.Float()
			if err := CheckScale(s); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			if s120 := scale120(s); s120 != o.scale {
				chg.scale = s120
			}
		}
		if chg.mode != nil || chg.transform != nil || chg.scale != 0 {
			out = append(out, chg)
		}
	}
	return out, nil
}

// sameMode compares a requested mode with the current one; a custom
// mode's refresh 0 means any.
func sameMode(want, cur Mode) bool {
	return want.Width == cur.Width && want.Height == cur.Height && (want.RefreshMilliHz == 0 || want.RefreshMilliHz == cur.RefreshMilliHz)
}

// applyOutputChanges makes the changes, undoing those already made when
// one fails so the outputs stay as the clients were told.
func (c *Compositor) applyOutputChanges(changes []outputChange) error {
	type undo struct {
		o         *output
		mode      Mode
		transform render.Transform
		scale     int
	}
	var done []undo
	var err error
	for _, chg := range changes {
		o := chg.o
		done = append(done, undo{o, currentMode(o), o.dev.Transform(), o.scale})
		if chg.scale != 0 {
			// The scene's alone: nothing to fail.
			o.scale = chg.scale
		}
		if chg.mode != nil {
			if err = o.dev.(ModeSetter).SetMode(*chg.mode); err != nil {
				err = fmt.Errorf("%s: mode %v: %w", o.dev.Name(), *chg.mode, err)
				break
			}
		}
		if chg.transform != nil {
			if err = o.dev.(TransformSetter).SetTransform(*chg.transform); err != nil {
				err = fmt.Errorf("%s: transform %v: %w", o.dev.Name(), *chg.transform, err)
				break
			}
		}
	}
	if err != nil {
		for _, u := range slices.Backward(done) {
			if ms, ok := u.o.dev.(ModeSetter); ok && currentMode(u.o) != u.mode {
				err = errors.Join(err, ms.SetMode(u.mode))
			}
			if ts, ok := u.o.dev.(TransformSetter); ok && u.o.dev.Transform() != u.transform {
				err = errors.Join(err, ts.SetTransform(u.transform))
			}
			u.o.scale = u.scale
		}
	}
	for _, u := range done {
		c.outputResized(u.o)
	}
	if err == nil {
		for _, chg := range changes {
			c.log.Info("output configured", "name", chg.o.dev.Name(), "mode", currentMode(chg.o).String(), "transform", chg.o.dev.Transform().String(), "scale", chg.o.scaleFloat(), "logical_size", image.Pt(chg.o.width, chg.o.height), "event", "output.configured")
		}
	}
	return err
}

// OutputResized tells the scene that dev changed its mode on its own
// (the wayland backend's window was resized by the parent compositor):
// clients are told the new size and the output is repainted whole.
func (c *Compositor) OutputResized(dev Output) {
	for _, o := range c.outputs {
		if o.dev == dev {
			c.outputResized(o)
			return
		}
	}
}

// outputResized follows a change of o's mode or transform: its logical
// size, the layout of the outputs right of it, what clients are told and
// what they show there, and a full repaint.
func (c *Compositor) outputResized(o *output) {
	o.readMode()
	o.damage.Add(image.Rect(0, 0, o.width, o.height))
	// Whatever the display showed (a client buffer on the plane
	// included) has the old size.
	o.fullPresent = true
	c.closeGap()
	cur := currentMode(o)
	flags := uint32(wl.OutputModeCurrent)
	if modesOf(o)[0] == cur {
		flags |= wl.OutputModePreferred
	}
	for _, cs := range c.clients {
		for _, res := range cs.outputs[o] {
			o.sendGeometry(res)
			res.SendMode(flags, int32(cur.Width), int32(cur.Height), int32(cur.RefreshMilliHz))
			res.SendScale(o.integerScale())
			if res.Version() >= 2 {
				res.SendDone()
			}
		}
	}
	for _, x := range o.xdgOutputs {
		x.SendLogicalSize(int32(o.width), int32(o.height))
		if x.Version() < 3 {
			x.SendDone()
		}
	}
	c.lockOutputResized(o)
	// A cursor plane's image was turned and placed for the old mode.
	c.restoreCursorPlanes()
	c.relayout()
	c.updatePreferredScales()
	c.displaysChanged()
}

// readMode takes o's logical size and refresh period from its display.
func (o *output) readMode() {
	w, h, mhz := o.dev.Mode()
	o.width, o.height = o.logicalSize(o.dev.Transform().TransformSize(w, h))
	if mhz > 0 {
		o.refresh = time.Duration(1e12 / int64(mhz))
	} else {
		o.refresh = time.Second / 60
	}
}

// --- head settings ---

func (ch *configHead) alreadySet(r *outputmgmt.OutputConfigurationHeadV1, what string, set bool) error {
	if set {
		return protocol.NewError(r, outputmgmt.OutputConfigurationHeadV1ErrorAlreadySet, "%s of head %s already set", what, ch.o.dev.Name())
	}
	return nil
}

// Settings made after the configuration was tested, applied or
// destroyed are checked but change nothing: nothing reads them any more.

func (ch *configHead) SetMode(r *outputmgmt.OutputConfigurationHeadV1, mr *outputmgmt.OutputModeV1) error {
	if err := ch.alreadySet(r, "mode", ch.mode != nil); err != nil {
		return err
	}
	hm := mr.Handler.(*headMode)
	if hm.h.o != ch.o {
		return protocol.NewError(r, outputmgmt.OutputConfigurationHeadV1ErrorInvalidMode, "zwlr_output_mode_v1#%d is a mode of head %s, not of %s", mr.ID(), hm.h.o.dev.Name(), ch.o.dev.Name())
	}
	m := hm.mode
	ch.mode = &m
	return nil
}

func (ch *configHead) SetCustomMode(r *outputmgmt.OutputConfigurationHeadV1, w, h, refresh int32) error {
	if err := ch.alreadySet(r, "mode", ch.mode != nil); err != nil {
		return err
	}
	if w <= 0 || h <= 0 || refresh < 0 {
		return protocol.NewError(r, outputmgmt.OutputConfigurationHeadV1ErrorInvalidCustomMode, "custom mode %dx%d@%dmHz is invalid", w, h, refresh)
	}
	ch.mode = &Mode{Width: int(w), Height: int(h), RefreshMilliHz: int(refresh)}
	return nil
}

func (ch *configHead) SetPosition(r *outputmgmt.OutputConfigurationHeadV1, x, y int32) error {
	if err := ch.alreadySet(r, "position", ch.pos != nil); err != nil {
		return err
	}
	ch.pos = &image.Point{int(x), int(y)}
	return nil
}

func (ch *configHead) SetTransform(r *outputmgmt.OutputConfigurationHeadV1, t int32) error {
	if err := ch.alreadySet(r, "transform", ch.transform != nil); err != nil {
		return err
	}
	if t < wl.OutputTransformNormal || t > wl.OutputTransformFlipped270 {
		return protocol.NewError(r, outputmgmt.OutputConfigurationHeadV1ErrorInvalidTransform, "transform %d is not a wl_output.transform", t)
	}
	tr := render.Transform(t)
	ch.transform = &tr
	return nil
}

func (ch *configHead) SetScale(r *outputmgmt.OutputConfigurationHeadV1, s protocol.Fixed) error {
	if err := ch.alreadySet(r, "scale", ch.scale != nil); err != nil {
		return err
	}
	if s <= 0 {
		return protocol.NewError(r, outputmgmt.OutputConfigurationHeadV1ErrorInvalidScale, "scale %.3f is not positive", s.Float())
	}
	ch.scale = &s
	return nil
}

func (ch *configHead) SetAdaptiveSync(r *outputmgmt.OutputConfigurationHeadV1, state uint32) error {
	if err := ch.alreadySet(r, "adaptive sync", ch.vrr != nil); err != nil {
		return err
	}
	if state > outputmgmt.OutputHeadV1AdaptiveSyncStateEnabled {
		return protocol.NewError(r, outputmgmt.OutputConfigurationHeadV1ErrorInvalidAdaptiveSyncState, "adaptive sync state %d is invalid", state)
	}
	ch.vrr = &state
	return nil
}
