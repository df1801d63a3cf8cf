package scene

import (
	"image"
	"math"
	"slices"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/pointerconstraints"
	"github.com/vitrine-wm/vitrine/protocol/relativepointer"
	"github.com/vitrine-wm/vitrine/protocol/wl"
	"github.com/vitrine-wm/vitrine/seat/inputevent"
)

// Relative pointer motion and pointer constraints, for games and remote
// desktops: a locked pointer stays where it is while the client still
// gets the device's motion; a confined one stays inside a region of the
// surface.

const (
	relativePointerVersion    = 1
	pointerConstraintsVersion = 1
)

// relativePointer is a zwp_relative_pointer_v1 of a client's wl_pointer.
type relativePointer struct {
	res     *relativepointer.RelativePointerV1
	pointer *wl.Pointer
}

func (*relativePointer) Destroy(*relativepointer.RelativePointerV1) error { return nil }

func (c *Compositor) bindRelativePointer(pc *protocol.Client, v, id uint32) error {
	res, err := relativepointer.NewRelativePointerManagerV1(pc, id, v)
	if err == nil {
		res.Handler = relativePointerManager{c}
	}
	return err
}

type relativePointerManager struct{ c *Compositor }

func (relativePointerManager) Destroy(*relativepointer.RelativePointerManagerV1) error { return nil }

func (m relativePointerManager) GetRelativePointer(_ *relativepointer.RelativePointerManagerV1, res *relativepointer.RelativePointerV1, p *wl.Pointer) error {
	c := m.c
	rp := &relativePointer{res: res, pointer: p}
	res.Handler = rp
	c.relPointers = append(c.relPointers, rp)
	res.OnDestroy(func() {
		c.relPointers = slices.DeleteFunc(c.relPointers, func(x *relativePointer) bool { return x == rp })
	})
	return nil
}

// relativeMotion sends a device's motion to the relative pointers of
// the client with pointer focus, constrained or not.
func (c *Compositor) relativeMotion(e inputevent.PointerMotion) {
	s := c.in.ptrFocus
	if s == nil || s.destroyed || len(c.relPointers) == 0 {
		return
	}
	us := uint64(e.When().Microseconds())
	dx, dy := protocol.FixedFromFloat(e.DX), protocol.FixedFromFloat(e.DY)
	for _, rp := range c.relPointers {
		if rp.res.Client() == s.res.Client() && rp.pointer.Alive() {
			// vitrine applies no acceleration: both pairs are the device's.
			rp.res.SendRelativeMotion(uint32(us>>32), uint32(us), dx, dy, dx, dy)
			c.in.pendingFrame = true
		}
	}
}

func (c *Compositor) bindPointerConstraints(pc *protocol.Client, v, id uint32) error {
	res, err := pointerconstraints.NewPointerConstraintsV1(pc, id, v)
	if err == nil {
		res.Handler = pointerConstraintsManager{c}
	}
	return err
}

type pointerConstraintsManager struct{ c *Compositor }

func (pointerConstraintsManager) Destroy(*pointerconstraints.PointerConstraintsV1) error { return nil }

func (m pointerConstraintsManager) LockPointer(r *pointerconstraints.PointerConstraintsV1, res *pointerconstraints.LockedPointerV1, ws *wl.Surface, p *wl.Pointer, reg *wl.Region, lifetime uint32) error {
	k, err := m.c.newConstraint(r, ws, p, reg, lifetime)
	if err != nil {
		return err
	}
	k.locked = res
	res.Handler = lockedPointer{k}
	res.OnDestroy(k.destroyed)
	m.c.updateConstraints()
	return nil
}

func (m pointerConstraintsManager) ConfinePointer(r *pointerconstraints.PointerConstraintsV1, res *pointerconstraints.ConfinedPointerV1, ws *wl.Surface, p *wl.Pointer, reg *wl.Region, lifetime uint32) error {
	k, err := m.c.newConstraint(r, ws, p, reg, lifetime)
	if err != nil {
		return err
	}
	k.confined = res
	res.Handler = confinedPointer{k}
	res.OnDestroy(k.destroyed)
	m.c.updateConstraints()
	return nil
}

// pointerConstraint is a lock (locked set) or a confinement (confined
// set) of the pointer to a surface.
type pointerConstraint struct {
	c        *Compositor
	locked   *pointerconstraints.LockedPointerV1
	confined *pointerconstraints.ConfinedPointerV1
	surface  *surface // nil once the surface is gone: inert
	pointer  *wl.Pointer
	region   *region // nil: the whole surface
	// pendingRegion is set_region's, applied at the surface's commit.
	pendingRegion *region
	regionSet     bool
	persistent    bool
	active        bool
	// spent: a one-shot constraint that was active once is done.
	spent bool
}

