package seat_test

import (
	"context"
	"log/slog"
	"os"

	"github.com/vitrine-wm/vitrine/seat"
	"github.com/vitrine-wm/vitrine/seat/xkb"
)

// The compositor's loop: session events go to Input first, then to the
// display code; every event is acknowledged exactly when its work is done.
func Example() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	s, err := seat.Open(context.Background(), "auto", log)
	if err != nil {
		log.Error(err.Error()) // one line: what failed and how to fix it
		return
	}
	defer s.Close()
	card, err := s.OpenDevice("/dev/dri/card0")
	if err != nil {
		log.Error(err.Error())
		return
	}
	in, _ := seat.NewInput(s, log)
	defer in.Close()
	keys := xkb.USKeymap().NewState()

	for {
		select {
		case ev := <-s.Events():
			if in.HandleSessionEvent(ev) {
				continue // an input device's event, already acknowledged
			}
			switch ev.Kind {
			case seat.Paused, seat.DevicePaused:
				// stop page flips and drawing on card, keep clients
			case seat.DeviceResumed:
				card = ev.NewFile // Ack below closes the old file
			case seat.Resumed:
				// modeset and repaint everything
			case seat.Lost:
				ev.Ack()
				return
			}
			ev.Ack()
		case e := <-in.Events():
			if k, ok := e.(seat.Key); ok && keys.Update(k.Code, k.Pressed) {
				_ = keys.Mods() // send wl_keyboard.modifiers
			}
		}
		_ = card
	}
}
