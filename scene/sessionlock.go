package scene

import (
	"image"
	"slices"
	"time"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/eventloop"
	"github.com/vitrine-wm/vitrine/protocol/sessionlock"
	"github.com/vitrine-wm/vitrine/protocol/wl"
)

// Screen locking (ext-session-lock-v1, what swaylock uses). While the
// session is locked, outputs show only the lock client's lock surfaces
// (black where it has none) and only those get input. A lock client
// that dies leaves the session locked: the protocol requires it, since
// a crash must not open the session. A new lock client may then lock
// again and take over unlocking.

const sessionLockVersion = 1

// sessionLockState is the compositor's lock.
type sessionLockState struct {
	// active: the session is locked, from an accepted lock request
	// until unlock_and_destroy.
	active bool
	// owner is the lock that may unlock; nil while active means its
	// client died and the session waits for a new lock client.
	owner *sessionLock
	// waiting are the outputs that have not yet shown a frame composed
	// after the lock; started those whose such frame is in flight.
	// owner is told "locked" when both are empty: nothing of the
	// unlocked session can be on screen any more.
	waiting, started []*output
}

// sessionLock is one client's ext_session_lock_v1.
type sessionLock struct {
	c        *Compositor
	res      *sessionlock.SessionLockV1
	locked   bool // the locked event was sent
	finished bool // refused (finished sent) or done with
	surfaces []*lockSurface
}

func (c *Compositor) bindSessionLock(pc *protocol.Client, v, id uint32) error {
	res, err := sessionlock.NewSessionLockManagerV1(pc, id, v)
	if err == nil {
		res.Handler = sessionLockManager{c}
	}
	return err
}

type sessionLockManager struct{ c *Compositor }

func (sessionLockManager) Destroy(*sessionlock.SessionLockManagerV1) error { return nil }

func (m sessionLockManager) Lock(_ *sessionlock.SessionLockManagerV1, res *sessionlock.SessionLockV1) error {
	c := m.c
	lk := &sessionLock{c: c, res: res}
	res.Handler = lk
	res.OnDestroy(lk.gone)
	st := &c.lock
	if st.active && st.owner != nil {
		// Someone holds the lock already.
		lk.finished = true
		res.SendFinished()
		return nil
	}
	if st.active {
		c.log.Info("session lock: a new lock client takes over the abandoned lock", "pid", res.Client().PID)
	} else {
		c.log.Info("session locked", "pid", res.Client().PID)
	}
	st.active, st.owner = true, lk
	c.hideUnlockedSession()
	return nil
}

// hideUnlockedSession repaints every output with the lock's content
// and takes input away from the normal clients.
func (c *Compositor) hideUnlockedSession() {
	st := &c.lock
	st.waiting, st.started = st.waiting[:0], st.started[:0]
	for _, o := range c.outputs {
		o.damage.Add(image.Rect(0, 0, o.width, o.height))
		// A display that is dark (switched off, or the session is on
		// another VT) shows nothing of the session: it repaints in
		// full, locked, when it comes back, so it is not waited for.
		if dark := !c.active || (!o.powerOn && !o.inFlight); !dark {
			st.waiting = append(st.waiting, o)
		}
	}
	in := &c.in
	if in.ptrFocus != nil {
		c.pointerLeave(c.srv.NextSerial())
	}
	if in.cursor != nil {
		c.damageCursor()
		in.cursor = nil
	}
	clear(in.touchFocus)
	c.focusChanged()
	c.checkLockShown()
}

// lockFrameStarted notes a frame of o composed while locked.
func (c *Compositor) lockFrameStarted(o *output) {
	st := &c.lock
	if i := slices.Index(st.waiting, o); i >= 0 {
		st.waiting = slices.Delete(st.waiting, i, i+1)
		st.started = append(st.started, o)
	}
}

