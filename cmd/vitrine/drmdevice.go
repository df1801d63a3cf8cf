package main

import (
	"errors"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/kms"
	"github.com/vitrine-wm/vitrine/protocol/eventloop"
	"github.com/vitrine-wm/vitrine/seat"
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
	b.retry.reset()
	b.tryReopen()
}

// tryReopen is one attempt of reopen. The kernel's uevent for a new card
// reaches vitrine before udev has processed it, and logind only knows
// the devices udev told it of: TakeDevice then fails (ENODEV) and no
// further uevent comes to try again, so such a refusal is retried on a
// timer, a few times, backing off.
func (b *drmBackend) tryReopen() {
	if b.dev != nil {
		return
	}
	dev, err := b.openDevice(b.devicePath)
	if err != nil {
		if d, ok := b.retry.next(); ok && errors.Is(err, seat.ErrDeviceNotReady) {
			if b.retryTimer == nil {
				b.retryTimer = b.loop.loop.NewTimer(b.tryReopen)
			}
			b.retryTimer.SetAfter(d)
			b.log.Info("no display device yet", "err", err, "retry_in_ms", d.Milliseconds(), "event", "display.waiting")
			return
		}
		b.log.Info("no display device yet", "err", err, "event", "display.waiting")
		return
	}
	if b.retryTimer != nil {
		b.retryTimer.Stop()
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

// reopenRetry paces tryReopen's retries of a device the session manager
// does not know yet: udev and logind take milliseconds on a desktop and
// up to seconds on a slow board, and a device that stays unknown must
// not cost a wake-up forever.
type reopenRetry struct{ n int }

const (
	reopenFirstRetry = 50 * time.Millisecond
	reopenMaxRetry   = time.Second
	reopenRetries    = 10 // about 6.5 s in all
)

// next is how long to wait before the next try; false once given up.
func (r *reopenRetry) next() (time.Duration, bool) {
	if r.n >= reopenRetries {
		return 0, false
	}
	d := min(reopenFirstRetry<<r.n, reopenMaxRetry)
	r.n++
	return d, true
}

func (r *reopenRetry) reset() { r.n = 0 }

func (b *drmBackend) closeDevice(dev *kms.Device) {
	f := dev.File()
	dev.Close()
	b.sess.CloseDevice(f)
}
