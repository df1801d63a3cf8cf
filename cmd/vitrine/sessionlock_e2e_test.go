package main

import (
	"image"
	"testing"
	"time"

	"github.com/vitrine-wm/vitrine/protocol/protocoltest"
)

// testLock is a raw ext-session-lock client of the tests.
type testLock struct {
	h    *protocoltest.Client
	lock uint32
}

// lockSession connects a raw lock client and waits for locked.
func lockSession(t *testing.T, c *compositor) *testLock {
	t.Helper()
	h, err := protocoltest.Dial(c.socketPath())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	g, reg, err := h.Globals(3 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	mgr := bind(h, g, reg, "ext_session_lock_manager_v1", 1)
	tl := &testLock{h: h, lock: h.NewID()}
	if err := h.Send(mgr, 1, tl.lock); err != nil {
		t.Fatal(err)
	}
	switch e := waitEventOf(t, h, tl.lock); e.Opcode {
	case 0:
	default:
		t.Fatalf("the test's lock got finished, not locked")
	}
	return tl
}

// waitEventOf reads until an event for object arrives.
func waitEventOf(t *testing.T, h *protocoltest.Client, object uint32) protocoltest.Event {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		e, err := h.Read(time.Until(deadline))
		if err != nil {
			t.Fatalf("waiting for an event of object %d: %v", object, err)
		}
		if e.Object == 1 && e.Opcode == 0 {
			t.Fatalf("protocol error: %s", e.String(2))
		}
		if e.Object == object {
			return e
		}
	}
}

// unlock sends unlock_and_destroy and waits until vitrine handled it.
func (tl *testLock) unlock(t *testing.T) {
	t.Helper()
	if err := tl.h.Send(tl.lock, 2); err != nil {
		t.Fatal(err)
	}
	if err := tl.h.Roundtrip(3 * time.Second); err != nil {
		t.Fatal(err)
	}
}

func filledWith(rgb3 [3]uint8) func(image.Image) bool {
	return func(img image.Image) bool {
		b := img.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				if rgb(img.At(x, y)) != rgb3 {
					return false
				}
			}
		}
		return true
	}
}

// TestSwaylockLocksTheSession: under a quadrants client, a test lock
// client that draws nothing blanks the screen and unlocking brings the
// client back; swaylock -c ff0000 makes every pixel red; swaylock
// killed leaves the screen black (the session stays locked), and a new
// lock client takes over and unlocks, showing the client again.
func TestSwaylockLocksTheSession(t *testing.T) {
	need(t, "grim", "swaylock")
	c := startVitrine(t, "--output", "320x240", "--", "shm-client", "--pattern", "quadrants", "--fullscreen")
	c.stdout.wait(t, `^first-frame 320x240$`, 10*time.Second)
	checkQuadrants(t, c.screenshot())
	black, red := [3]uint8{}, [3]uint8{0xff, 0, 0}

	tl := lockSession(t, c)
	checkScreen(t, c.screenshot(), func(int, int) [3]uint8 { return black })
	tl.unlock(t)
	checkQuadrants(t, waitForPixels(t, c, quadrantsOfSize(320, 240)))

	lock, _ := c.client("swaylock", "-c", "ff0000")
	waitLog(t, c, "session locked")
	checkScreen(t, waitForPixels(t, c, filledWith(red)), func(int, int) [3]uint8 { return red })

	lock.Process.Kill()
	lock.Wait()
	waitLog(t, c, "the session stays locked")
	checkScreen(t, waitForPixels(t, c, filledWith(black)), func(int, int) [3]uint8 { return black })
	time.Sleep(200 * time.Millisecond)
	checkScreen(t, c.screenshot(), func(int, int) [3]uint8 { return black })

	tl = lockSession(t, c)
	tl.unlock(t)
	checkQuadrants(t, waitForPixels(t, c, quadrantsOfSize(320, 240)))
}

// TestLockedSessionGivesClientsNoInput: foot has the keyboard; while
// swaylock holds the session, keys typed with wtype (the virtual
// keyboard) reach foot not at all (its WAYLAND_DEBUG shows the keyboard
// leave and no key event); after the lock is taken over and unlocked,
// foot gets the keyboard and the keys again.
func TestLockedSessionGivesClientsNoInput(t *testing.T) {
	need(t, "foot", "wtype", "swaylock", "grim")
	c := startVitrine(t, "--output", "640x480")
	c.run("wtype", "-k", "Shift_L") // the seat gets a keyboard
	_, foot := c.debugClient("foot")
	enter, leave, key := `wl_keyboard@\d+\.enter`, `wl_keyboard@\d+\.leave`, `wl_keyboard@\d+\.key\(`
	foot.wait(t, enter, 10*time.Second)
	c.run("wtype", "a")
	foot.waitCount(t, key, 2, 5*time.Second)

	lock, _ := c.client("swaylock", "-c", "ff0000")
	foot.waitCount(t, leave, 1, 5*time.Second)
	red := [3]uint8{0xff, 0, 0}
	checkScreen(t, waitForPixels(t, c, filledWith(red)), func(int, int) [3]uint8 { return red })
	keysBefore := foot.count(key)
	c.run("wtype", "hunter2")
	time.Sleep(300 * time.Millisecond)
	if n := foot.count(key); n != keysBefore {
		t.Fatalf("foot got %d key events while the session was locked", n-keysBefore)
	}
	if n := foot.count(enter); n != 1 {
		t.Fatalf("foot got the keyboard %d times, want once (before the lock)", n)
	}

	lock.Process.Kill()
	lock.Wait()
	waitLog(t, c, "the session stays locked")
	c.run("wtype", "x")
	time.Sleep(200 * time.Millisecond)
	if n := foot.count(key); n != keysBefore {
		t.Fatalf("foot got %d key events after swaylock died, with the session still locked", n-keysBefore)
	}
	lockSession(t, c).unlock(t)
	foot.waitCount(t, enter, 2, 5*time.Second)
	c.run("wtype", "b")
	foot.waitCount(t, key, keysBefore+2, 5*time.Second)
}
