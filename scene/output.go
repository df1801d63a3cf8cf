package scene

import (
	"errors"
	"fmt"
	"image"
	"runtime"
	"runtime/debug"
	"slices"
	"time"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/eventloop"
	"github.com/vitrine-wm/vitrine/protocol/presentation"
	"github.com/vitrine-wm/vitrine/protocol/wl"
	"github.com/vitrine-wm/vitrine/protocol/xdgoutput"
	"github.com/vitrine-wm/vitrine/render"
	"github.com/vitrine-wm/vitrine/scene/present"
)

// output is the scene's side of a display.
type output struct {
	c      *Compositor
	dev    Output
	global *protocol.Global
	// pos is the output's top-left corner in the global layout.
	pos image.Point
	// Logical size: the rotated mode size at the output's scale.
	width, height int
	// scale is the output scale in 120ths (scale.go): 120 is 1.
	scale   int
	refresh time.Duration
	// usable is the part of the output windows are laid out in, global
	// coordinates: the output less layer surfaces' exclusive zones
	// (arrangeLayers); empty until first arranged.
	usable image.Rectangle

	damage   render.Damage // output coordinates, waiting for the next frame
	inFlight bool
	// revoked: the display refused a frame because it is not ours now
	// (present.ErrRevoked); frames wait, as while paused, until the
	// session is back (SetActive) or a display replaces this one.
	revoked bool
	// lastVblank is when the last frame (or idle refresh) completed, on
	// CLOCK_MONOTONIC; 0 before the first. Repaints are timed from it.
	lastVblank time.Duration
	// repaintTimer wakes the loop at the repaint deadline; idleTimer
	// completes a frame that had nothing to paint.
	repaintTimer, idleTimer *eventloop.Timer
	// repaintCost is a decaying peak of how long composing and
	// presenting a frame took (repaintWindow).
	repaintCost time.Duration
	// wantFrame: a client asked for a frame callback but nothing changed;
	// it is answered at the next refresh without repainting.
	wantFrame bool

	// What the frame in flight will complete.
	doneFrames []*wl.Callback
	// framed are the surfaces whose callbacks the frame in flight
	// carries; once it completes, awaiting counts those that have not
	// committed since (frame gen). At zero the next frame need not wait
	// for the repaint deadline: everyone it could carry has answered.
	framed        []*surface
	awaiting      int
	gen           uint64
	doneFeedbacks []*presentation.PresentationFeedback
	copyWaiters   []func()

	stats Stats
	// copiedBefore is what displays this output stood for before the
	// current one (a placeholder's predecessor) copied.
	copiedBefore int64
	seq          uint64
	gone         bool

	// xdgOutputs are the clients' xdg_output objects for this output,
	// told again when it moves in the layout.
	xdgOutputs []*xdgoutput.OutputV1

	// Client buffers on planes (primary and overlays): those on screen
	// now, those the frame in flight puts there (each held: a buffer's
	// release waits until the flip that replaces it completes), and
	// whether the shadow image (and the display's own buffers) missed
	// frames while a client buffer was on the primary plane.
	onScreen, pendingScreen []*buffer
	// Per-frame scratch, kept to avoid allocating every frame.
	frameList   []drawItem
	frameDamage render.Damage
	// pixelDamageBuf is the frame's damage in shadow pixels when the scale
	// is not 1.
	pixelDamageBuf render.Damage
	shadowStale    bool
	fullPresent    bool

	// The per-frame plane plan (planes.go).
	plan planeScratch
	// cut is the area the last frame left out of the shadow because
	// opaque overlay layers covered it: painted again once they leave.
	cut render.Damage
	// layerRects are where the last frame's overlay layers are, with
	// whether each is opaque, for screen copies (refreshShadow).
	layerRects []layerRect

	cursor cursorPlaneState
	// yuv converts YUV client buffers into the shadow, keeping its
	// buffers between frames.
	yuv render.YUVConverter

	// Power (idle.go): off for idleness or because a client said so;
	// powerOn is what the display was last set to.
	offIdle, offClient bool
	powerOn            bool
	powerControls      []*powerControl
}

// protocolOutput is one client's wl_output for an output.
type protocolOutput = *wl.Output

