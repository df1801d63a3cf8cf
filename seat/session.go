// Package seat gives vitrine access to a seat: the session manager that
// grants the display and input devices (logind, seatd, or direct access),
// pause and resume when the user switches virtual terminals, and evdev
// input decoded into events. It knows nothing of DRM details or Wayland.
//
// What has a file descriptor of ours (evdev nodes, the uevent socket,
// seatd's socket) is read on the compositor's event loop (Loop); the
// D-Bus connection to logind is read by its library's goroutine, and
// its events reach the loop through one hand-off (Options.Events).
//
// Sub-packages: inputevent (the decoded input events, all the compositor
// needs to consume input), evdev (the raw device layer: input_event
// decoding, sysfs capabilities, uevent hotplug) and xkb (the keymap sent
// to clients and the modifier state vitrine tracks).
package seat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
)

// Session is a seat session through which devices are opened. Its
// methods are called from the compositor's loop; they may wait briefly
// for the session manager's reply (a local round trip), as libseat and
// sd-bus callers do.
//
// Events: every Event delivered to Options.Events must be acknowledged by
// calling its Ack method once the consumer has done what the event asks
// (stopped using the device, or switched to the new file). Ack is never
// nil and may be called more than once. A "pause" is only reported back
// to the session manager when Ack is called, so the consumer must not
// call Ack before it has stopped touching the device: until then logind
// and seatd keep the VT switch waiting.
type Session interface {
	// Kind is "logind", "seatd" or "direct".
	Kind() string
	// SeatName is the seat the session belongs to, usually "seat0".
	SeatName() string
	// OpenDevice opens a DRM or evdev node through the session manager.
	OpenDevice(path string) (*os.File, error)
	// CloseDevice releases a device returned by OpenDevice (or the NewFile
	// of a DeviceResumed event for it) and closes the file.
	CloseDevice(f *os.File) error
	// Active reports whether the session is in the foreground and may use
	// its devices.
	Active() bool
	// SwitchVT asks the session manager to switch to virtual terminal vt.
	SwitchVT(vt int) error
	// Close releases every device still open and gives up the session.
	Close() error
}

// EventKind says what an Event reports.
type EventKind int

const (
	// Paused: the whole session went to the background. Stop drawing and
	// flipping, keep clients, then Ack. seatd waits for this Ack before it
	// lets the VT switch proceed.
	Paused EventKind = iota + 1
	// Resumed: the session is in the foreground again. Re-query devices,
	// modeset and repaint everything. Input devices must be reopened.
	// Under logind it follows the DeviceResumed events of the devices
	// that were paused (logind itself sends them in either order).
	Resumed
	// DevicePaused: one device may no longer be used. If Forced is false
	// the session manager waits for Ack (logind "pause"); if Forced is true
	// access is already gone (logind "force", or Gone for a removed device).
	DevicePaused
	// DeviceResumed: the device may be used again through NewFile. After
	// switching to NewFile, Ack closes the previous file (OldFile).
	DeviceResumed
	// Lost: the session manager went away (logind or seatd stopped, bus
	// closed). Devices can no longer be trusted; Err says why. Shut down
	// or fall back; the Session only allows Close after this.
	Lost
)

