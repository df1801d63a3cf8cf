package scene_test

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/protocoltest"
	"github.com/vitrine-wm/vitrine/render"
)

// TestBufferReleaseTravelsWithFrameCallback: a client that asked for a
// frame callback gets the release of the buffer its commit replaced
// with that callback, in one write, not on its own a refresh earlier
// (two wake-ups for the client and for vitrine instead of one). A
// client that asked for none gets the release at once.
func TestBufferReleaseTravelsWithFrameCallback(t *testing.T) {
	// 2 Hz: a refresh is 500 ms away after the one just answered, so a
	// release written at commit time arrives long before the callback.
	r := startRig(t, 64, 64, 2000, render.Normal, protocol.Options{})
	w := newWindow(t, r.dial(t), 16)
	w.draw(t, 0xff0000) // buffer A shown; its callback came at a refresh

	b := w.h.NewID()
	must(t, w.h.Send(w.pool, 0, b, int32(0), int32(16), int32(16), int32(16*4), uint32(1)))
	cb := w.h.NewID()
	must(t, w.h.Send(w.surface, 1, b, int32(0), int32(0)))
	must(t, w.h.Send(w.surface, 9, int32(0), int32(0), int32(16), int32(16)))
	must(t, w.h.Send(w.surface, 3, cb))
	must(t, w.h.Send(w.surface, 6))

	// (wl_display.delete_id of the last callback may still be unread.)
	quiet := time.Now().Add(200 * time.Millisecond)
	for {
		e, err := w.h.Read(time.Until(quiet))
		if errors.Is(err, os.ErrDeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if e.Object == w.buffer || e.Object == cb {
			t.Fatalf("within 200 ms of the commit, before the refresh, the client got event %d of object %d; want nothing until the frame callback (A's release travels with it)", e.Opcode, e.Object)
		}
	}
	var order []string
	for len(order) < 2 {
		e, err := w.h.Read(2 * time.Second)
		if err != nil {
			t.Fatalf("waiting for A's release and the frame callback (got %v): %v", order, err)
		}
		switch {
		case e.Object == w.buffer && e.Opcode == 0:
			order = append(order, "release")
		case e.Object == cb && e.Opcode == 0:
			order = append(order, "done")
		}
	}
	if order[0] != "release" {
		t.Fatalf("events %v: want A's release before the frame callback, so the client has a free buffer when it draws", order)
	}

	// No frame callback asked for: nothing else is coming, so the
	// release of B must not wait.
	must(t, w.h.Send(w.surface, 1, w.buffer, int32(0), int32(0)))
	must(t, w.h.Send(w.surface, 9, int32(0), int32(0), int32(16), int32(16)))
	must(t, w.h.Send(w.surface, 6))
	waitRelease(t, w.h, b, 200*time.Millisecond)
}

func waitRelease(t *testing.T, h *protocoltest.Client, buffer uint32, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		e, err := h.Read(time.Until(deadline))
		if err != nil {
			t.Fatalf("no release of buffer %d within %v of a commit without a frame callback: %v", buffer, within, err)
		}
		if e.Object == buffer && e.Opcode == 0 {
			return
		}
	}
}