// AddOutput makes dev part of the layout and advertises it. Outputs are
// laid out left to right in the order they are added, without gaps.
//
// While a placeholder stands in for a display that is gone, dev takes
// its place instead: clients keep the wl_output they have.
func (c *Compositor) AddOutput(dev Output) {
	if len(c.outputs) == 1 && c.outputs[0].isPlaceholder() {
		if _, ok := dev.(*placeholderDisplay); !ok {
			c.adoptDisplay(c.outputs[0], dev)
			return
		}
	}
	o := &output{c: c, dev: dev, powerOn: true, scale: c.initialScale(dev.Name())}
	// The deadline only has to wake the loop: repaintOutputs, run at
	// the end of every iteration, does the work.
	o.repaintTimer = c.loop.NewTimer(func() {})
	o.idleTimer = c.loop.NewTimer(o.idleDone)
	o.readMode()
	w, h, mhz := dev.Mode()
	for _, other := range c.outputs {
		o.pos.X = max(o.pos.X, other.pos.X+other.width)
	}
	c.outputs = append(c.outputs, o)
	if len(c.outputs) == 1 {
		// The pointer starts in the middle of the first display, where a
		// user looks for it (and a tablet's first click lands near it).
		c.in.pointer = [2]float64{float64(o.width) / 2, float64(o.height) / 2}
	}
	o.global = c.srv.AddGlobal(wl.OutputInterface, 4, func(pc *protocol.Client, version, id uint32) error {
		res, err := wl.NewOutput(pc, id, version)
		if err != nil {
			return err
		}
		res.Handler = outputHandler{}
		cs := c.client(pc)
		cs.outputs[o] = append(cs.outputs[o], res)
		res.OnDestroy(func() {
			if cs.outputs[o] != nil {
				cs.outputs[o] = slices.DeleteFunc(cs.outputs[o], func(x *wl.Output) bool { return x == res })
			}
		})
		o.sendInfo(res)
		// A surface already shown there has entered this output too.
		for _, t := range c.toplevels {
			if t.out == o && t.xs.surface.res.Client() == pc && t.xs.surface.mapped() {
				t.xs.surface.res.SendEnter(res)
			}
		}
		for _, ls := range c.layers {
			if ls.out == o && ls.res.Client() == pc && ls.shown() {
				ls.surface.res.SendEnter(res)
			}
		}
		return nil
	})
	// No initial damage: outputs start black (the KMS output clears its
	// buffers), so painting black again would only copy a screenful.
	if o.isPlaceholder() {
		c.log.Info("placeholder output", "output", dev.Name(), "size", image.Pt(w, h), "refresh_mhz", mhz,
			"why", "no display connected; clients see this output until one is", "event", "output.placeholder")
	} else {
		c.log.Info("output added", "name", dev.Name(), "description", dev.Description(), "size", image.Pt(w, h), "refresh_mhz", mhz, "transform", dev.Transform().String(), "event", "output.added")
	}
	c.relayout()
	c.outputMgmt.outputsChanged()
	if c.idle.blanked {
		o.offIdle = true
		c.applyPower(o)
	}
	c.displaysChanged()
}

// RemoveOutput withdraws dev (unplugged connector). The last output
// stays, for clients, as a placeholder (see placeholder.go).
func (c *Compositor) RemoveOutput(dev Output) {
	i := slices.IndexFunc(c.outputs, func(o *output) bool { return o.dev == dev })
	if i < 0 {
		return
	}
	o := c.outputs[i]
	if len(c.outputs) == 1 {
		c.becomePlaceholder(o)
		return
	}
	if o.inFlight {
		// Its completion will never come: answer what waits on it.
		o.frameDone(present.Info{Time: eventloop.Now(), Refresh: o.refresh, Seq: o.seq})
	}
	o.gone = true
	c.closeLayersOn(o)
	o.failPowerControls()
	o.repaintTimer.Stop()
	o.idleTimer.Stop()
	c.outputs = slices.Delete(c.outputs, i, i+1)
	// Windows shown there leave it now, while the clients' wl_output
	// objects for it are still known: those stay alive (inert) until the
	// client releases them, and a client never told would go on
	// believing its window is on the unplugged monitor.
	for _, t := range c.toplevels {
		c.leaveOutput(t.xs.surface, o)
	}
	c.srv.RemoveGlobal(o.global)
	for _, cs := range c.clients {
		delete(cs.outputs, o)
	}
	o.xdgOutputs = nil
	c.lockOutputGone(o)
	c.closeGap()
	c.relayout()
	c.outputMgmt.outputsChanged()
	c.displaysChanged()
}

