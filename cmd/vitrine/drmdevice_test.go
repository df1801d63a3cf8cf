package main

import (
	"os"
	"testing"

	"github.com/vitrine-wm/vitrine/seat"
)

// TestDisplayActionGoneIsNotAPause: logind's PauseDevice "gone" for the
// display device (its driver unbound) must drop the device, not pause
// vitrine, which would then stay paused on the card that replaces it;
// and events about a file vitrine no longer uses (the old card, after a
// rebind brought a new one under the same path) change nothing.
func TestDisplayActionGoneIsNotAPause(t *testing.T) {
	// Two files of one name, as the old and the new card0 are.
	cur, old := devNull(t), devNull(t)
	const path = "/dev/dri/card0"
	for _, c := range []struct {
		name string
		ev   seat.Event
		cur  *os.File
		want int
	}{
		{"gone", seat.Event{Kind: seat.DevicePaused, Path: path, Forced: true, Gone: true, OldFile: cur}, cur, displayGone},
		{"gone, old card", seat.Event{Kind: seat.DevicePaused, Path: path, Forced: true, Gone: true, OldFile: old}, cur, displayNothing},
		{"gone, no card", seat.Event{Kind: seat.DevicePaused, Path: path, Forced: true, Gone: true, OldFile: old}, nil, displayNothing},
		{"paused", seat.Event{Kind: seat.DevicePaused, Path: path, OldFile: cur}, cur, displayPause},
		{"forced pause", seat.Event{Kind: seat.DevicePaused, Path: path, Forced: true, OldFile: cur}, cur, displayPause},
		{"paused, old card", seat.Event{Kind: seat.DevicePaused, Path: path, OldFile: old}, cur, displayNothing},
		{"resumed", seat.Event{Kind: seat.DeviceResumed, Path: path, OldFile: cur}, cur, displayResume},
		{"resumed, old card", seat.Event{Kind: seat.DeviceResumed, Path: path, OldFile: old}, cur, displayNothing},
		{"resumed, no card", seat.Event{Kind: seat.DeviceResumed, Path: path, OldFile: old}, nil, displayNothing},
		{"session paused", seat.Event{Kind: seat.Paused}, cur, displayPause},
		{"session resumed", seat.Event{Kind: seat.Resumed}, nil, displayResume},
		{"lost", seat.Event{Kind: seat.Lost}, cur, displayNothing},
	} {
		if got := displayAction(c.ev, c.cur); got != c.want {
			t.Errorf("%s: displayAction = %d, want %d", c.name, got, c.want)
		}
	}
}

func devNull(t *testing.T) *os.File {
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
