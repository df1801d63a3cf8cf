package main

import (
	"errors"

	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/kms"
	"github.com/vitrine-wm/vitrine/protocol/eventloop"
)

// drmReadable runs on the loop when the device has page-flip events
// queued: they are read and the frames they end completed, inline. A
// device whose driver went away answers ENODEV; the uevent saying so
// may come later or not at all (no uevent socket), so that alone lets
// its outputs go.
func (b *drmBackend) drmReadable(ev eventloop.Events) {
	if b.dev == nil {
		return
	}
	if ev&(eventloop.Hangup|eventloop.Error) != 0 {
		b.deviceGone(goneHangup, "its fd hung up")
		return
	}
	if err := b.dev.DispatchEvents(); err != nil {
		if errors.Is(err, unix.ENODEV) {
			b.deviceGone(goneENODEV, "reading its events: "+err.Error())
			return
		}
		b.log.Error("DRM events stopped; outputs will not complete frames", "device", b.dev.Path(), "err", err)
		b.events.Remove()
	}
}

// newTimer is kms.Options.NewTimer: the outputs' pacing timers are loop
// timers.
func (b *drmBackend) newTimer(fn func()) kms.Timer { return b.loop.loop.NewTimer(fn) }