// closeGap moves the outputs right of an unplugged one left, as other
// compositors do: a hole in the layout would be a place the pointer can
// reach and nobody can see. Clients are told the new positions.
func (c *Compositor) closeGap() {
	x := 0
	for _, o := range c.outputs {
		if o.pos.X != x {
			o.pos.X = x
			o.announcePosition()
		}
		x += o.width
	}
	if x, y, ok := c.clampToLayout(c.in.pointer[0], c.in.pointer[1]); ok {
		c.damageCursor()
		c.in.pointer = [2]float64{x, y}
		c.damageCursor()
	}
}

// announcePosition tells every client's wl_output and xdg_output for o
// where it now is.
func (o *output) announcePosition() {
	for _, cs := range o.c.clients {
		for _, res := range cs.outputs[o] {
			o.sendGeometry(res)
		}
	}
	for _, x := range o.xdgOutputs {
		x.SendLogicalPosition(int32(o.pos.X), int32(o.pos.Y))
		if x.Version() < 3 {
			x.SendDone()
		}
	}
	// wl_output.done (version 2 on) closes both sets of changes.
	for _, cs := range o.c.clients {
		for _, res := range cs.outputs[o] {
			if res.Version() >= 2 {
				res.SendDone()
			}
		}
	}
}

func (o *output) sendInfo(res *wl.Output) {
	w, h, mhz := o.dev.Mode()
	o.sendGeometry(res)
	res.SendMode(wl.OutputModeCurrent|wl.OutputModePreferred, int32(w), int32(h), int32(mhz))
	res.SendScale(o.integerScale())
	res.SendName(o.dev.Name())
	res.SendDescription(o.dev.Description())
	res.SendDone()
}

func (o *output) sendGeometry(res *wl.Output) {
	mmw, mmh := o.dev.PhysicalSize()
	res.SendGeometry(int32(o.pos.X), int32(o.pos.Y), int32(mmw), int32(mmh), 0, "vitrine", o.dev.Name(), int32(o.dev.Transform()))
}

type outputHandler struct{}

func (outputHandler) Release(*wl.Output) error { return nil }

// bounds is the output's rectangle in the global layout.
func (o *output) bounds() image.Rectangle {
	return image.Rectangle{Min: o.pos, Max: o.pos.Add(image.Pt(o.width, o.height))}
}

// --- xdg-output ---

type xdgOutputManager struct{ c *Compositor }

func (xdgOutputManager) Destroy(*xdgoutput.OutputManagerV1) error { return nil }

func (m xdgOutputManager) GetXdgOutput(r *xdgoutput.OutputManagerV1, res *xdgoutput.OutputV1, wlo *wl.Output) error {
	res.Handler = xdgOutputHandler{}
	o := m.c.outputFor(wlo)
	if o == nil {
		return nil
	}
	o.xdgOutputs = append(o.xdgOutputs, res)
	res.OnDestroy(func() {
		o.xdgOutputs = slices.DeleteFunc(o.xdgOutputs, func(x *xdgoutput.OutputV1) bool { return x == res })
	})
	res.SendLogicalPosition(int32(o.pos.X), int32(o.pos.Y))
	res.SendLogicalSize(int32(o.width), int32(o.height))
	res.SendName(o.dev.Name())
	res.SendDescription(o.dev.Description())
	if res.Version() < 3 {
		res.SendDone()
	} else {
		wlo.SendDone()
	}
	return nil
}

type xdgOutputHandler struct{}

func (xdgOutputHandler) Destroy(*xdgoutput.OutputV1) error { return nil }

// outputFor finds the output a client's wl_output stands for.
func (c *Compositor) outputFor(res *wl.Output) *output {
	if res == nil {
		return nil
	}
	cs := c.client(res.Client())
	for o, list := range cs.outputs {
		if slices.Contains(list, res) {
			return o
		}
	}
	return nil
}

// --- frames ---

