package scene

import (
	"image"
	"slices"
	"time"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/eventloop"
	"github.com/vitrine-wm/vitrine/protocol/idleinhibit"
	"github.com/vitrine-wm/vitrine/protocol/idlenotify"
	"github.com/vitrine-wm/vitrine/protocol/outputpower"
	"github.com/vitrine-wm/vitrine/protocol/wl"
)

// Idle: the time since the last input decides when outputs blank
// (--idle-timeout) and when ext_idle_notification_v1 objects say idled
// (swayidle). A visible surface with a zwp_idle_inhibitor_v1 (a video
// playing) keeps both from happening. Input costs one clock read and a
// store: the timers are armed for the earliest possible deadline and,
// when they fire early because input came since, armed again for the
// new one, so a stream of input events re-arms nothing.

// PowerSetter is an output whose display can be switched off and back
// on (KMS: CRTC ACTIVE or DPMS). Outputs without it stop taking frames
// while off, and show nothing different.
type PowerSetter interface {
	SetPower(on bool) error
}

type idleState struct {
	// last is when the last input came (CLOCK_MONOTONIC).
	last time.Duration
	// blankAfter is Config.IdleTimeout; 0: outputs never blank.
	blankAfter time.Duration
	blankTimer *eventloop.Timer
	blanked    bool

	notifications []*idleNotification
	inhibitors    []*idleInhibitor
}

func (c *Compositor) initIdle(blankAfter time.Duration) {
	c.idle.last = eventloop.Now()
	c.idle.blankAfter = blankAfter
	if blankAfter > 0 {
		c.idle.blankTimer = c.loop.NewTimer(c.blankDue)
		c.idle.blankTimer.Set(c.idle.last + blankAfter)
	}
}

// noteActivity is called for every input event: outputs blanked for
// idleness come back, idle notifications resume.
func (c *Compositor) noteActivity() {
	now := eventloop.Now()
	c.idle.last = now
	for _, n := range c.idle.notifications {
		if n.idle {
			n.idle = false
			n.res.SendResumed()
			n.timer.Set(now + n.timeout)
		}
	}
	if c.idle.blanked {
		c.idle.blanked = false
		c.log.Info("input: outputs on", "event", "idle.wake")
		for _, o := range c.outputs {
			o.offIdle = false
			c.applyPower(o)
		}
		c.idle.blankTimer.Set(now + c.idle.blankAfter)
	}
}

// inhibited reports whether a visible surface inhibits idleness.
func (c *Compositor) inhibited() bool {
	for _, in := range c.idle.inhibitors {
		if in.surface != nil && c.surfaceVisible(in.surface) {
			return true
		}
	}
	return false
}

// surfaceVisible reports whether some output shows s (mapped, not
// hidden under an opaque fullscreen window, on a display that is on).
func (c *Compositor) surfaceVisible(s *surface) bool {
	for _, o := range c.outputs {
		if o.off() {
			continue
		}
		for _, it := range c.drawList(o) {
			if it.s == s {
				return true
			}
		}
	}
	return false
}

// idleDeadline is when something waiting timeout is due: timeout after
// the last input, or, while inhibited, timeout from now (looked at
// again then: an inhibitor is a video that ends some day).
func (c *Compositor) idleDeadline(timeout time.Duration) (due time.Duration, now time.Duration, reached bool) {
	now = eventloop.Now()
	due = c.idle.last + timeout
	if due > now {
		return due, now, false
	}
	if c.inhibited() {
		return now + timeout, now, false
	}
	return due, now, true
}

func (c *Compositor) blankDue() {
	due, _, reached := c.idleDeadline(c.idle.blankAfter)
	if !reached {
		c.idle.blankTimer.Set(due)
		return
	}
	c.idle.blanked = true
	c.log.Info("idle: outputs off", "after", c.idle.blankAfter, "event", "idle.blank")
	for _, o := range c.outputs {
		o.offIdle = true
		c.applyPower(o)
	}
}