func (c *Compositor) newConstraint(r *pointerconstraints.PointerConstraintsV1, ws *wl.Surface, p *wl.Pointer, reg *wl.Region, lifetime uint32) (*pointerConstraint, error) {
	if lifetime != pointerconstraints.PointerConstraintsV1LifetimeOneshot && lifetime != pointerconstraints.PointerConstraintsV1LifetimePersistent {
		return nil, protocol.NewError(r, protocol.ErrInvalidMethod, "invalid lifetime %d", lifetime)
	}
	s := surfaceOf(ws)
	for _, k := range c.constraints {
		if k.surface == s {
			return nil, protocol.NewError(r, pointerconstraints.PointerConstraintsV1ErrorAlreadyConstrained, "wl_surface#%d already has a pointer constraint", ws.ID())
		}
	}
	k := &pointerConstraint{c: c, surface: s, pointer: p, region: regionSnapshot(reg), persistent: lifetime == pointerconstraints.PointerConstraintsV1LifetimePersistent}
	c.constraints = append(c.constraints, k)
	return k, nil
}

func (k *pointerConstraint) destroyed() {
	c := k.c
	k.active = false
	c.constraints = slices.DeleteFunc(c.constraints, func(x *pointerConstraint) bool { return x == k })
}

// inside reports whether a point of the surface is where the pointer
// may be: within the surface, its input region and the constraint's.
func (k *pointerConstraint) inside(p image.Point) bool {
	s := k.surface
	return p.In(s.sizeRect()) && (s.input == nil || s.input.contains(p)) && (k.region == nil || k.region.contains(p))
}

func (k *pointerConstraint) setActive(on bool) {
	k.active = on
	if !on && !k.persistent {
		k.spent = true
	}
	switch {
	case k.locked != nil && on:
		k.locked.SendLocked()
	case k.locked != nil:
		k.locked.SendUnlocked()
	case on:
		k.confined.SendConfined()
	default:
		k.confined.SendUnconfined()
	}
}

// updateConstraints activates the constraint of the surface with
// pointer focus once the pointer is inside its region, and deactivates
// those whose surface lost the pointer.
func (c *Compositor) updateConstraints() {
	in := &c.in
	for _, k := range c.constraints {
		want := false
		if s := k.surface; s != nil && !k.spent && s == in.ptrFocus && !s.destroyed && k.pointer.Alive() && c.sel.drag == nil {
			want = k.active || k.inside(c.pointerIn(s))
		}
		if want != k.active {
			k.setActive(want)
		}
	}
}

// pointerIn is the pointer position in the focus surface's coordinates.
func (c *Compositor) pointerIn(s *surface) image.Point {
	in := &c.in
	return image.Pt(int(math.Floor(in.pointer[0]))-in.ptrFocusPos.X, int(math.Floor(in.pointer[1]))-in.ptrFocusPos.Y)
}

// activeConstraint is the constraint holding the pointer, if any.
func (c *Compositor) activeConstraint() *pointerConstraint {
	for _, k := range c.constraints {
		if k.active {
			return k
		}
	}
	return nil
}

// constrain is where the pointer goes instead of (x, y): nowhere while
// locked, and for a confinement the nearest of the move, its horizontal
// part or its vertical part that stays inside.
func (c *Compositor) constrain(x, y float64) (float64, float64) {
	k := c.activeConstraint()
	if k == nil {
		return x, y
	}
	old := c.in.pointer
	if k.locked != nil {
		return old[0], old[1]
	}
	o := c.in.ptrFocusPos
	ok := func(x, y float64) bool {
		return k.inside(image.Pt(int(math.Floor(x))-o.X, int(math.Floor(y))-o.Y))
	}
	switch {
	case ok(x, y):
		return x, y
	case ok(x, old[1]):
		return x, old[1]
	case ok(old[0], y):
		return old[0], y
	}
	return old[0], old[1]
}

// constraintsCommitted applies set_region at the surface's commit.
func (c *Compositor) constraintsCommitted(s *surface) {
	for _, k := range c.constraints {
		if k.surface == s && k.regionSet {
			k.region, k.pendingRegion, k.regionSet = k.pendingRegion, nil, false
			if k.active && !k.inside(c.pointerIn(s)) && k.locked == nil {
				// The pointer must stay inside; the next motion that would
				// leave it is stopped, and this one is let go.
				k.setActive(false)
			}
		}
	}
	c.updateConstraints()
}

// constraintsSurfaceGone makes the surface's constraint inert.
func (c *Compositor) constraintsSurfaceGone(s *surface) {
	for _, k := range c.constraints {
		if k.surface == s {
			if k.active {
				k.setActive(false)
			}
			k.surface = nil
		}
	}
}

type lockedPointer struct{ k *pointerConstraint }

func (lockedPointer) Destroy(*pointerconstraints.LockedPointerV1) error { return nil }

// SetCursorPositionHint: vitrine leaves the pointer where it was locked,
// which the protocol allows.
func (lockedPointer) SetCursorPositionHint(*pointerconstraints.LockedPointerV1, protocol.Fixed, protocol.Fixed) error {
	return nil
}

func (l lockedPointer) SetRegion(_ *pointerconstraints.LockedPointerV1, reg *wl.Region) error {
	l.k.pendingRegion, l.k.regionSet = regionSnapshot(reg), true
	return nil
}

type confinedPointer struct{ k *pointerConstraint }

func (confinedPointer) Destroy(*pointerconstraints.ConfinedPointerV1) error { return nil }

func (cp confinedPointer) SetRegion(_ *pointerconstraints.ConfinedPointerV1, reg *wl.Region) error {
	cp.k.pendingRegion, cp.k.regionSet = regionSnapshot(reg), true
	return nil
}
