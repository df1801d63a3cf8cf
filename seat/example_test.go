package seat_test

import (
	"context"
	"log/slog"
	"os"

	"github.com/vitrine-wm/vitrine/seat"
	"github.com/vitrine-wm/vitrine/seat/inputevent"
	"github.com/vitrine-wm/vitrine/seat/xkb"
)

// compositorLoop is what the example needs of the compositor's event loop
// (cmd/vitrine adapts protocol/eventloop to it).
type compositorLoop interface {
	seat.Loop
	Post(func()) // safe from any goroutine
	Run() error
}

// The compositor's loop: session events reach the loop through one Post
// and go to Input first, then to the display code; every event is
// acknowledged exactly when its work is done. Input events are read and
// handled on the loop.
func Example() {
	var loop compositorLoop // the compositor's
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	var in *seat.Input
	var card *os.File
	handleSession := func(ev seat.Event) {
		if in != nil && in.HandleSessionEvent(ev) {
			return // an input device's event, already acknowledged
		}
		switch ev.Kind {
		case seat.Paused, seat.DevicePaused:
			// stop page flips and drawing on card, keep clients
		case seat.DeviceResumed:
			card = ev.NewFile // Ack below closes the old file
		case seat.Resumed:
			// modeset and repaint everything
		case seat.Lost:
			// shut down
		}
		ev.Ack()
	}
	s, err := seat.OpenWith(context.Background(), "auto", seat.Options{
		Log:    log,
		Loop:   loop,
		Events: func(ev seat.Event) { loop.Post(func() { handleSession(ev) }) },
	})
	if err != nil {
		log.Error(err.Error()) // one line: what failed and how to fix it
		return
	}
	defer s.Close()
	card, err = s.OpenDevice("/dev/dri/card0")
	if err != nil {
		log.Error(err.Error())
		return
	}
	keys := xkb.USKeymap().NewState()
	in, _ = seat.NewInput(s, loop, func(e inputevent.Event) {
		if k, ok := e.(inputevent.Key); ok && keys.Update(k.Code, k.Pressed) {
			_ = keys.Mods() // send wl_keyboard.modifiers
		}
	}, seat.InputOptions{Log: log})
	defer in.Close()
	loop.Run()
	_ = card
}
