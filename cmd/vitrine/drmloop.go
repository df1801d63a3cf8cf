package main

import (
	"time"

	"github.com/vitrine-wm/vitrine/kms"
	"github.com/vitrine-wm/vitrine/protocol/eventloop"
	"github.com/vitrine-wm/vitrine/scene"
)

// The KMS device and its outputs are single-threaded: they run where the
// compositor runs, which calls Present, Scanout and the cursor methods.
// The device is a source on the event loop (its fd, dispatched inline)
// and the outputs' timers are loop timers.
//
// Until the compositor itself runs on the loop (issue #10: scene's Run
// moves onto eventloop in the protocol/scene branch), the loop runs on a
// goroutine of its own and these callbacks hand the kms work over to the
// compositor's goroutine with comp.Post, never blocking either side.
// Once scene runs on the loop, drmReadable calls dispatchDRM directly and
// newTimer returns loop.NewTimer(fn): this file shrinks to that.

// drmReadable runs on the loop when the device has events queued. The
// fd is level-triggered: it stops being watched until the compositor has
// read it, so the loop does not spin meanwhile.
func (b *drmBackend) drmReadable(ev eventloop.Events) {
	if ev&(eventloop.Hangup|eventloop.Error) != 0 {
		b.log.Error("DRM device fd failed; no more page-flip events", "device", b.dev.Path(), "events", uint32(ev))
		b.events.Remove()
		return
	}
	if err := b.events.SetEvents(0); err != nil {
		b.log.Error("DRM events", "device", b.dev.Path(), "err", err)
		return
	}
	b.comp.Post(func() {
		if !b.dispatchDRM() {
			return
		}
		b.loop.Post(func() {
			if err := b.events.SetEvents(eventloop.Readable); err != nil {
				b.log.Error("DRM events", "device", b.dev.Path(), "err", err)
			}
		})
	})
}

// dispatchDRM reads the device's page-flip events and completes the
// frames they end, on the compositor's goroutine. It reports whether the
// device is still worth watching.
func (b *drmBackend) dispatchDRM() bool {
	if err := b.dev.DispatchEvents(); err != nil {
		b.log.Error("DRM events stopped; outputs will not complete frames", "err", err)
		return false
	}
	return true
}

// newTimer is kms.Options.NewTimer.
func (b *drmBackend) newTimer(fn func()) kms.Timer {
	t := &postedTimer{loop: b.loop, comp: b.comp, fn: fn}
	// NewTimer only builds the timer: safe off the loop's goroutine.
	t.t = b.loop.NewTimer(t.fire)
	return t
}

// postedTimer is a loop timer whose function runs on the compositor's
// goroutine. Set and Stop come from there and reach the loop through
// Post; a firing overtaken by a later Set or Stop is recognised by its
// generation and dropped.
type postedTimer struct {
	loop *eventloop.Loop
	comp *scene.Compositor
	t    *eventloop.Timer
	fn   func()
	gen  uint64 // compositor's goroutine: the current arming
	// armed is the arming the loop's timer is set for; loop goroutine.
	armed uint64
}

func (t *postedTimer) Set(at time.Duration) {
	t.gen++
	gen := t.gen
	t.loop.Post(func() {
		t.armed = gen
		t.t.Set(at)
	})
}

func (t *postedTimer) Stop() {
	t.gen++
	t.loop.Post(t.t.Stop)
}

func (t *postedTimer) fire() {
	gen := t.armed
	t.comp.Post(func() {
		if gen == t.gen {
			t.fn()
		}
	})
}
