package scene_test

import (
	"testing"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/protocoltest"
	"github.com/vitrine-wm/vitrine/render"
	"github.com/vitrine-wm/vitrine/seat/inputevent"
)

// constrained is a raw client's pointer with relative motion and
// pointer constraints bound.
type constrained struct {
	h                    *protocoltest.Client
	pointer, rel, constr uint32
}

func newConstrained(t *testing.T, h *protocoltest.Client, reg *registry) *constrained {
	t.Helper()
	k := &constrained{h: h}
	seat := reg.bind(t, "wl_seat", 5)
	k.pointer = h.NewID()
	must(t, h.Send(seat, 0, k.pointer))
	rpm := reg.bind(t, "zwp_relative_pointer_manager_v1", 1)
	k.rel = h.NewID()
	must(t, h.Send(rpm, 1, k.rel, k.pointer))
	k.constr = reg.bind(t, "zwp_pointer_constraints_v1", 1)
	syncEvents(t, h)
	return k
}

const (
	lifetimeOneshot    = 1
	lifetimePersistent = 2
)

// lock locks the pointer on surface; region 0 is the whole surface.
func (k *constrained) lock(t *testing.T, surface, region uint32, lifetime uint32) uint32 {
	t.Helper()
	id := k.h.NewID()
	must(t, k.h.Send(k.constr, 1, id, surface, k.pointer, region, lifetime))
	return id
}

func (k *constrained) confine(t *testing.T, surface, region uint32, lifetime uint32) uint32 {
	t.Helper()
	id := k.h.NewID()
	must(t, k.h.Send(k.constr, 2, id, surface, k.pointer, region, lifetime))
	return id
}

// rect makes a wl_region of one rectangle.
func rect(t *testing.T, w *window, x, y, wd, ht int32) uint32 {
	t.Helper()
	id := w.h.NewID()
	must(t, w.h.Send(w.compositor, 1, id))
	must(t, w.h.Send(id, 1, x, y, wd, ht))
	return id
}

// fixed is a wl_fixed argument as the wire carries it.
func fixed(v int) uint32 { return uint32(int32(v * 256)) }

func TestLockedPointerGetsOnlyRelativeMotion(t *testing.T) {
	r := startRig(t, 64, 64, 60000, render.Normal, protocol.Options{})
	w := newWindow(t, r.dial(t), 64)
	w.draw(t, 0x203040)
	k := newConstrained(t, w.h, w.reg)
	lk := k.lock(t, w.surface, 0, lifetimePersistent)
	r.pointAt(t, 32, 32)
	// The pointer starts at the centre, on the window: it has focus.
	mustFind(t, syncEvents(t, w.h), lk, 0, "zwp_locked_pointer_v1.locked")

	r.input(t, inputevent.PointerMotion{DX: 5, DY: -3}, inputevent.Frame{})
	evs := syncEvents(t, w.h)
	rel := mustFind(t, evs, k.rel, 0, "zwp_relative_pointer_v1.relative_motion")
	if rel.Uint(2) != fixed(5) || rel.Uint(3) != fixed(-3) || rel.Uint(4) != fixed(5) || rel.Uint(5) != fixed(-3) {
		t.Fatalf("relative_motion %d,%d (unaccelerated %d,%d)/256, want 5,-3", int32(rel.Uint(2)), int32(rel.Uint(3)), int32(rel.Uint(4)), int32(rel.Uint(5)))
	}
	if _, ok := find(evs, k.pointer, 2); ok {
		t.Fatal("a locked pointer moved: wl_pointer.motion was sent")
	}
	mustFind(t, evs, k.pointer, 5, "wl_pointer.frame after the relative motion")

	// Unlocked, the pointer moves on from where it was locked.
	must(t, w.h.Send(lk, 0))
	syncEvents(t, w.h)
	r.input(t, inputevent.PointerMotion{DX: 5, DY: 1}, inputevent.Frame{})
	m := mustFind(t, syncEvents(t, w.h), k.pointer, 2, "wl_pointer.motion once unlocked")
	if m.Uint(1) != fixed(37) || m.Uint(2) != fixed(33) {
		t.Fatalf("motion to %d,%d/256 after the unlock, want 37,33 (the pointer must not have moved while locked)", m.Uint(1), m.Uint(2))
	}
}

