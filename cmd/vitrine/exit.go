package main

import (
	"errors"

	"github.com/vitrine-wm/vitrine/seat"
)

// exitCause names why serve failed with a stable word (README, Logs:
// exit.error), for the errors a user can act on; "other" for the rest.
// ErrSessionBusy is a kind of ErrDeviceBusy, so it is asked first.
func exitCause(err error) string {
	switch {
	case errors.Is(err, seat.ErrSessionBusy):
		return "session_busy"
	case errors.Is(err, seat.ErrDeviceBusy):
		return "device_busy"
	case errors.Is(err, seat.ErrSeatdNotRunning):
		return "seatd_missing"
	case errors.Is(err, seat.ErrPermission):
		return "permission"
	case errors.Is(err, seat.ErrNoSession):
		return "no_session"
	case errors.Is(err, seat.ErrLost):
		return "session_lost"
	case errors.Is(err, errDRMAsRoot):
		return "root_refused"
	}
	return "other"
}
