package scene_test

import (
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/protocoltest"
	"github.com/vitrine-wm/vitrine/protocol/sessionlock"
	"github.com/vitrine-wm/vitrine/render"
	"github.com/vitrine-wm/vitrine/seat/inputevent"
)

// Opcodes of ext-session-lock-v1 and of the wl_* requests the raw lock
// client makes.
const (
	opLockManagerLock   = 1
	opLockDestroy       = 0
	opLockGetSurface    = 1
	opLockUnlock        = 2
	evLockLocked        = 0
	evLockFinished      = 1
	opLockSurfaceAck    = 1
	evLockSurfaceConfig = 0
)

// lockClient is a raw ext_session_lock_v1 client.
type lockClient struct {
	h                    *protocoltest.Client
	reg                  *registry
	compositor, shm, mgr uint32
	output, lock         uint32
	keyboard, pointer    uint32
	configSerial         uint32
	configW, configH     uint32
	mem                  []int
}

// newLockClient binds what a lock client needs and sends lock.
func newLockClient(t *testing.T, h *protocoltest.Client) *lockClient {
	t.Helper()
	lc := &lockClient{h: h, reg: getRegistry(t, h)}
	lc.compositor = lc.reg.bind(t, "wl_compositor", 4)
	lc.shm = lc.reg.bind(t, "wl_shm", 1)
	lc.output = lc.reg.bind(t, "wl_output", 4)
	seat := lc.reg.bind(t, "wl_seat", 5)
	lc.keyboard, lc.pointer = h.NewID(), h.NewID()
	must(t, h.Send(seat, 0, lc.pointer))
	must(t, h.Send(seat, 1, lc.keyboard))
	lc.mgr = lc.reg.bind(t, "ext_session_lock_manager_v1", 1)
	// The wl_output must be known to the compositor before it names it.
	must(t, h.Roundtrip(3*time.Second))
	lc.lock = h.NewID()
	must(t, h.Send(lc.mgr, opLockManagerLock, lc.lock))
	return lc
}

// waitLock reads until the lock answers: true for locked, false for
// finished.
func (lc *lockClient) waitLock(t *testing.T, lock uint32) bool {
	t.Helper()
	for {
		e, err := lc.h.Read(3 * time.Second)
		if err != nil {
			t.Fatalf("waiting for locked or finished: %v", err)
		}
		switch {
		case e.Object == 1 && e.Opcode == 0:
			t.Fatalf("protocol error: object %d code %d: %s", e.Uint(0), e.Uint(1), e.String(2))
		case e.Object == lock && e.Opcode == evLockLocked:
			return true
		case e.Object == lock && e.Opcode == evLockFinished:
			return false
		}
	}
}

// buffer makes a w×h XRGB8888 wl_shm buffer filled with xrgb.
func (lc *lockClient) buffer(t *testing.T, w, h int, xrgb uint32) uint32 {
	t.Helper()
	size := w * h * 4
	fd, err := unix.MemfdCreate("lock", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd) // the compositor has its own once sent
	must(t, unix.Ftruncate(fd, int64(size)))
	pix, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < size; i += 4 {
		binary.LittleEndian.PutUint32(pix[i:], xrgb)
	}
	unix.Munmap(pix)
	pool, buf := lc.h.NewID(), lc.h.NewID()
	must(t, lc.h.SendFDs([]int{fd}, lc.shm, 0, pool, int32(size)))
	must(t, lc.h.Send(pool, 0, buf, int32(0), int32(w), int32(h), int32(w*4), uint32(1)))
	must(t, lc.h.Send(pool, 1))
	return buf
}