func TestConfinedPointerStaysInItsRegion(t *testing.T) {
	r := startRig(t, 64, 64, 60000, render.Normal, protocol.Options{})
	w := newWindow(t, r.dial(t), 64)
	w.draw(t, 0x203040)
	k := newConstrained(t, w.h, w.reg)
	cf := k.confine(t, w.surface, rect(t, w, 10, 10, 20, 20), lifetimePersistent)
	r.pointAt(t, 20, 20)
	mustFind(t, syncEvents(t, w.h), cf, 0, "zwp_confined_pointer_v1.confined")

	motion := func(dx, dy float64) (int32, int32) {
		t.Helper()
		r.input(t, inputevent.PointerMotion{DX: dx, DY: dy}, inputevent.Frame{})
		m := mustFind(t, syncEvents(t, w.h), k.pointer, 2, "wl_pointer.motion")
		return int32(m.Uint(1)) / 256, int32(m.Uint(2)) / 256
	}
	if x, y := motion(40, 0); x != 20 || y != 20 {
		t.Fatalf("a move out of the region went to %d,%d, want to stay at 20,20", x, y)
	}
	if x, y := motion(5, 40); x != 25 || y != 20 {
		t.Fatalf("a move down and out of the region went to %d,%d, want 25,20 (only its part inside)", x, y)
	}
	// A new region (the whole surface) at the next commit.
	must(t, w.h.Send(cf, 1, uint32(0)))
	must(t, w.h.Send(w.surface, 6))
	syncEvents(t, w.h)
	if x, y := motion(30, 0); x != 55 || y != 20 {
		t.Fatalf("with the region unset the pointer went to %d,%d, want 55,20", x, y)
	}
}

func TestHostilePointerConstrainedTwice(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: 1, msg: "already has a pointer constraint"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		w := hs.window(t, h)
		k := newConstrained(t, h, w.reg)
		k.lock(t, w.surface, 0, lifetimeOneshot)
		k.confine(t, w.surface, 0, lifetimeOneshot)
		return k.constr
	})
}

func TestHostilePointerConstraintWithAnInvalidLifetime(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: protocol.ErrInvalidMethod, msg: "invalid lifetime 7"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		w := hs.window(t, h)
		k := newConstrained(t, h, w.reg)
		k.lock(t, w.surface, 0, 7)
		return k.constr
	})
}

func TestHostileConstrainedSurfaceDestroyed(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{tolerated: true}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		w := hs.window(t, h)
		w.draw(t, 0x804020)
		k := newConstrained(t, h, w.reg)
		lk := k.lock(t, w.surface, 0, lifetimePersistent)
		hs.pointAt(t, 32, 32)
		mustFind(t, syncEvents(t, h), lk, 0, "locked")
		must(t, h.Send(w.top, 0))
		must(t, h.Send(w.xsurf, 0))
		must(t, h.Send(w.surface, 0))
		mustFind(t, syncEvents(t, h), lk, 1, "unlocked when the surface went")
		// The lock is inert: requests on it are harmless, and the pointer
		// moves again.
		must(t, h.Send(lk, 2, uint32(0)))
		must(t, h.Send(lk, 1, fixed(1), fixed(1)))
		hs.input(t, inputevent.PointerMotion{DX: 3, DY: 3}, inputevent.Frame{})
		return 0
	})
}

func TestHostilePointerConfinedToAnEmptyRegion(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{tolerated: true}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		w := hs.window(t, h)
		w.draw(t, 0x804020)
		k := newConstrained(t, h, w.reg)
		empty := h.NewID()
		must(t, h.Send(w.compositor, 1, empty))
		cf := k.confine(t, w.surface, empty, lifetimePersistent)
		hs.pointAt(t, 32, 32)
		hs.input(t, inputevent.PointerMotion{DX: 3, DY: 3}, inputevent.Frame{})
		evs := syncEvents(t, h)
		if _, ok := find(evs, cf, 0); ok {
			t.Fatal("a confinement to an empty region became active")
		}
		mustFind(t, evs, k.pointer, 2, "wl_pointer.motion: an empty confinement must not stop the pointer")
		return 0
	})
}

func TestHostileRelativePointerOfAReleasedPointer(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: protocol.ErrInvalidObject, msg: "invalid object"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		reg := getRegistry(t, h)
		seat := reg.bind(t, "wl_seat", 5)
		ptr := h.NewID()
		must(t, h.Send(seat, 0, ptr))
		must(t, h.Send(ptr, 1)) // wl_pointer.release
		rpm := reg.bind(t, "zwp_relative_pointer_manager_v1", 1)
		must(t, h.Send(rpm, 1, h.NewID(), ptr))
		return 1
	})
}