// lockFrameDone notes o showing a frame composed while locked.
func (c *Compositor) lockFrameDone(o *output) {
	st := &c.lock
	if i := slices.Index(st.started, o); i >= 0 {
		st.started = slices.Delete(st.started, i, i+1)
		c.checkLockShown()
	}
}

// lockOutputGone forgets an unplugged output.
func (c *Compositor) lockOutputGone(o *output) {
	st := &c.lock
	st.waiting = slices.DeleteFunc(st.waiting, func(x *output) bool { return x == o })
	st.started = slices.DeleteFunc(st.started, func(x *output) bool { return x == o })
	if lk := st.owner; lk != nil {
		for _, ls := range lk.surfaces {
			if ls.out == o {
				ls.out = nil
			}
		}
	}
	c.checkLockShown()
}

// checkLockShown sends "locked" once every output shows the lock.
func (c *Compositor) checkLockShown() {
	st := &c.lock
	lk := st.owner
	if !st.active || lk == nil || lk.locked || len(st.waiting) > 0 || len(st.started) > 0 {
		return
	}
	lk.locked = true
	lk.res.SendLocked()
	// Lock surfaces committed before now were not shown yet.
	for _, ls := range lk.surfaces {
		c.damageLockSurface(ls)
		if ls.s.mapped() {
			ls.committed(ls.s)
		}
	}
	c.focusChanged()
}

func (c *Compositor) unlockSession(lk *sessionLock) {
	st := &c.lock
	c.log.Info("session unlocked", "pid", lk.res.Client().PID)
	st.active, st.owner = false, nil
	st.waiting, st.started = st.waiting[:0], st.started[:0]
	c.setKeyboardFocus(nil)
	for _, o := range c.outputs {
		o.damage.Add(image.Rect(0, 0, o.width, o.height))
	}
	for _, ls := range lk.surfaces {
		c.leaveOutputs(ls.s)
	}
	c.focusChanged()
	if len(c.in.buttons) > 0 {
		c.in.ptrFocus = nil
		c.updatePointerFocus(uint32(eventloop.Now() / time.Millisecond))
	}
}

func (lk *sessionLock) owns() bool { return lk.c.lock.active && lk.c.lock.owner == lk }

func (lk *sessionLock) Destroy(r *sessionlock.SessionLockV1) error {
	if lk.owns() && lk.locked {
		return protocol.NewError(r, sessionlock.SessionLockV1ErrorInvalidDestroy, "the session is locked: unlock_and_destroy, not destroy")
	}
	if lk.owns() {
		// Never told it was locked: the lock is withdrawn.
		lk.c.unlockSession(lk)
	}
	lk.finished = true
	return nil
}

func (lk *sessionLock) UnlockAndDestroy(r *sessionlock.SessionLockV1) error {
	if !lk.owns() || !lk.locked {
		return protocol.NewError(r, sessionlock.SessionLockV1ErrorInvalidUnlock, "unlock_and_destroy before the locked event")
	}
	lk.c.unlockSession(lk)
	lk.finished = true
	return nil
}

// gone is the lock object's end: after destroy or unlock_and_destroy,
// or because its client disconnected — then the session stays locked.
func (lk *sessionLock) gone() {
	if lk.finished || !lk.owns() {
		return
	}
	c := lk.c
	c.log.Warn("session lock: the lock client went away while locked; the session stays locked until a new lock client unlocks it", "pid", lk.res.Client().PID)
	c.lock.owner = nil
	for _, ls := range lk.surfaces {
		c.damageLockSurface(ls)
	}
	lk.surfaces = nil
	c.focusChanged()
}

