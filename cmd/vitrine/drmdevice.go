package main

import (
	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/kms"
	"github.com/vitrine-wm/vitrine/protocol/eventloop"
)

// A display device can go away under vitrine: its driver unbound through
// sysfs, a USB display pulled, a module removed. Its fd then answers
// every ioctl with ENODEV and its outputs will never complete a frame.
// vitrine lets the outputs go (clients keep running, as with the last
// monitor unplugged), closes the device so the kernel can free it, and
// takes the next display device that appears.

// isOurCard reports whether a card uevent is about the open device.
func (b *drmBackend) isOurCard(h kms.Hotplug) bool {
	if b.dev == nil {
		return false
	}
	if h.Minor >= 0 && uint32(h.Minor) == unix.Minor(b.dev.DeviceID()) && unix.Major(b.dev.DeviceID()) == drmMajor {
		return true
	}
	return "/dev/"+h.DevName == b.dev.Path()
}

// drmMajor is the character device major of every DRM node.
const drmMajor = 226

// How vitrine learnt that its display device went away: the cause key
// of the display.gone event.
const (
	goneUevent = "uevent" // the card's remove uevent
	goneHangup = "hangup" // the device's fd hung up
	goneENODEV = "enodev" // reading its events failed with ENODEV
	goneLogind = "logind" // logind's PauseDevice "gone"
)

// deviceGone drops the outputs of a device that is no longer there and
// closes it; the mappings and framebuffers go with the file.
func (b *drmBackend) deviceGone(cause, why string) {
	if b.dev == nil {
		return
	}
	b.log.Warn("display device gone; clients keep running, and the next display device that appears is used",
		"device", b.dev.Path(), "driver", b.dev.Driver(), "cause", cause, "why", why, "clients", len(b.srv.Clients()), "event", "display.gone")
	for _, o := range b.set.Outputs() {
		b.comp.RemoveOutput(o)
	}
	b.set.Close()
	if b.events != nil {
		b.events.Remove()
	}
	f := b.dev.File()
	b.dev.Close()
	b.sess.CloseDevice(f) // already closed: this only forgets it (and releases it from logind)
	b.dev, b.set, b.events = nil, nil, nil
}

// reopen tries to take a display device again after one went away: the
// same --drm-device, or the first card with a connected display. Until
// one works, every DRM uevent tries again.
func (b *drmBackend) reopen() {
	dev, err := b.openDevice(b.devicePath)
	if err != nil {
		b.log.Info("no display device yet", "err", err, "event", "display.waiting")
		return
	}
	events, err := b.loop.loop.AddFD(dev.FD(), eventloop.Readable, b.drmReadable)
	if err != nil {
		b.log.Error("display device back but unusable", "device", dev.Path(), "err", err, "event", "display.unusable")
		b.closeDevice(dev)
		return
	}
	set, err := kms.NewOutputs(dev, b.kopts, b.presented)
	if err == nil && len(set.Outputs()) == 0 {
		set.Close()
		err = errNoConnectedDisplay
	}
	if err != nil {
		b.log.Info("display device back but not usable yet", "device", dev.Path(), "err", err, "event", "display.waiting")
		events.Remove()
		b.closeDevice(dev)
		return
	}
	b.dev, b.set, b.events = dev, set, events
	for _, o := range set.Outputs() {
		b.comp.AddOutput(o)
		b.log.Info("kms output", "name", o.Name(), "atomic", o.Atomic(), "plane_rotation", o.PlaneRotation())
	}
	b.log.Info("display device back", "device", dev.Path(), "driver", dev.Driver(), "outputs", len(set.Outputs()), "event", "display.back")
}

func (b *drmBackend) closeDevice(dev *kms.Device) {
	f := dev.File()
	dev.Close()
	b.sess.CloseDevice(f)
}