// lockSurface makes a lock surface on the output and waits for its
// configure; it returns the wl_surface and the lock surface.
func (lc *lockClient) lockSurface(t *testing.T) (surface, ls uint32) {
	t.Helper()
	surface, ls = lc.h.NewID(), lc.h.NewID()
	must(t, lc.h.Send(lc.compositor, 0, surface))
	must(t, lc.h.Send(lc.lock, opLockGetSurface, ls, surface, lc.output))
	for {
		e, err := lc.h.Read(3 * time.Second)
		if err != nil {
			t.Fatalf("waiting for the lock surface's configure: %v", err)
		}
		if e.Object == 1 && e.Opcode == 0 {
			t.Fatalf("protocol error: object %d code %d: %s", e.Uint(0), e.Uint(1), e.String(2))
		}
		if e.Object == ls && e.Opcode == evLockSurfaceConfig {
			lc.configSerial, lc.configW, lc.configH = e.Uint(0), e.Uint(1), e.Uint(2)
			return surface, ls
		}
	}
}

// show acks the configure and commits a buffer of its size in xrgb.
func (lc *lockClient) show(t *testing.T, surface, ls uint32, xrgb uint32) {
	t.Helper()
	must(t, lc.h.Send(ls, opLockSurfaceAck, lc.configSerial))
	buf := lc.buffer(t, int(lc.configW), int(lc.configH), xrgb)
	must(t, lc.h.Send(surface, 1, buf, int32(0), int32(0)))
	must(t, lc.h.Send(surface, 9, int32(0), int32(0), int32(lc.configW), int32(lc.configH)))
	cb := lc.h.NewID()
	must(t, lc.h.Send(surface, 3, cb))
	must(t, lc.h.Send(surface, 6))
	for {
		e, err := lc.h.Read(3 * time.Second)
		if err != nil {
			t.Fatalf("waiting for the lock surface's frame: %v", err)
		}
		if e.Object == 1 && e.Opcode == 0 {
			t.Fatalf("protocol error: object %d code %d: %s", e.Uint(0), e.Uint(1), e.String(2))
		}
		if e.Object == cb && e.Opcode == 0 {
			return
		}
	}
}

func (lc *lockClient) unlock(t *testing.T) {
	t.Helper()
	must(t, lc.h.Send(lc.lock, opLockUnlock))
	must(t, lc.h.Roundtrip(3*time.Second))
}

// checkFilled reports whether img is xrgb everywhere.
func checkFilled(img *render.Image, xrgb uint32) error {
	for y := 0; y < img.Height; y++ {
		for x := 0; x < img.Width; x++ {
			if got := binary.LittleEndian.Uint32(img.Pix[y*img.Stride+4*x:]) & 0xffffff; got != xrgb&0xffffff {
				return fmt.Errorf("pixel (%d,%d) = %06x, want %06x everywhere", x, y, got, xrgb&0xffffff)
			}
		}
	}
	return nil
}

// waitScreen polls the screen until check passes.
func waitScreen(t *testing.T, r *rig, check func(*render.Image) error) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		err := check(r.screenshot(t))
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// seatEvents binds the bystander's keyboard and pointer.
func bindInput(t *testing.T, w *window) (keyboard, pointer uint32) {
	t.Helper()
	seat := w.reg.bind(t, "wl_seat", 5)
	keyboard, pointer = w.h.NewID(), w.h.NewID()
	must(t, w.h.Send(seat, 0, pointer))
	must(t, w.h.Send(seat, 1, keyboard))
	must(t, w.h.Roundtrip(3*time.Second))
	return keyboard, pointer
}

// inputEvents drains what arrived on h and counts keyboard key/enter
// and pointer enter/motion/button events.
func inputEvents(t *testing.T, h *protocoltest.Client, keyboard, pointer uint32) (keys, enters, pointerEvents int) {
	t.Helper()
	must(t, h.Send(1, 0, h.NewID())) // a sync so the reads end
	for {
		e, err := h.Read(300 * time.Millisecond)
		if err != nil {
			return
		}
		switch {
		case e.Object == keyboard && e.Opcode == 3:
			keys++
		case e.Object == keyboard && e.Opcode == 1:
			enters++
		case e.Object == pointer && e.Opcode <= 3:
			pointerEvents++
		}
	}
}

