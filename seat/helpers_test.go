package seat

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func newTextLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// testLoop stands in for the compositor's loop: it watches fds with
// poll(2) and runs timers and posted functions, all on the test's
// goroutine and only inside runUntil, so the code under test gets what it
// gets in vitrine: one thread, callbacks only while the loop runs.
type testLoop struct {
	t       *testing.T
	watches []*testWatch
	timers  []*testTimer
	posted  chan func()
}

type testWatch struct {
	fd      int
	fn      func()
	removed bool
}

type testTimer struct {
	at      time.Time
	fn      func()
	stopped bool
}

func newTestLoop(t *testing.T) *testLoop {
	return &testLoop{t: t, posted: make(chan func(), 1024)}
}

func (l *testLoop) WatchReadable(fd int, fn func()) (func(), error) {
	w := &testWatch{fd: fd, fn: fn}
	l.watches = append(l.watches, w)
	return func() { w.removed = true }, nil
}

func (l *testLoop) AfterFunc(d time.Duration, fn func()) func() {
	tm := &testTimer{at: time.Now().Add(d), fn: fn}
	l.timers = append(l.timers, tm)
	return func() { tm.stopped = true }
}

// post is the loop's Post: safe from any goroutine.
func (l *testLoop) post(f func()) { l.posted <- f }

// watching reports how many fds are watched.
func (l *testLoop) watching() int {
	n := 0
	for _, w := range l.watches {
		if !w.removed {
			n++
		}
	}
	return n
}

// runUntil runs the loop until done reports true, and fails the test if
// that takes more than 5 seconds.
func (l *testLoop) runUntil(what string, done func() bool) {
	l.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !done() {
		if time.Now().After(deadline) {
			l.t.Fatalf("still waiting for %s after 5s", what)
		}
		l.iterate(10 * time.Millisecond)
	}
}

// runFor runs the loop for d.
func (l *testLoop) runFor(d time.Duration) {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		l.iterate(min(time.Until(end), 10*time.Millisecond))
	}
}

func (l *testLoop) iterate(wait time.Duration) {
	for len(l.posted) > 0 {
		(<-l.posted)()
	}
	now := time.Now()
	due := l.timers[:0:0]
	kept := l.timers[:0]
	for _, tm := range l.timers {
		switch {
		case tm.stopped:
		case !tm.at.After(now):
			due = append(due, tm)
		default:
			kept = append(kept, tm)
		}
	}
	l.timers = kept
	for _, tm := range due {
		tm.fn()
	}
	var live []*testWatch
	var pfds []unix.PollFd
	for _, w := range l.watches {
		if !w.removed {
			live = append(live, w)
			pfds = append(pfds, unix.PollFd{Fd: int32(w.fd), Events: unix.POLLIN})
		}
	}
	l.watches = live
	if _, err := unix.Poll(pfds, int(wait/time.Millisecond)); err != nil && err != unix.EINTR {
		l.t.Fatalf("poll: %v", err)
	}
	for i, p := range pfds {
		if p.Revents != 0 && !live[i].removed {
			live[i].fn()
		}
	}
}

// sessionEvents collects session events the way vitrine takes them: the
// session hands each to the loop (post), and they are read there.
type sessionEvents struct {
	loop *testLoop
	got  []Event
}

func newSessionEvents(loop *testLoop) *sessionEvents { return &sessionEvents{loop: loop} }

func (e *sessionEvents) deliver(ev Event) {
	e.loop.post(func() { e.got = append(e.got, ev) })
}

// next runs the loop until an event is there and returns it,
// acknowledging nothing.
func (e *sessionEvents) next() Event {
	e.loop.t.Helper()
	e.loop.runUntil("a session event", func() bool { return len(e.got) > 0 })
	ev := e.got[0]
	e.got = e.got[1:]
	return ev
}
