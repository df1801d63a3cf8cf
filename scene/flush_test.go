package scene_test

import (
	"testing"
	"time"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/render"
)

// TestRepaintAfterAClientFailsInTheFlush: a client whose socket fails
// when its frame callback is written is disconnected in the flush that
// ends the loop iteration, after that iteration's repaint. Its window
// must still leave the screen at once, not when something else next
// wakes the loop (lab: the screen kept a dead client's last frame).
func TestRepaintAfterAClientFailsInTheFlush(t *testing.T) {
	r := startRig(t, 64, 64, 60000, render.Normal, protocol.Options{})
	w := newWindow(t, r.dial(t), 16)
	w.draw(t, 0xff0000)
	if err := checkCentred(r.screenshot(t), 16, 0xff0000); err != nil {
		t.Fatal(err)
	}
	// Commit a frame with a callback, then stop reading without hanging
	// up: the server sees no hangup, and writing the callback's done at
	// the next refresh fails with EPIPE.
	cb := w.h.NewID()
	must(t, w.h.Send(w.surface, 3, cb))
	must(t, w.h.Send(w.surface, 6))
	must(t, w.h.Roundtrip(2*time.Second))
	must(t, w.h.Conn().CloseRead())
	waitLog(t, r, "broken pipe")
	if err := checkCentred(r.screenshot(t), 0, 0); err != nil {
		t.Fatalf("after its client failed in the flush the window is still on screen: %v", err)
	}
}