// repaintOutputs starts a frame on every output that has something to
// show, no frame in flight, and whose repaint deadline has come. It runs
// at the end of every loop iteration, so damage from many requests
// handled together lands in one frame.
func (c *Compositor) repaintOutputs() {
	if !c.active {
		return
	}
	var now time.Duration
	for _, o := range c.outputs {
		if o.inFlight || o.gone || o.revoked {
			continue
		}
		o.damage = o.damage.Clip(image.Rect(0, 0, o.width, o.height))
		if len(o.damage) == 0 && !o.wantFrame && len(o.copyWaiters) == 0 {
			continue
		}
		if o.off() {
			// Switched off: frames wait until it is on again (which
			// repaints everything), screen copies get the last frame.
			if len(o.copyWaiters) == 0 {
				continue
			}
			o.damage = o.damage[:0]
		}
		if o.isPlaceholder() {
			// Drawn nowhere: what it owes clients is frame pacing, at
			// its refresh, and only while they draw.
			o.damage = o.damage[:0]
		}
		if now == 0 {
			now = eventloop.Now()
		}
		if at := o.repaintDeadline(now); at > now {
			if !o.repaintTimer.Armed() || o.repaintTimer.Deadline() != at {
				o.repaintTimer.Set(at)
			}
			continue
		}
		o.repaintTimer.Stop()
		if len(o.damage) > 0 {
			before := now
			o.repaint()
			// One clock read serves both: this repaint's cost, and the
			// deadlines of the outputs after it.
			now = eventloop.Now()
			o.noteRepaintCost(now - before)
		} else {
			o.idleFrame(now)
		}
	}
}

// repaintDeadline is when the next frame should be composed: a repaint
// window before the vblank that follows the last one, the way weston
// times its repaints. Starting right when a frame completes would take
// only the commits that raced ahead of the others' frame callbacks, and
// every client that answers its callback a moment later would wait a
// whole extra frame: two clients would each get half the refresh rate.
// An output idle for longer than a frame paints at once.
//
// When every surface told of the last frame has committed again, there
// is nobody left to wait for, and the frame starts at once: one client
// drawing costs one wake-up less per frame.
func (o *output) repaintDeadline(now time.Duration) time.Duration {
	if o.lastVblank == 0 || o.awaiting <= 0 {
		return now
	}
	next := o.lastVblank + o.refresh
	if next <= now {
		return now
	}
	return max(next-o.repaintWindow(), o.lastVblank)
}

// repaintWindow is how long before the vblank the frame is composed:
// twice what repaints have been taking plus a millisecond, between 2 ms
// and the configured window (7 ms by default). A fixed 7 ms left clients
// only 9.7 ms of a 60 Hz frame to draw; with 100 small clients on two
// cores, a third of them missed each frame although composing it took
// under a millisecond.
func (o *output) repaintWindow() time.Duration {
	return min(max(2*o.repaintCost+time.Millisecond, 2*time.Millisecond), o.c.repaintWindow)
}

// noteRepaintCost keeps a peak of recent repaint durations that decays
// by an eighth a frame, so one slow frame widens the window for a while.
func (o *output) noteRepaintCost(d time.Duration) {
	o.repaintCost = max(d, o.repaintCost-o.repaintCost/8)
}

// repaint shows the next frame: a client buffer straight on the plane
// when the output can take it, else the damage composited into the
// shadow and presented.
func (o *output) repaint() {
	list := o.withCursor(o.withDragIcon(o.c.appendDrawList(o.frameList[:0], o)))
	o.frameList = list
	o.show(list)
}

// show makes list the next frame. An output with planes (Scanouter)
// gets one state committed as one: the plan (planes.go) decides what
// goes on which plane and what is composited. Others composite and
// Present, or show a fullscreen image by reference.
func (o *output) show(list []drawItem) {
	if so, ok := o.dev.(Scanouter); ok {
		o.commitFrame(so, list)
		return
	}
	if o.tryScanoutImage(list) {
		return
	}
	full := image.Rect(0, 0, o.width, o.height)
	if o.shadowStale || o.fullPresent {
		// Coming back from direct scanout: the shadow and the display's
		// buffers missed those frames, so this one repaints everything.
		o.damage = append(o.damage[:0], full)
	}
	o.shadowStale, o.fullPresent = false, false
	shadow := o.dev.Shadow()
	// Swap the damage into the frame's buffer: outputs do not keep the
	// slice past Present, so both buffers are reused frame after frame.
	damage := o.damage
	o.damage, o.frameDamage = o.frameDamage[:0], damage
	if o.scale != scaleDenom {
		// Composite and present in the shadow's pixels; a failed present
		// re-adds the logical damage kept in frameDamage.
		damage = o.pixelDamageOf(damage)
	}
	for _, r := range damage {
		o.composite(shadow, list, r)
	}
	o.collectFrameWork(list)
	o.inFlight = true
	o.stats.Frames++
	o.stats.Composited++
	if err := o.dev.Present(damage); err != nil {
		o.inFlight = false
		o.frameFailed(err)
	}
}

