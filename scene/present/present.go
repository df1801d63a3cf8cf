// Package present holds what an output reports when a frame reached the
// screen. It is a leaf: scene consumes these values and the outputs (kms,
// headless) produce them, so neither has to convert the other's types.
package present

import (
	"errors"
	"time"
)

// ErrRevoked is what an output's Present or Scanout error wraps when the
// display refused the frame because it is no longer this process's: the
// session manager took DRM master away (logind does that before it tells
// the compositor that the session is paused, so a frame or two meet it).
// It is no failure of the frame: the compositor keeps the damage and
// draws it once the session is back.
var ErrRevoked = errors.New("the display is not ours now (DRM master taken away: the session is being paused)")

// Flags are wp_presentation_feedback.kind bits.
type Flags uint32

const (
	VSync        Flags = 0x1
	HWClock      Flags = 0x2
	HWCompletion Flags = 0x4
	ZeroCopy     Flags = 0x8
)

// Info describes a completed frame, for frame callbacks and presentation
// feedback.
type Info struct {
	// Time is when the frame turned into light, on CLOCK_MONOTONIC.
	Time time.Duration
	// Seq is the vblank sequence (0 on drivers without vblank counters).
	Seq uint64
	// Refresh is the output's refresh period, 0 if unknown.
	Refresh time.Duration
	Flags   Flags
}
