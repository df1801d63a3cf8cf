package scene_test

import (
	"testing"
	"time"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/protocoltest"
	"github.com/vitrine-wm/vitrine/render"
	"github.com/vitrine-wm/vitrine/seat/inputevent"
)

// TestPointerMotionAllocatesNothing: a mouse reports up to 1000 times a
// second, and each report becomes a motion and a frame to the focused
// client. Handling one must not allocate, or a moving pointer alone
// keeps the garbage collector busy on a small board.
func TestPointerMotionAllocatesNothing(t *testing.T) {
	r := startRig(t, 64, 64, 60000, render.Normal, protocol.Options{})
	w := newWindow(t, r.dial(t), 32)
	w.draw(t, 0x000080)
	seat := w.reg.bind(t, "wl_seat", 5)
	ptr := w.h.NewID()
	must(t, w.h.Send(seat, 0, ptr))
	h := inputevent.Header{Device: "mouse"}
	r.input(t,
		inputevent.DeviceAdded{Header: h, Caps: inputevent.DeviceCaps{Pointer: true, Tablet: true}},
		inputevent.PointerAbs{Header: h, X: 30.5 / 64, Y: 30.5 / 64},
		inputevent.Frame{Header: h},
	)
	waitFor(t, w.h, "wl_pointer.enter", func(e protocoltest.Event) bool { return e.Object == ptr && e.Opcode == 0 })

	// Boxed once: what is measured is the compositor's handling, not
	// the conversion of the test's values to interfaces.
	var evs []inputevent.Event
	for i := range 8 {
		x := (24.5 + float64(i)) / 64
		evs = append(evs, inputevent.PointerAbs{Header: h, X: x, Y: x}, inputevent.PointerMotion{Header: h, DX: 0.5}, inputevent.Frame{Header: h})
	}
	move := func(n int) {
		for i := range n {
			r.comp.HandleInput(evs[i%len(evs)])
		}
	}
	// Warm up until the client's event queue has grown to what one
	// measured batch needs, then let the loop flush it.
	r.onLoop(t, func() { move(3 * 200) })
	must(t, w.h.Roundtrip(3*time.Second))
	var allocs float64
	r.onLoop(t, func() {
		allocs = testing.AllocsPerRun(100, func() { move(len(evs)) })
	})
	motions := 0
	for {
		e, err := w.h.Read(200 * time.Millisecond)
		if err != nil {
			break
		}
		if e.Object == ptr && e.Opcode == 2 {
			motions++
		}
	}
	if motions == 0 {
		t.Fatal("the client got no wl_pointer.motion: the measured path did not run")
	}
	t.Logf("%.2f allocations per %d input events (%d motions read)", allocs, len(evs), motions)
	if allocs > 0 {
		t.Fatalf("handling pointer motion allocates %.2f times per %d events, want 0", allocs, len(evs))
	}
}
