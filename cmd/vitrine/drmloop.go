package main

import (
	"github.com/vitrine-wm/vitrine/kms"
	"github.com/vitrine-wm/vitrine/protocol/eventloop"
)

// drmReadable runs on the loop when the device has page-flip events
// queued: they are read and the frames they end completed, inline.
func (b *drmBackend) drmReadable(ev eventloop.Events) {
	if ev&(eventloop.Hangup|eventloop.Error) != 0 {
		b.log.Error("DRM device fd failed; no more page-flip events", "device", b.dev.Path(), "events", uint32(ev))
		b.events.Remove()
		return
	}
	if err := b.dev.DispatchEvents(); err != nil {
		b.log.Error("DRM events stopped; outputs will not complete frames", "device", b.dev.Path(), "err", err)
		b.events.Remove()
	}
}

// newTimer is kms.Options.NewTimer: the outputs' pacing timers are loop
// timers.
func (b *drmBackend) newTimer(fn func()) kms.Timer { return b.loop.loop.NewTimer(fn) }
