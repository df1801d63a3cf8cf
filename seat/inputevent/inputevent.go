// Package inputevent holds the decoded input events that package seat
// produces and the compositor consumes. It is a leaf on purpose: the
// compositor's scene needs these types, not the session manager's D-Bus
// client or the evdev reader that come with package seat.
package inputevent

import "time"

// Event is one decoded input event: Key, PointerMotion, PointerAbs,
// Button, Axis, TouchDown, TouchMotion, TouchUp, TouchFrame, Frame,
// DeviceAdded, DeviceRemoved or DevicesRescanned.
type Event interface {
	// Source is the event node the event came from ("/dev/input/event3").
	Source() string
	// When is the kernel timestamp (CLOCK_MONOTONIC where the device
	// allows it), for wl_keyboard/wl_pointer time fields.
	When() time.Duration
}

// Header carries what every Event has.
type Header struct {
	Device string
	Time   time.Duration
}

func (h Header) Source() string      { return h.Device }
func (h Header) When() time.Duration { return h.Time }

// Key is a key press or release with its evdev code (wl_keyboard.key takes
// the evdev code; XKB keycodes are evdev + 8). Kernel autorepeat is
// dropped: repeat is the client's job, with the rate and delay vitrine
// advertises.
type Key struct {
	Header
	Code    uint32
	Pressed bool
}

// PointerMotion is relative motion in device units (mouse counts), summed
// over one SYN_REPORT.
type PointerMotion struct {
	Header
	DX, DY float64
}

// PointerAbs is an absolute pointer position normalized to 0..1 over the
// device's range, in the device's (physical panel's) orientation; see
// PanelToLogical for rotated outputs.
type PointerAbs struct {
	Header
	X, Y float64
	// Output names the output the position is on (a window of the
	// wayland backend, or the output a tablet is mapped to with
	// --map-input or udev's WL_OUTPUT); "" is the first output, as is a
	// name no output has.
	Output string
}

// Button is a pointer button with its evdev code (BTN_LEFT = 0x110), the
// value wl_pointer.button takes.
type Button struct {
	Header
	Code    uint32
	Pressed bool
}

// AxisOrientation matches wl_pointer.axis: 0 vertical, 1 horizontal.
type AxisOrientation uint32

const (
	AxisVertical   AxisOrientation = 0
	AxisHorizontal AxisOrientation = 1
)

// Axis is scrolling. Value is in wl_pointer.axis units, positive down or
// right, 15 per wheel detent (libinput's convention, which clients
// expect); Discrete counts detents; Value120 is the high-resolution
// count (120 per detent) for wl_pointer.axis_value120.
type Axis struct {
	Header
	Orientation AxisOrientation
	Value       float64
	Discrete    int32
	Value120    int32
}

// AxisStep is the wl_pointer axis value of one wheel detent.
const AxisStep = 15.0

// TouchDown starts a touch point. ID is unique on the seat while the point
// is down (use it as the wl_touch id); Slot is the device's slot.
type TouchDown struct {
	Header
	ID, Slot int32
	X, Y     float64 // 0..1, panel orientation, calibrated
	// Output names the output the device is mapped to (--map-input,
	// udev's WL_OUTPUT); "" is the first output, as is a name no output
	// has (the mapped display is unplugged).
	Output string
}

// TouchMotion moves a touch point.
type TouchMotion struct {
	Header
	ID, Slot int32
	X, Y     float64
	Output   string // as TouchDown's
}

// TouchUp ends a touch point.
type TouchUp struct {
	Header
	ID, Slot int32
}

// TouchFrame ends a set of touch changes that belong together (wl_touch.frame).
type TouchFrame struct{ Header }

// Frame ends a set of pointer changes that belong together
// (wl_pointer.frame). It follows PointerMotion, PointerAbs, Button and
// Axis events of one SYN_REPORT.
type Frame struct{ Header }

// DeviceCaps says what a device is used for.
type DeviceCaps struct {
	Keyboard, Pointer, Touch bool
	Tablet                   bool // the pointer is absolute
}

// DeviceAdded reports a device that is now delivering events.
type DeviceAdded struct {
	Header
	Name string
	Caps DeviceCaps
}

// DeviceRemoved reports a device that went away (unplugged, or closed for
// a session pause). Keys and buttons it held were released just before.
type DeviceRemoved struct {
	Header
	Name string
	Caps DeviceCaps
	// Paused: closed because the session was paused, not unplugged; it
	// is expected back after Resumed (DevicesRescanned says when the
	// reopening is over).
	Paused bool
}

// DevicesRescanned follows the DeviceAdded events of a resume: a paused
// device that did not come back by now is gone.
type DevicesRescanned struct{ Header }

// PanelToLogical maps a normalized position on the physical panel to the
// normalized position in the output's logical (client-visible) space, for
// an output whose logical image is shown rotated clockwise by rotation
// degrees (0, 90, 180, 270) on the panel. Multiply by the logical size
// (which already accounts for scale) to get surface-space coordinates.
func PanelToLogical(x, y float64, rotation int) (float64, float64) {
	switch ((rotation % 360) + 360) % 360 {
	case 90:
		return y, 1 - x
	case 180:
		return 1 - x, 1 - y
	case 270:
		return 1 - y, x
	}
	return x, y
}