// frameFailed keeps the damage of a frame the display did not take for
// the next try, at the next event, or, when the display was taken away,
// on resume (which repaints everything anyway).
func (o *output) frameFailed(err error) {
	for _, r := range o.frameDamage {
		o.damage.Add(r)
	}
	if errors.Is(err, present.ErrRevoked) {
		o.displayRevoked(err)
		return
	}
	o.c.log.Error("present failed", "output", o.dev.Name(), "err", err)
}

// displayRevoked holds o's frames: the session manager took the display
// away and says so a moment later (logind revokes DRM master first). No
// error, and no retry per loop iteration meanwhile; the line says why
// the screen stands still if the session never comes back.
func (o *output) displayRevoked(err error) {
	if o.revoked {
		return
	}
	o.revoked = true
	o.c.log.Info("display taken away; frames wait until the session is back", "output", o.dev.Name(), "err", err, "event", "output.revoked")
}

// scanoutCandidate is the one surface that could go on the primary
// plane: alone on the output (what is under it is culled), covering it
// exactly with opaque dma-buf content in the framebuffer's own
// orientation, shown 1:1: the whole buffer, of the mode's size, drawn
// over every pixel of the output (at an output scale, a buffer at the
// panel's native size qualifies, by buffer scale or viewport).
func (o *output) scanoutCandidate(list []drawItem) *buffer {
	if len(list) != 1 {
		return nil
	}
	it := list[0]
	s := it.s
	b := s.buf
	if b == nil || it.pos != (image.Point{}) || !s.fullyOpaque() {
		return nil
	}
	w, h, _ := o.dev.Mode()
	if s.transform != o.dev.Transform() || b.width != w || b.height != h ||
		o.itemRect(it) != o.pixelBounds() || s.srcRect() != image.Rect(0, 0, w, h) {
		return nil
	}
	return b
}

// tryScanoutImage shows a fullscreen wl_shm buffer by reference on an
// output whose framebuffer is memory (headless): nothing is copied, as
// a KMS plane would show a dma-buf.
func (o *output) tryScanoutImage(list []drawItem) bool {
	b := o.scanoutCandidate(list)
	if b == nil || b.dma != nil {
		return false
	}
	is, ok := o.dev.(ImageScanouter)
	if !ok || o.dev.Transform() != render.Normal {
		return false
	}
	img := b.image()
	if img == nil || (img.Format != render.XRGB8888 && img.Format != render.ARGB8888) {
		return false
	}
	if err := is.ScanoutImage(img); err != nil {
		o.c.log.Warn("showing the client's buffer failed; compositing", "output", o.dev.Name(), "err", err)
		return false
	}
	o.scannedOut(list, b)
	return true
}

// scannedOut records a frame that shows b instead of the shadow.
func (o *output) scannedOut(list []drawItem, b *buffer) {
	o.damage = o.damage[:0]
	o.shadowStale, o.fullPresent = true, true
	o.hold(b)
	o.collectFrameWork(list)
	o.inFlight = true
	o.stats.Frames++
	o.stats.Scanout++
}

// hold keeps b for the frame in flight, which puts it on a plane.
func (o *output) hold(b *buffer) {
	b.scanouts++
	b.ref()
	o.pendingScreen = append(o.pendingScreen, b)
}

// leavePlanes gives back the buffers that were on screen: a flip
// replaced them.
func (o *output) leavePlanes() {
	for _, b := range o.onScreen {
		b.scanouts--
		if b.scanouts == 0 && b.releaseDeferred {
			b.release(false)
		}
		b.unref()
	}
	o.onScreen = emptied(o.onScreen)
}

// idleFrame answers frame callbacks and screen copies when nothing needs
// painting, paced like a real frame (completing on the output's vblank
// grid) so clients don't spin.
func (o *output) idleFrame(now time.Duration) {
	o.collectFrameWork(o.c.appendDrawList(o.frameList[:0], o))
	o.inFlight = true
	for _, b := range o.onScreen {
		// Nothing changes on the planes; keep their buffers held.
		o.hold(b)
	}
	at := now + o.refresh
	if o.lastVblank > 0 {
		at = o.lastVblank + o.refresh*((now-o.lastVblank)/o.refresh+1)
	}
	o.idleTimer.Set(at)
}