func addInputDevices(t *testing.T, r *rig) {
	r.onLoop(t, func() {
		r.comp.HandleInput(inputevent.DeviceAdded{Header: inputevent.Header{Device: "kbd"}, Caps: inputevent.DeviceCaps{Keyboard: true}})
		r.comp.HandleInput(inputevent.DeviceAdded{Header: inputevent.Header{Device: "tablet"}, Caps: inputevent.DeviceCaps{Pointer: true, Tablet: true}})
	})
}

func typeAndPoint(t *testing.T, r *rig) {
	r.onLoop(t, func() {
		kbd, tab := inputevent.Header{Device: "kbd"}, inputevent.Header{Device: "tablet"}
		r.comp.HandleInput(inputevent.PointerAbs{Header: tab, X: 0.5, Y: 0.5})
		r.comp.HandleInput(inputevent.Frame{Header: tab})
		r.comp.HandleInput(inputevent.Button{Header: tab, Code: 0x110, Pressed: true})
		r.comp.HandleInput(inputevent.Button{Header: tab, Code: 0x110, Pressed: false})
		r.comp.HandleInput(inputevent.Frame{Header: tab})
		r.comp.HandleInput(inputevent.Key{Header: kbd, Code: 30, Pressed: true})
		r.comp.HandleInput(inputevent.Key{Header: kbd, Code: 30, Pressed: false})
	})
}

// lockRig is a rig whose output is turned 180°, so that a fullscreen
// lock surface is composited into the shadow the tests read instead of
// shown by reference (what headless does with upright ones).
func lockRig(t *testing.T) *rig {
	return startRig(t, 64, 64, 60000, render.Rotate180, protocol.Options{})
}

// TestSessionLockShowsOnlyTheLockAndTakesInput: while locked the
// screen is the lock surface's colour everywhere, the lock client gets
// the keys and the pointer and the window below gets nothing; a second
// lock is refused with finished; after unlock the window shows again,
// gets frames and the keyboard.
func TestSessionLockShowsOnlyTheLockAndTakesInput(t *testing.T) {
	r := lockRig(t)
	addInputDevices(t, r)
	win := newWindow(t, r.dial(t), 32)
	kb, ptr := bindInput(t, win)
	win.draw(t, 0x00ff00)
	typeAndPoint(t, r)
	if keys, _, pe := inputEvents(t, win.h, kb, ptr); keys == 0 || pe == 0 {
		t.Fatalf("before locking the window got %d keys and %d pointer events, want some", keys, pe)
	}

	lc := newLockClient(t, r.dial(t))
	if !lc.waitLock(t, lc.lock) {
		t.Fatal("the first lock got finished, want locked")
	}
	waitScreen(t, r, func(img *render.Image) error { return checkFilled(img, 0) })
	surface, ls := lc.lockSurface(t)
	if lc.configW != 64 || lc.configH != 64 {
		t.Fatalf("lock surface configured %dx%d, want the output's 64x64", lc.configW, lc.configH)
	}
	lc.show(t, surface, ls, 0xff0000)
	waitScreen(t, r, func(img *render.Image) error { return checkFilled(img, 0xff0000) })

	// The window below keeps committing; it must stay hidden.
	must(t, win.h.Send(win.surface, 1, win.buffer, int32(0), int32(0)))
	must(t, win.h.Send(win.surface, 2, int32(0), int32(0), int32(32), int32(32)))
	must(t, win.h.Send(win.surface, 6))
	must(t, win.h.Roundtrip(3*time.Second))
	inputEvents(t, win.h, kb, ptr) // what came before the lock
	typeAndPoint(t, r)
	if keys, enters, pe := inputEvents(t, win.h, kb, ptr); keys+enters+pe > 0 {
		t.Fatalf("while locked the window got %d keys, %d keyboard enters, %d pointer events", keys, enters, pe)
	}
	if keys, _, pe := inputEvents(t, lc.h, lc.keyboard, lc.pointer); keys == 0 || pe == 0 {
		t.Fatalf("the lock surface got %d keys and %d pointer events, want both", keys, pe)
	}
	if err := checkFilled(r.screenshot(t), 0xff0000); err != nil {
		t.Fatalf("after the window committed while locked: %v", err)
	}

	// Another lock while one holds the session is refused.
	other := newLockClient(t, r.dial(t))
	if other.waitLock(t, other.lock) {
		t.Fatal("a second lock got locked while the first holds the session")
	}
	must(t, other.h.Send(other.lock, opLockDestroy))
	must(t, other.h.Roundtrip(3*time.Second))

	lc.unlock(t)
	win.draw(t, 0x0000ff)
	if err := checkCentred(r.screenshot(t), 32, 0x0000ff); err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	typeAndPoint(t, r)
	// (Its keyboard enter came with the unlock, read by draw.)
	if keys, _, pe := inputEvents(t, win.h, kb, ptr); keys == 0 || pe == 0 {
		t.Fatalf("after unlock the window got %d keys and %d pointer events, want both", keys, pe)
	}
}