func (lk *sessionLock) GetLockSurface(r *sessionlock.SessionLockV1, res *sessionlock.SessionLockSurfaceV1, ws *wl.Surface, wlo *wl.Output) error {
	s := surfaceOf(ws)
	if s.roleName != "" {
		return protocol.NewError(r, sessionlock.SessionLockV1ErrorRole, "wl_surface#%d already has role %s", ws.ID(), s.roleName)
	}
	if s.buf != nil || (s.pending.attached && s.pending.buffer != nil) || s.hasCached {
		return protocol.NewError(r, sessionlock.SessionLockV1ErrorAlreadyConstructed, "wl_surface#%d already has a buffer attached or committed", ws.ID())
	}
	o := lk.c.outputFor(wlo)
	for _, other := range lk.surfaces {
		if other.wlo == wlo || (o != nil && other.out == o) {
			return protocol.NewError(r, sessionlock.SessionLockV1ErrorDuplicateOutput, "wl_output#%d already has a lock surface", wlo.ID())
		}
	}
	ls := &lockSurface{c: lk.c, res: res, s: s, lock: lk, out: o, wlo: wlo}
	res.Handler = ls
	if err := s.setRole("ext_session_lock_surface_v1", ls); err != nil {
		return err
	}
	lk.surfaces = append(lk.surfaces, ls)
	drop := func() {
		if !slices.Contains(lk.surfaces, ls) {
			return
		}
		lk.surfaces = slices.DeleteFunc(lk.surfaces, func(x *lockSurface) bool { return x == ls })
		// A destroyed lock surface leaves black, never what it covered.
		lk.c.damageLockSurface(ls)
		if lk.c.in.kbFocus == s {
			lk.c.focusChanged()
		}
	}
	res.OnDestroy(drop)
	ws.OnDestroy(drop)
	ls.configure()
	return nil
}

// lockSurface is an ext_session_lock_surface_v1: the surface's role.
type lockSurface struct {
	c    *Compositor
	res  *sessionlock.SessionLockSurfaceV1
	s    *surface
	lock *sessionLock
	out  *output
	wlo  *wl.Output

	// sent are the configures not yet acknowledged, oldest first.
	sent []lockConfigure
	// acked is the size of the last acknowledged configure; ackedOnce
	// says there was one.
	acked     image.Point
	ackedOnce bool
}

type lockConfigure struct {
	serial uint32
	size   image.Point
}

// configure tells the client its output's size.
func (ls *lockSurface) configure() {
	if ls.out == nil {
		return
	}
	serial := ls.c.srv.NextSerial()
	size := image.Pt(ls.out.width, ls.out.height)
	ls.sent = append(ls.sent, lockConfigure{serial, size})
	ls.res.SendConfigure(serial, uint32(size.X), uint32(size.Y))
}

func (ls *lockSurface) Destroy(*sessionlock.SessionLockSurfaceV1) error { return nil }

func (ls *lockSurface) AckConfigure(r *sessionlock.SessionLockSurfaceV1, serial uint32) error {
	i := slices.IndexFunc(ls.sent, func(c lockConfigure) bool { return c.serial == serial })
	if i < 0 {
		return protocol.NewError(r, sessionlock.SessionLockSurfaceV1ErrorInvalidSerial, "serial %d is not that of a configure waiting for its ack", serial)
	}
	ls.acked, ls.ackedOnce = ls.sent[i].size, true
	ls.sent = slices.Delete(ls.sent, 0, i+1)
	return nil
}

func (ls *lockSurface) precommit(s *surface) error {
	if !ls.res.Alive() {
		return nil // an inert surface: the role object is gone
	}
	if !ls.ackedOnce {
		return protocol.NewError(ls.res, sessionlock.SessionLockSurfaceV1ErrorCommitBeforeFirstAck, "commit before the first ack_configure")
	}
	p := &s.pending
	buf := s.buf
	if p.attached {
		buf = p.buffer
	}
	if buf == nil {
		return protocol.NewError(ls.res, sessionlock.SessionLockSurfaceV1ErrorNullBuffer, "commit with no buffer")
	}
	if size := pendingSize(s, buf); size != ls.acked {
		return protocol.NewError(ls.res, sessionlock.SessionLockSurfaceV1ErrorDimensionsMismatch, "surface is %dx%d, the acknowledged configure says %dx%d", size.X, size.Y, ls.acked.X, ls.acked.Y)
	}
	return nil
}