func (o *output) idleDone() {
	o.frameDone(present.Info{Time: o.idleTimer.Deadline(), Refresh: o.refresh, Seq: o.seq + 1})
}

// collectFrameWork takes the frame callbacks and feedback of every
// surface that this frame shows, to answer them when it completes.
func (o *output) collectFrameWork(list []drawItem) {
	o.wantFrame = false
	for _, it := range list {
		s := it.s
		if len(s.frames) > 0 {
			o.framed = append(o.framed, s)
		}
		o.doneFrames = append(o.doneFrames, s.frames...)
		o.doneFeedbacks = append(o.doneFeedbacks, s.feedbacks...)
		s.frames, s.feedbacks = emptied(s.frames), emptied(s.feedbacks)
	}
	o.c.cursorFrameWork(o)
	if len(o.c.lock.waiting) > 0 {
		o.c.lockFrameStarted(o)
	}
}

// SetActive pauses drawing (another VT has the display; clients stay
// connected and keep their buffers) or resumes it with a full repaint.
func (c *Compositor) SetActive(active bool) {
	if c.active == active {
		return
	}
	c.active = active
	c.log.Info("session", "active", active, "event", "session.active")
	if !active {
		return
	}
	for _, o := range c.outputs {
		o.revoked = false
		// A flip that was pending at pause time never completes.
		if o.inFlight {
			o.frameDone(present.Info{Time: eventloop.Now(), Refresh: o.refresh, Seq: o.seq})
		}
		o.damage.Add(image.Rect(0, 0, o.width, o.height))
		if !o.powerOn {
			// The backend lit every display again on resume.
			o.powerOn = true
			c.applyPower(o)
		}
	}
	c.restoreCursorPlanes()
}

// PresentDone is called (on the loop) when dev finished a frame.
func (c *Compositor) PresentDone(dev Output, info present.Info) {
	for _, o := range c.outputs {
		if o.dev == dev {
			o.frameDone(info)
			return
		}
	}
}

func (o *output) frameDone(info present.Info) {
	o.inFlight = false
	o.seq = info.Seq
	o.idleTimer.Stop()
	o.lastVblank = info.Time
	if now := eventloop.Now(); o.lastVblank <= 0 || o.lastVblank > now {
		// A completion without a usable timestamp: time from now.
		o.lastVblank = now
	}
	// The flip replaced what was on the planes: those buffers may go
	// back (a buffer flipped again only loses the older hold).
	o.leavePlanes()
	o.onScreen, o.pendingScreen = o.pendingScreen, o.onScreen
	if o.c.started != 0 && len(o.doneFrames) > 0 && !o.isPlaceholder() {
		o.c.log.Info("first frame on screen", "output", o.dev.Name(), "after_start", (info.Time - o.c.started).Round(time.Microsecond), "event", "frame.first")
		o.c.started = 0
	}
	o.gen++
	o.awaiting = 0
	for _, s := range o.framed {
		if !s.destroyed {
			s.awaitedBy, s.awaitGen = o, o.gen
			o.awaiting++
		}
	}
	o.framed = emptied(o.framed)
	ms := uint32(info.Time / time.Millisecond)
	for _, cb := range o.doneFrames {
		cb.SendDone(ms)
		cb.Destroy()
	}
	sec := uint64(info.Time / time.Second)
	nsec := uint32(info.Time % time.Second)
	for _, fb := range o.doneFeedbacks {
		if !fb.Alive() {
			continue
		}
		cs := o.c.client(fb.Client())
		for _, res := range cs.outputs[o] {
			fb.SendSyncOutput(res)
		}
		fb.SendPresented(uint32(sec>>32), uint32(sec), nsec, uint32(info.Refresh), uint32(info.Seq>>32), uint32(info.Seq), uint32(info.Flags))
		fb.Destroy()
	}
	o.doneFrames, o.doneFeedbacks = o.doneFrames[:0], o.doneFeedbacks[:0]
	if len(o.c.lock.started) > 0 {
		o.c.lockFrameDone(o)
	}
	waiters := o.copyWaiters
	o.copyWaiters = nil
	for _, f := range waiters {
		f()
	}
	if o.powerOn == o.off() {
		// A power change waited for this frame.
		o.c.applyPower(o)
	}
}

// drawItem is one surface at its place in output coordinates.
type drawItem struct {
	s   *surface
	pos image.Point // surface origin in output coordinates
}