func (k EventKind) String() string {
	switch k {
	case Paused:
		return "paused"
	case Resumed:
		return "resumed"
	case DevicePaused:
		return "device-paused"
	case DeviceResumed:
		return "device-resumed"
	case Lost:
		return "lost"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event is a session or device state change. See Session for the Ack
// contract.
type Event struct {
	Kind EventKind
	// Device events only.
	Path         string
	Major, Minor uint32
	Forced       bool     // DevicePaused: access already revoked, nothing to wait for
	Gone         bool     // DevicePaused: the device was removed
	OldFile      *os.File // the device's file when the event was sent
	NewFile      *os.File // DeviceResumed: the file to use from now on
	Err          error    // Lost

	ack func()
}

// Ack acknowledges the event; see Session. It is safe to call more than
// once and on a zero Event.
func (e Event) Ack() {
	if e.ack != nil {
		e.ack()
	}
}

// once wraps f so that it runs at most once.
func once(f func()) func() {
	var o sync.Once
	return func() { o.Do(f) }
}

// Options configures Open beyond the session kind. The zero value uses the
// environment: DBUS_SYSTEM_BUS_ADDRESS, XDG_SESSION_ID, SEATD_SOCK.
type Options struct {
	Log *slog.Logger
	// SystemBus is the D-Bus address of the system bus for logind.
	SystemBus string
	// SessionID is the logind session to control; empty means
	// XDG_SESSION_ID, else the session of this process.
	SessionID string
	// SeatdSocket is the path of seatd's socket.
	SeatdSocket string
	// DirectKeepConsole leaves the text console alone in a direct
	// session (by default its VT goes to graphics mode, keyboard off).
	DirectKeepConsole bool
	// Loop is the compositor's event loop; seatd's socket is read on it,
	// so a seatd session needs one.
	Loop Loop
	// Events receives session and device state changes, in order. It
	// is called on the session's own goroutine (logind: the D-Bus
	// connection's reader) or, for seatd, on the loop from inside a
	// Session method that read the event, so it must not block and
	// must not call the Session: hand the event to the loop (the loop's
	// Post) and handle it there. Nil acknowledges every event at once.
	// No event is delivered after Close returns.
	Events func(Event)
}

func (o Options) logger() *slog.Logger {
	if o.Log != nil {
		return o.Log
	}
	return slog.New(slog.DiscardHandler)
}

func (o Options) notifier() func(Event) {
	if o.Events != nil {
		return o.Events
	}
	return Event.Ack
}

// Session kinds accepted by Open.
const (
	KindAuto   = "auto"
	KindLogind = "logind"
	KindSeatd  = "seatd"
	KindDirect = "direct"
)

// Open opens a session of the given kind: "auto", "logind", "seatd" or
// "direct". auto tries logind, then seatd, then direct, and logs the choice
// and why each earlier one was not used.
func Open(ctx context.Context, kind string, log *slog.Logger) (Session, error) {
	return OpenWith(ctx, kind, Options{Log: log})
}

// OpenWith is Open with explicit options.
func OpenWith(ctx context.Context, kind string, opt Options) (Session, error) {
	log := opt.logger()
	switch kind {
	case KindLogind:
		l, err := OpenLogind(ctx, opt)
		if err == nil {
			log.Info("session: using logind", "session", l.id, "seat", l.seat, "why", "--session logind", "event", "session.logind")
			return l, nil
		}
		return nil, err
	case KindSeatd:
		sd, err := OpenSeatd(ctx, opt)
		if err == nil {
			log.Info("session: using seatd", "seat", sd.SeatName(), "why", "--session seatd", "event", "session.seatd")
			return sd, nil
		}
		return nil, err
	case KindDirect:
		d, err := OpenDirect(opt)
		if err == nil {
			log.Info("session: using direct device access (no session manager)", "why", "--session direct", "event", "session.direct")
			return d, nil
		}
		return nil, err
	case KindAuto, "":
	default:
		return nil, fmt.Errorf("unknown session kind %q: want auto, logind, seatd or direct", kind)
	}
	var reasons []string
	l, err := OpenLogind(ctx, opt)
	if err == nil {
		log.Info("session: using logind", "session", l.id, "seat", l.seat, "event", "session.logind")
		return l, nil
	}
	if errors.Is(err, ErrDeviceBusy) {
		// The session exists and someone else controls it: another
		// session manager would only fail less clearly.
		return nil, err
	}
	reasons = append(reasons, "logind: "+err.Error())
	log.Info("session: logind not used", "reason", err)
	s, err := OpenSeatd(ctx, opt)
	if err == nil {
		log.Info("session: using seatd", "seat", s.SeatName(), "why_not_logind", reasons[0], "event", "session.seatd")
		return s, nil
	}
	reasons = append(reasons, "seatd: "+err.Error())
	log.Info("session: seatd not used", "reason", err)
	d, err := OpenDirect(opt)
	if err != nil {
		return nil, fmt.Errorf("no session available (%s; direct: %w)", strings.Join(reasons, "; "), err)
	}
	log.Info("session: using direct device access (no session manager)", "why_not", strings.Join(reasons, "; "), "event", "session.direct")
	return d, nil
}

// ErrNoSession is wrapped by errors that mean there is no session to
// control, so the user has to start one.
var ErrNoSession = errors.New("no session")

// ErrDeviceBusy is wrapped by errors that mean another compositor or
// display server holds the device or the session.
var ErrDeviceBusy = errors.New("device busy")

// ErrSessionBusy is wrapped by errors that mean another compositor
// controls the session or seat itself (logind's TakeControl refused,
// seatd refusing the seat), not just one device. It is a kind of
// ErrDeviceBusy: errors.Is(err, ErrDeviceBusy) holds for it too.
var ErrSessionBusy error = sessionBusyError{}

type sessionBusyError struct{}

func (sessionBusyError) Error() string        { return "session busy" }
func (sessionBusyError) Is(target error) bool { return target == ErrDeviceBusy }

// ErrDeviceNotReady is wrapped by errors that mean the node exists but
// the session manager does not know the device yet: logind learns of a
// new device from udev, after the kernel has told everyone else (a
// driver just bound, a display just plugged). Trying again shortly
// may work.
var ErrDeviceNotReady = errors.New("device not known to the session manager yet")

// ErrPermission is wrapped by errors that mean the user lacks access
// (typically not in the group owning the device).
var ErrPermission = errors.New("permission denied")

// ErrSeatdNotRunning is wrapped when seatd's socket is missing or refuses
// connections.
var ErrSeatdNotRunning = errors.New("seatd not running")

// ErrLost is wrapped by errors returned after the session manager went away.
var ErrLost = errors.New("session manager gone")