// pendingSize is the size s will have once its pending state with
// buffer buf is applied.
func pendingSize(s *surface, buf *buffer) image.Point {
	p := &s.pending
	t, scale, vpSrc, vpDst := s.transform, s.scale, s.vpSrc, s.vpDst
	if p.transformSet {
		t = p.transform
	}
	if p.scaleSet {
		scale = p.scale
	}
	if p.viewportSet {
		vpSrc, vpDst = p.vpSrc, p.vpDst
	}
	bw, bh := t.TransformSize(buf.width, buf.height)
	w, h := bw/int(max(scale, 1)), bh/int(max(scale, 1))
	if vpSrc[2] >= 0 {
		w, h = int(vpSrc[2].Float()), int(vpSrc[3].Float())
	}
	if vpDst[0] >= 0 {
		w, h = int(vpDst[0]), int(vpDst[1])
	}
	return image.Pt(w, h)
}

func (ls *lockSurface) committed(s *surface) {
	c := ls.c
	if ls.shown() {
		c.enterOutput(s, ls.out)
		if c.in.kbFocus == nil {
			c.focusChanged()
		}
		c.updatePointerFocus(uint32(eventloop.Now() / time.Millisecond))
	}
}

// shown reports whether ls is on screen: its lock holds the session,
// was told so, and its output is there.
func (ls *lockSurface) shown() bool {
	return ls.lock.owns() && ls.lock.locked && ls.out != nil && !ls.out.gone && slices.Contains(ls.lock.surfaces, ls)
}

func (c *Compositor) damageLockSurface(ls *lockSurface) {
	if ls.out != nil && !ls.out.gone {
		ls.out.damage.Add(image.Rect(0, 0, ls.out.width, ls.out.height))
	}
}

// appendLockList is what o shows while the session is locked: its lock
// surface and that surface's subsurfaces, or nothing (black).
func (c *Compositor) appendLockList(list []drawItem, o *output) []drawItem {
	lk := c.lock.owner
	if lk == nil || !lk.locked {
		return list
	}
	for _, ls := range lk.surfaces {
		if ls.out == o {
			return c.appendTree(list, ls.s, image.Point{})
		}
	}
	return list
}

// lockFocus is the lock surface that gets the keyboard: the one under
// the pointer, else the first mapped.
func (c *Compositor) lockFocus() *surface {
	lk := c.lock.owner
	if lk == nil || !lk.locked {
		return nil
	}
	var first *surface
	for _, ls := range lk.surfaces {
		if !ls.shown() || !ls.s.mapped() {
			continue
		}
		if first == nil {
			first = ls.s
		}
		if p := image.Pt(int(c.in.pointer[0]), int(c.in.pointer[1])); p.In(ls.out.bounds()) {
			return ls.s
		}
	}
	return first
}

// isLockSurface reports whether s (or the surface it is a subsurface
// of) is a lock surface on screen.
func (c *Compositor) isLockSurface(s *surface) bool {
	for depth := 0; s != nil && depth < 64; depth++ {
		if s.sub == nil {
			ls, ok := s.role.(*lockSurface)
			return ok && ls.shown()
		}
		s = s.sub.parent
	}
	return false
}

// lockOrigin is surfaceOrigin for a lock surface: the top-left corner
// of its output.
func (c *Compositor) lockOrigin(ls *lockSurface) (image.Point, *output, bool) {
	if !ls.shown() {
		return image.Point{}, nil, false
	}
	return ls.out.pos, ls.out, true
}

// lockOutputResized sends the lock surfaces on o their new size.
func (c *Compositor) lockOutputResized(o *output) {
	if lk := c.lock.owner; lk != nil {
		for _, ls := range lk.surfaces {
			if ls.out == o {
				ls.configure()
			}
		}
	}
}
