package kms

import (
	"image"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/scene/present"
)

// DispatchEvents reads what is queued and calls the handlers before it
// returns; with nothing queued it returns at once (a pipe stands in for
// the DRM fd: both deliver whole records per read).
func TestDispatchEventsCallsHandlersInline(t *testing.T) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	d := &Device{path: "pipe", fd: p[0]}
	var got []FlipEvent
	unregister := d.HandleEvents(9, func(ev FlipEvent) { got = append(got, ev) })
	d.HandleEvents(10, func(FlipEvent) { t.Error("handler for another CRTC called") })

	if err := d.DispatchEvents(); err != nil || len(got) != 0 {
		t.Fatalf("nothing queued: %v, %d events", err, len(got))
	}
	buf := vblankRecord(EventFlipComplete, 9, 1, 2, 3, 9)
	buf = append(buf, vblankRecord(EventFlipComplete, 7, 1, 2, 3, 7)...) // nobody's
	// The high 32 bits are the handler's own (Output's resume epoch).
	buf = append(buf, vblankRecord(EventFlipComplete, 9|5<<32, 4, 5, 6, 9)...)
	if _, err := unix.Write(p[1], buf); err != nil {
		t.Fatal(err)
	}
	if err := d.DispatchEvents(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Sequence != 3 || got[1].Sequence != 6 || got[1].UserData != 9|5<<32 {
		t.Fatalf("events %+v, want sequences 3 and 6", got)
	}
	unregister()
	unix.Write(p[1], vblankRecord(EventFlipComplete, 9, 7, 8, 9, 9))
	if err := d.DispatchEvents(); err != nil || len(got) != 2 {
		t.Fatalf("after unregister: %v, %d events", err, len(got))
	}
	unix.Write(p[1], vblankRecord(EventFlipComplete, 9, 7, 8, 9, 9)[:12])
	if err := d.DispatchEvents(); err == nil {
		t.Error("truncated event read without error")
	}

	// A frame's event costs no allocation.
	d.HandleEvents(9, func(FlipEvent) {})
	rec := vblankRecord(EventFlipComplete, 9, 1, 2, 3, 9)
	if n := testing.AllocsPerRun(100, func() {
		unix.Write(p[1], rec)
		d.DispatchEvents()
	}); n != 0 {
		t.Errorf("%.1f allocations per dispatched event, want 0", n)
	}
}

// Completions are a refresh apart: a flip landing early (a driver
// without vblank) is reported by the loop's timer when its time comes,
// one landing on time straight from its event.
func TestCompletionsArePacedByTheLoopTimer(t *testing.T) {
	f := newFakeOutput(t, true, 2)
	f.mode.RefreshMilliHz = 50 * 1000 // 20 ms
	small := []image.Rectangle{image.Rect(0, 0, 8, 8)}

	f.Present(small)
	f.land()
	if len(f.done) != 1 {
		t.Fatalf("first completion not reported from its event: %d", len(f.done))
	}
	t0 := f.loop.clock
	f.wait()

	f.loop.clock += 5 * time.Millisecond
	f.Present(small)
	f.land()
	if len(f.done) != 0 {
		t.Fatal("a completion 5 ms after the previous one was reported at once")
	}
	f.wait()
	if got := f.loop.clock - t0; got != 18*time.Millisecond {
		t.Errorf("second completion %v after the first, want 18 ms (a period less the jitter slack)", got)
	}

	f.loop.clock += 20 * time.Millisecond
	f.Present(small)
	f.land()
	if len(f.done) != 1 {
		t.Fatal("a completion a period after the previous one was held back")
	}
	if info := f.wait(); info.Flags != present.VSync|present.HWClock|present.HWCompletion || info.Refresh != 20*time.Millisecond {
		t.Errorf("completion %+v", info)
	}
}

// An empty frame completes without a flip, but never from inside Present.
func TestEmptyPresentCompletesFromTheLoop(t *testing.T) {
	f := newFakeOutput(t, true, 2)
	if err := f.Present(nil); err != nil {
		t.Fatal(err)
	}
	if len(f.done) != 0 {
		t.Fatal("completion reported from inside Present")
	}
	if info := f.wait(); info.Flags != 0 {
		t.Errorf("empty frame flags %#x, want 0", info.Flags)
	}
	if len(f.k.calls) != 0 {
		t.Errorf("empty frame cost ioctls %v", f.k.calls)
	}
}