// itemRect is where it is drawn, in shadow pixels.
func (o *output) itemRect(it drawItem) image.Rectangle {
	return o.pixelRect(it.s.sizeRect().Add(it.pos))
}

// composite repaints r of the shadow: from the topmost surface that
// covers r with opaque content (or the background), upward.
func (o *output) composite(shadow *render.Image, list []drawItem, r image.Rectangle) {
	start := -1
	for i := len(list) - 1; i >= 0; i-- {
		it := list[i]
		if it.s.fullyOpaque() && r.In(o.itemRect(it)) {
			start = i
			break
		}
	}
	if start < 0 {
		render.Fill(shadow, r, 0xff000000, r)
		start = 0
	}
	for _, it := range list[start:] {
		o.drawSurface(shadow, it, r)
	}
}

func (o *output) drawSurface(shadow *render.Image, it drawItem, clip image.Rectangle) {
	s := it.s
	dst := o.itemRect(it)
	if !dst.Overlaps(clip) {
		return
	}
	b := s.buf
	img := b.image()
	if b.dma != nil {
		m, err := b.dma.mapped(b.format)
		if err != nil {
			// Neither on a plane nor readable by the CPU: the client
			// must choose another buffer.
			s.res.Client().PostError(b.res.ID(), protocol.ErrInvalidObject,
				fmt.Sprintf("wl_buffer#%d: dma-buf %s modifier 0x%x cannot be shown here: %v", b.res.ID(), render.Format(b.dma.desc.Format), b.dma.desc.Modifier, err))
			return
		}
		if err := m.BeginRead(); err != nil {
			o.c.log.Debug("dma-buf sync", "err", err)
		}
		defer m.EndRead()
		if y := b.dma.yuv; y != nil {
			o.yuv.Draw(shadow, render.YUVLayer{Src: y, SrcRect: s.srcRect(), Transform: s.transform, Dst: dst}, clip)
			return
		}
		img = &render.Image{Pix: m.Pix, Stride: m.Stride, Width: b.width, Height: b.height, Format: b.format}
	}
	if img == nil {
		return
	}
	layer := render.Layer{Src: img, SrcRect: s.srcRect(), Transform: s.transform, Dst: dst, Opaque: s.fullyOpaque()}
	if err := guardFault(func() { render.Draw(shadow, layer, clip) }); err != nil {
		// The client shrank the file behind its pool. libwayland blames
		// the buffer with wl_shm's invalid_fd, and clients expect that.
		s.res.Client().PostError(b.res.ID(), wl.ShmErrorInvalidFd, fmt.Sprintf("wl_buffer#%d: error accessing SHM buffer (%v)", b.res.ID(), err))
	}
}

// refreshShadow composites the whole output into the shadow without
// presenting, for screen copies taken while a client buffer is on the
// plane.
func (o *output) refreshShadow() {
	if !o.shadowStale && len(o.layerRects) == 0 {
		return
	}
	list := o.c.drawList(o)
	if o.shadowStale {
		o.composite(o.dev.Shadow(), list, o.pixelBounds())
		o.shadowStale = false
		return
	}
	// Overlay layers are not in the shadow: draw them in for the copy.
	// Under an opaque layer the shadow is never shown (cut keeps that
	// area for when it leaves); under a translucent one it shows what
	// is below the layer, so that is painted again next frame. (Layers
	// are only planned at scale 1, where output and shadow pixels are
	// the same.)
	for _, l := range o.layerRects {
		o.composite(o.dev.Shadow(), list, l.r)
		if !l.opaque {
			o.damage.Add(l.r)
		}
	}
}

// guardFault runs f and turns a memory fault (SIGBUS from a truncated
// shm file) into an error instead of a crash.
func guardFault(f func()) (err error) {
	old := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(old)
		if p := recover(); p != nil {
			var re runtime.Error
			if e, ok := p.(runtime.Error); ok && errors.As(e, &re) {
				if a, ok := p.(interface{ Addr() uintptr }); ok {
					err = faultError{a.Addr()}
					return
				}
			}
			panic(p)
		}
	}()
	f()
	return nil
}

// damageOutputs adds r, in global coordinates, to every output it
// touches.
func (c *Compositor) damageGlobal(r image.Rectangle) {
	for _, o := range c.outputs {
		if x := r.Intersect(o.bounds()); !x.Empty() {
			o.damage.Add(x.Sub(o.pos))
		}
	}
}