// TestSessionLockOutlivesItsClient: a lock client that dies leaves the
// session locked and the screen black (not what the lock covered); a
// new lock client then gets locked, not finished, and can unlock.
func TestSessionLockOutlivesItsClient(t *testing.T) {
	r := lockRig(t)
	win := newWindow(t, r.dial(t), 32)
	win.draw(t, 0x00ff00)
	h, err := protocoltest.Dial(r.socket)
	if err != nil {
		t.Fatal(err)
	}
	lc := newLockClient(t, h)
	if !lc.waitLock(t, lc.lock) {
		t.Fatal("lock got finished")
	}
	surface, ls := lc.lockSurface(t)
	lc.show(t, surface, ls, 0xff0000)
	waitScreen(t, r, func(img *render.Image) error { return checkFilled(img, 0xff0000) })
	h.Close()
	waitLog(t, r, "the session stays locked")
	waitScreen(t, r, func(img *render.Image) error { return checkFilled(img, 0) })
	must(t, win.h.Send(win.surface, 1, win.buffer, int32(0), int32(0)))
	must(t, win.h.Send(win.surface, 2, int32(0), int32(0), int32(32), int32(32)))
	must(t, win.h.Send(win.surface, 6))
	must(t, win.h.Roundtrip(3*time.Second))
	time.Sleep(50 * time.Millisecond)
	if err := checkFilled(r.screenshot(t), 0); err != nil {
		t.Fatalf("after the lock client died: %v", err)
	}

	next := newLockClient(t, r.dial(t))
	if !next.waitLock(t, next.lock) {
		t.Fatal("a new lock client after the first died got finished, want locked")
	}
	next.unlock(t)
	win.draw(t, 0x0000ff)
	if err := checkCentred(r.screenshot(t), 32, 0x0000ff); err != nil {
		t.Fatalf("after the new lock client unlocked: %v", err)
	}
}

// recoverLock unlocks a session a hostile lock client left locked, the
// way a user would: a new lock client takes over and unlocks.
func recoverLock(t *testing.T, r *rig) {
	t.Helper()
	h, err := protocoltest.Dial(r.socket)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	lc := newLockClient(t, h)
	if !lc.waitLock(t, lc.lock) {
		t.Fatal("the recovering lock client got finished: the hostile one still holds the lock")
	}
	lc.unlock(t)
}

// lockedHostile is a hostile client that has locked the session.
func lockedHostile(t *testing.T, h *protocoltest.Client) *lockClient {
	t.Helper()
	lc := newLockClient(t, h)
	if !lc.waitLock(t, lc.lock) {
		t.Fatal("lock got finished")
	}
	return lc
}

