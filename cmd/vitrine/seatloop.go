package main

import (
	"time"

	"github.com/vitrine-wm/vitrine/protocol/eventloop"
	"github.com/vitrine-wm/vitrine/scene"
)

// seatLoop is the event loop as package seat sees it (seat.Loop), plus
// Post for the session's D-Bus goroutine.
//
// Interim, until scene.Compositor runs on the event loop itself: the loop
// runs on a goroutine of its own (start) and every callback is handed to
// the compositor's goroutine, the loop waiting until it is done
// (onCompositor), so the two never run seat or scene code at the same
// time. Once the compositor runs the loop, onCompositor is f() and start
// and stop go.
type seatLoop struct {
	loop *eventloop.Loop
	comp *scene.Compositor

	compDone chan struct{} // closed by stop: the compositor runs no more
	runDone  chan struct{} // closed when the loop's goroutine returned; nil until start
}

func newSeatLoop(loop *eventloop.Loop, comp *scene.Compositor) *seatLoop {
	return &seatLoop{loop: loop, comp: comp, compDone: make(chan struct{})}
}

// WatchReadable implements seat.Loop.
func (w *seatLoop) WatchReadable(fd int, onReadable func()) (func(), error) {
	src, err := w.loop.AddFD(fd, eventloop.Readable, func(eventloop.Events) { w.onCompositor(onReadable) })
	if err != nil {
		return nil, err
	}
	return src.Remove, nil
}

// AfterFunc implements seat.Loop.
func (w *seatLoop) AfterFunc(d time.Duration, f func()) func() {
	t := w.loop.NewTimer(func() { w.onCompositor(f) })
	t.SetAfter(d)
	return t.Stop
}

// Post runs f on the loop; it is safe from any goroutine.
func (w *seatLoop) Post(f func()) { w.loop.Post(func() { w.onCompositor(f) }) }

func (w *seatLoop) onCompositor(f func()) {
	select {
	case <-w.compDone:
		return
	default:
	}
	done := make(chan struct{})
	w.comp.Post(func() {
		f()
		close(done)
	})
	select {
	case <-done:
	case <-w.compDone:
	}
}

// start runs the loop on its own goroutine; call it once everything is
// registered, from the compositor's goroutine before it runs.
func (w *seatLoop) start() {
	w.runDone = make(chan struct{})
	go func() {
		defer close(w.runDone)
		w.loop.Run()
	}()
}

// stop ends the loop's goroutine once the compositor has stopped, so
// that closing the devices touches the loop from one goroutine only.
func (w *seatLoop) stop() {
	if w.runDone == nil {
		return
	}
	close(w.compDone)
	w.loop.Post(func() { w.loop.Stop(nil) })
	<-w.runDone
	w.runDone = nil
}
