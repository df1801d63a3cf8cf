package seat

import "time"

// Loop is what seat needs from the compositor's event loop: Input and
// Seatd put their file descriptors (evdev nodes, the uevent socket,
// seatd's socket) on it and are called back on the loop's goroutine, so
// they start no goroutines of their own and their state needs no locks.
// Package seat declares it rather than importing the loop so that it
// stays usable from tools and tests; cmd/vitrine adapts
// protocol/eventloop to it.
type Loop interface {
	// WatchReadable calls onReadable on the loop each time fd is
	// readable (level-triggered: again on the next iteration if data is
	// left) until remove is called. The fd stays the caller's; remove it
	// before closing it.
	WatchReadable(fd int, onReadable func()) (remove func(), err error)
	// AfterFunc calls f on the loop once, d from now, unless stop is
	// called first.
	AfterFunc(d time.Duration, f func()) (stop func())
}