var lockReaction = func(code uint32, msg string) reaction {
	return reaction{code: code, msg: msg, unlock: true}
}

func TestHostileLockSurfaceForASurfaceWithARole(t *testing.T) {
	runHostile(t, protocol.Options{}, lockReaction(sessionlock.SessionLockV1ErrorRole, "already has role xdg_surface"), func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		w := hs.window(t, h)
		lc := lockedHostile(t, h)
		must(t, h.Send(lc.lock, opLockGetSurface, h.NewID(), w.surface, lc.output))
		return lc.lock
	})
}

func TestHostileLockSurfaceForASurfaceWithABuffer(t *testing.T) {
	runHostile(t, protocol.Options{}, lockReaction(sessionlock.SessionLockV1ErrorAlreadyConstructed, "already has a buffer"), func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		lc := lockedHostile(t, h)
		surface := h.NewID()
		must(t, h.Send(lc.compositor, 0, surface))
		must(t, h.Send(surface, 1, lc.buffer(t, 8, 8, 0xff), int32(0), int32(0)))
		must(t, h.Send(surface, 6))
		must(t, h.Send(lc.lock, opLockGetSurface, h.NewID(), surface, lc.output))
		return lc.lock
	})
}

func TestHostileTwoLockSurfacesOnOneOutput(t *testing.T) {
	runHostile(t, protocol.Options{}, lockReaction(sessionlock.SessionLockV1ErrorDuplicateOutput, "already has a lock surface"), func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		lc := lockedHostile(t, h)
		lc.lockSurface(t)
		surface := h.NewID()
		must(t, h.Send(lc.compositor, 0, surface))
		must(t, h.Send(lc.lock, opLockGetSurface, h.NewID(), surface, lc.output))
		return lc.lock
	})
}

func TestHostileLockSurfaceAckOfAWrongSerial(t *testing.T) {
	runHostile(t, protocol.Options{}, lockReaction(sessionlock.SessionLockSurfaceV1ErrorInvalidSerial, "not that of a configure"), func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		lc := lockedHostile(t, h)
		_, ls := lc.lockSurface(t)
		must(t, h.Send(ls, opLockSurfaceAck, lc.configSerial+1000))
		return ls
	})
}

func TestHostileLockSurfaceAckedTwice(t *testing.T) {
	runHostile(t, protocol.Options{}, lockReaction(sessionlock.SessionLockSurfaceV1ErrorInvalidSerial, "not that of a configure"), func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		lc := lockedHostile(t, h)
		_, ls := lc.lockSurface(t)
		must(t, h.Send(ls, opLockSurfaceAck, lc.configSerial))
		must(t, h.Send(ls, opLockSurfaceAck, lc.configSerial))
		return ls
	})
}

func TestHostileLockSurfaceCommitBeforeAck(t *testing.T) {
	runHostile(t, protocol.Options{}, lockReaction(sessionlock.SessionLockSurfaceV1ErrorCommitBeforeFirstAck, "before the first ack_configure"), func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		lc := lockedHostile(t, h)
		surface, ls := lc.lockSurface(t)
		must(t, h.Send(surface, 1, lc.buffer(t, int(lc.configW), int(lc.configH), 0xff), int32(0), int32(0)))
		must(t, h.Send(surface, 6))
		return ls
	})
}

func TestHostileLockSurfaceCommitWithoutBuffer(t *testing.T) {
	runHostile(t, protocol.Options{}, lockReaction(sessionlock.SessionLockSurfaceV1ErrorNullBuffer, "no buffer"), func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		lc := lockedHostile(t, h)
		surface, ls := lc.lockSurface(t)
		must(t, h.Send(ls, opLockSurfaceAck, lc.configSerial))
		must(t, h.Send(surface, 6))
		return ls
	})
}