// inhibitorsChanged restarts the idle clocks when an inhibitor goes:
// the video that ended counts as the last activity, as in other
// compositors, so the screen does not blank the instant it stops.
func (c *Compositor) inhibitorsChanged() {
	if c.inhibited() {
		return
	}
	now := eventloop.Now()
	c.idle.last = max(c.idle.last, now)
	for _, n := range c.idle.notifications {
		if !n.idle {
			n.timer.Set(now + n.timeout)
		}
	}
	if c.idle.blankTimer != nil && !c.idle.blanked {
		c.idle.blankTimer.Set(now + c.idle.blankAfter)
	}
}

// off reports whether o's display is (to be) switched off.
func (o *output) off() bool { return o.offIdle || o.offClient }

// applyPower switches o's display to what offIdle and offClient ask
// for. A frame in flight finishes first (frameDone calls this again).
func (c *Compositor) applyPower(o *output) {
	want := !o.off()
	if o.powerOn == want || o.inFlight {
		return
	}
	o.powerOn = want
	if ps, ok := o.dev.(PowerSetter); ok && !o.isPlaceholder() {
		if err := ps.SetPower(want); err != nil {
			c.log.Warn("output power", "output", o.dev.Name(), "on", want, "err", err, "event", "output.power_failed")
		}
	}
	c.log.Info("output power", "output", o.dev.Name(), "on", want, "event", "output.power")
	for _, p := range o.powerControls {
		p.sendMode()
	}
	if want {
		// Whatever was on screen is stale, and the display may have
		// dropped the cursor plane.
		o.damage.Add(image.Rect(0, 0, o.width, o.height))
		o.fullPresent = true
		c.restoreCursorPlanes()
	}
}

// --- ext_idle_notifier_v1 ---

type idleNotifier struct{ c *Compositor }

func (c *Compositor) bindIdleNotifier(pc *protocol.Client, v, id uint32) error {
	res, err := idlenotify.NewIdleNotifierV1(pc, id, v)
	if err == nil {
		res.Handler = idleNotifier{c}
	}
	return err
}

func (idleNotifier) Destroy(*idlenotify.IdleNotifierV1) error { return nil }

func (m idleNotifier) GetIdleNotification(_ *idlenotify.IdleNotifierV1, res *idlenotify.IdleNotificationV1, timeout uint32, _ *wl.Seat) error {
	c := m.c
	n := &idleNotification{c: c, res: res, timeout: time.Duration(timeout) * time.Millisecond}
	n.timer = c.loop.NewTimer(n.due)
	res.Handler = n
	c.idle.notifications = append(c.idle.notifications, n)
	res.OnDestroy(func() {
		n.timer.Stop()
		c.idle.notifications = slices.DeleteFunc(c.idle.notifications, func(x *idleNotification) bool { return x == n })
	})
	// The timeout runs from the last input, not from now: a locker
	// started by a script long after the last key press is due at once.
	n.timer.Set(c.idle.last + n.timeout)
	return nil
}

type idleNotification struct {
	c       *Compositor
	res     *idlenotify.IdleNotificationV1
	timeout time.Duration
	timer   *eventloop.Timer
	idle    bool
}

func (n *idleNotification) Destroy(*idlenotify.IdleNotificationV1) error { return nil }

func (n *idleNotification) due() {
	if n.idle || !n.res.Alive() {
		return
	}
	due, _, reached := n.c.idleDeadline(n.timeout)
	if !reached {
		n.timer.Set(due)
		return
	}
	n.idle = true
	n.res.SendIdled()
}

// --- zwp_idle_inhibit_manager_v1 ---

type idleInhibitManager struct{ c *Compositor }

func (c *Compositor) bindIdleInhibit(pc *protocol.Client, v, id uint32) error {
	res, err := idleinhibit.NewIdleInhibitManagerV1(pc, id, v)
	if err == nil {
		res.Handler = idleInhibitManager{c}
	}
	return err
}

