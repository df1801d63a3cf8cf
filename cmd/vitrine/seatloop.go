package main

import (
	"time"

	"github.com/vitrine-wm/vitrine/protocol/eventloop"
)

// seatLoop is the compositor's event loop as package seat sees it
// (seat.Loop), plus Post for the session's D-Bus goroutine. Everything
// it registers runs on the loop, with the compositor.
type seatLoop struct {
	loop *eventloop.Loop
}

// WatchReadable implements seat.Loop.
func (w seatLoop) WatchReadable(fd int, onReadable func()) (func(), error) {
	src, err := w.loop.AddFD(fd, eventloop.Readable, func(eventloop.Events) { onReadable() })
	if err != nil {
		return nil, err
	}
	return src.Remove, nil
}

// AfterFunc implements seat.Loop.
func (w seatLoop) AfterFunc(d time.Duration, f func()) func() {
	t := w.loop.NewTimer(f)
	t.SetAfter(d)
	return t.Stop
}

// Post runs f on the loop; it is safe from any goroutine.
func (w seatLoop) Post(f func()) { w.loop.Post(f) }