func TestHostileLockSurfaceOfTheWrongSize(t *testing.T) {
	runHostile(t, protocol.Options{}, lockReaction(sessionlock.SessionLockSurfaceV1ErrorDimensionsMismatch, "surface is 8x8"), func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		lc := lockedHostile(t, h)
		surface, ls := lc.lockSurface(t)
		must(t, h.Send(ls, opLockSurfaceAck, lc.configSerial))
		must(t, h.Send(surface, 1, lc.buffer(t, 8, 8, 0xff), int32(0), int32(0)))
		must(t, h.Send(surface, 6))
		return ls
	})
}

// A lock that was refused (finished) cannot unlock the session someone
// else holds.
func TestHostileUnlockOfARefusedLock(t *testing.T) {
	runHostile(t, protocol.Options{}, lockReaction(sessionlock.SessionLockV1ErrorInvalidUnlock, "before the locked event"), func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		lc := lockedHostile(t, h)
		second := h.NewID()
		must(t, h.Send(lc.mgr, opLockManagerLock, second))
		if lc.waitLock(t, second) {
			t.Fatal("a second lock of the same client got locked")
		}
		must(t, h.Send(second, opLockUnlock))
		return second
	})
}

func TestHostileDestroyWhileLocked(t *testing.T) {
	runHostile(t, protocol.Options{}, lockReaction(sessionlock.SessionLockV1ErrorInvalidDestroy, "unlock_and_destroy, not destroy"), func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		lc := lockedHostile(t, h)
		must(t, h.Send(lc.lock, opLockDestroy))
		return lc.lock
	})
}

// Unlocking in the same batch as the lock, before the compositor could
// show a locked frame and say locked, is an error too.
func TestHostileUnlockBeforeLocked(t *testing.T) {
	runHostile(t, protocol.Options{}, lockReaction(sessionlock.SessionLockV1ErrorInvalidUnlock, "before the locked event"), func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		lc := newLockClient(t, h)
		must(t, h.Send(lc.lock, opLockUnlock))
		return lc.lock
	})
}

// TestSessionLockKeepsTheQuitKey: Ctrl+Alt+Backspace quits vitrine, but
// not while the session is locked (that would drop the user to the
// console vitrine was started from, past the lock); the keys go to the
// lock surface instead.
func TestSessionLockKeepsTheQuitKey(t *testing.T) {
	r := lockRig(t)
	addInputDevices(t, r)
	lc := newLockClient(t, r.dial(t))
	if !lc.waitLock(t, lc.lock) {
		t.Fatal("lock got finished, want locked")
	}
	surface, ls := lc.lockSurface(t)
	lc.show(t, surface, ls, 0xff0000)
	waitScreen(t, r, func(img *render.Image) error { return checkFilled(img, 0xff0000) })
	inputEvents(t, lc.h, lc.keyboard, lc.pointer) // the enter that came with the show
	const leftCtrl, leftAlt, backspace = 29, 56, 14
	r.onLoop(t, func() {
		kbd := inputevent.Header{Device: "kbd"}
		for _, code := range []uint32{leftCtrl, leftAlt, backspace} {
			r.comp.HandleInput(inputevent.Key{Header: kbd, Code: code, Pressed: true})
		}
		for _, code := range []uint32{backspace, leftAlt, leftCtrl} {
			r.comp.HandleInput(inputevent.Key{Header: kbd, Code: code, Pressed: false})
		}
	})
	waitLog(t, r, "Ctrl+Alt+Backspace ignored: the session is locked")
	if keys, _, _ := inputEvents(t, lc.h, lc.keyboard, lc.pointer); keys != 6 {
		t.Errorf("the lock surface got %d key events, want the 6 of Ctrl+Alt+Backspace", keys)
	}
	// Still running: the lock client can unlock and a window draws.
	lc.unlock(t)
	win := newWindow(t, r.dial(t), 32)
	win.draw(t, 0x0000ff)
	if err := checkCentred(r.screenshot(t), 32, 0x0000ff); err != nil {
		t.Fatalf("after unlock: %v", err)
	}
}