func (idleInhibitManager) Destroy(*idleinhibit.IdleInhibitManagerV1) error { return nil }

func (m idleInhibitManager) CreateInhibitor(_ *idleinhibit.IdleInhibitManagerV1, res *idleinhibit.IdleInhibitorV1, ws *wl.Surface) error {
	c := m.c
	in := &idleInhibitor{surface: surfaceOf(ws)}
	res.Handler = in
	c.idle.inhibitors = append(c.idle.inhibitors, in)
	res.OnDestroy(func() {
		c.idle.inhibitors = slices.DeleteFunc(c.idle.inhibitors, func(x *idleInhibitor) bool { return x == in })
		c.inhibitorsChanged()
	})
	// The surface may go first; the inhibitor then inhibits nothing
	// (the protocol keeps it alive, inert, until destroyed).
	ws.OnDestroy(func() {
		in.surface = nil
		if slices.Contains(c.idle.inhibitors, in) {
			c.inhibitorsChanged()
		}
	})
	return nil
}

type idleInhibitor struct{ surface *surface }

func (*idleInhibitor) Destroy(*idleinhibit.IdleInhibitorV1) error { return nil }

// --- zwlr_output_power_manager_v1 (privileged: it blanks everyone) ---

type outputPowerManager struct{ c *Compositor }

func (c *Compositor) bindOutputPower(pc *protocol.Client, v, id uint32) error {
	res, err := outputpower.NewOutputPowerManagerV1(pc, id, v)
	if err == nil {
		res.Handler = outputPowerManager{c}
	}
	return err
}

func (outputPowerManager) Destroy(*outputpower.OutputPowerManagerV1) error { return nil }

func (m outputPowerManager) GetOutputPower(_ *outputpower.OutputPowerManagerV1, res *outputpower.OutputPowerV1, wlo *wl.Output) error {
	p := &powerControl{res: res, o: m.c.outputFor(wlo)}
	res.Handler = p
	if p.o == nil || p.o.gone {
		// A wl_output whose display is gone: the protocol's answer is
		// failed, after which the object is inert.
		p.o = nil
		res.SendFailed()
		return nil
	}
	o := p.o
	o.powerControls = append(o.powerControls, p)
	res.OnDestroy(func() {
		if p.o != nil {
			p.o.powerControls = slices.DeleteFunc(p.o.powerControls, func(x *powerControl) bool { return x == p })
		}
	})
	p.sendMode()
	return nil
}

type powerControl struct {
	res *outputpower.OutputPowerV1
	o   *output // nil once failed
}

func (p *powerControl) sendMode() {
	mode := uint32(outputpower.OutputPowerV1ModeOn)
	if !p.o.powerOn {
		mode = outputpower.OutputPowerV1ModeOff
	}
	p.res.SendMode(mode)
}

func (p *powerControl) Destroy(*outputpower.OutputPowerV1) error { return nil }

func (p *powerControl) SetMode(r *outputpower.OutputPowerV1, mode uint32) error {
	if mode != outputpower.OutputPowerV1ModeOn && mode != outputpower.OutputPowerV1ModeOff {
		return protocol.NewError(r, outputpower.OutputPowerV1ErrorInvalidMode, "invalid mode %d: want 0 (off) or 1 (on)", mode)
	}
	o := p.o
	if o == nil {
		return nil
	}
	o.offClient = mode == outputpower.OutputPowerV1ModeOff
	if !o.offClient {
		// On means on, whatever blanked it.
		o.offIdle = false
	}
	o.c.applyPower(o)
	return nil
}

// failPowerControls fails the power controls of an output that is
// gone.
func (o *output) failPowerControls() {
	for _, p := range o.powerControls {
		p.o = nil
		p.res.SendFailed()
	}
	o.powerControls = nil
}
