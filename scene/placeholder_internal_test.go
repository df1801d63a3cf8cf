package scene

import (
	"image"
	"testing"
)

// TestPlaceholderPacesOnlyWhileClientsDraw: the placeholder that
// stands in for an unplugged display is never presented to and arms no
// timer while nothing happens; a frame request or damage is answered
// by one idle frame at its refresh (the idle timer), after which it is
// quiet again.
func TestPlaceholderPacesOnlyWhileClientsDraw(t *testing.T) {
	dev := newPlaneOutput(320, 240, false)
	c, o, _ := cursorScene(t, dev, 0xff00ff00)
	c.in.cursorShown = false
	c.RemoveOutput(dev)
	if !o.isPlaceholder() || len(c.outputs) != 1 {
		t.Fatalf("after the last display went: placeholder %v, %d outputs", o.isPlaceholder(), len(c.outputs))
	}
	dev.takeCalls()
	presented := len(dev.presented)
	quiet := func(what string) {
		t.Helper()
		c.repaintOutputs()
		if o.repaintTimer.Armed() || o.idleTimer.Armed() || o.inFlight {
			t.Fatalf("%s: repaint timer %v, idle timer %v, frame in flight %v: the placeholder wakes the loop for nothing", what, o.repaintTimer.Armed(), o.idleTimer.Armed(), o.inFlight)
		}
	}
	quiet("idle")
	for _, poke := range []struct {
		what string
		do   func()
	}{
		{"a frame callback", func() { o.wantFrame = true }},
		{"damage", func() { o.damage.Add(image.Rect(0, 0, 10, 10)) }},
	} {
		poke.do()
		c.repaintOutputs()
		if !o.idleTimer.Armed() || !o.inFlight {
			t.Fatalf("%s on the placeholder: no paced frame (idle timer %v, in flight %v)", poke.what, o.idleTimer.Armed(), o.inFlight)
		}
		if d := o.idleTimer.Deadline() - o.lastVblank; o.lastVblank > 0 && d%o.refresh != 0 {
			t.Errorf("%s: the idle frame is due %v after the last vblank, not on the %v grid", poke.what, d, o.refresh)
		}
		o.idleDone()
		quiet("after " + poke.what)
	}
	if n := len(dev.presented) - presented; n > 0 {
		t.Fatalf("%d frames presented to the unplugged display", n)
	}
	if calls := dev.takeCalls(); len(calls) > 0 {
		t.Fatalf("the unplugged display was called after it went: %q", calls)
	}
}
