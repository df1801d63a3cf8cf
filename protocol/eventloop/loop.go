// Package eventloop is the compositor's one loop, in the shape of
// libwayland's wl_event_loop: epoll over file descriptors, timers on one
// timerfd, and a queue that goroutines (the few places where the kernel
// offers no fd: signals, D-Bus, child processes) use to hand work to the
// loop. Everything registered runs on the one goroutine that calls Run,
// so the state those callbacks touch needs no locks and a frame never
// crosses goroutines.
//
// The package knows nothing of Wayland; it lives beside the protocol
// package because the Wayland server is its main user.
package eventloop

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Events is a set of epoll event bits.
type Events uint32

const (
	Readable Events = unix.EPOLLIN
	Writable Events = unix.EPOLLOUT
	Hangup   Events = unix.EPOLLHUP | unix.EPOLLRDHUP
	Error    Events = unix.EPOLLERR

	// edgeTriggered is for the loop's own timerfd only: sources must be
	// level-triggered, or input a handler left unread would be lost.
	edgeTriggered Events = unix.EPOLLET
)

// Source is one registered file descriptor.
type Source struct {
	loop    *Loop
	fd      int
	events  Events
	handler func(Events)
	removed bool
}

// Loop multiplexes fds, timers and posted work onto one thread.
type Loop struct {
	epfd    int
	timerfd int
	eventfd int

	sources map[int32]*Source
	evbuf   []unix.EpollEvent

	timers  timerHeap
	armedAt time.Duration // deadline the timerfd is armed for; 0: disarmed

	mu     sync.Mutex
	posted []func()
	spare  []func()
	woken  bool

	// after runs at the end of every iteration, in order: repaint, then
	// flush clients, the way wl_event_loop's idle sources run.
	after []func()

	stopped bool
	err     error

	// epFile puts the epoll fd itself in the Go runtime's poller, so
	// Run parks the goroutine instead of blocking a thread in
	// epoll_wait; wait is bound once so waiting allocates nothing.
	epFile *os.File
	epRaw  syscall.RawConn
	ready  int
	wait   func(uintptr) bool
}

// New makes a loop. Close releases its fds.
func New() (*Loop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	l := &Loop{epfd: epfd, timerfd: -1, eventfd: -1, sources: map[int32]*Source{}, evbuf: make([]unix.EpollEvent, 64)}
	l.timerfd, err = unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_CLOEXEC|unix.TFD_NONBLOCK)
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("timerfd_create: %w", err)
	}
	l.eventfd, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	if _, err := l.AddFD(l.timerfd, Readable|edgeTriggered, l.timerReady); err != nil {
		l.Close()
		return nil, err
	}
	if _, err := l.AddFD(l.eventfd, Readable, l.postedReady); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// Close releases the loop's own fds; registered fds stay their owners'.
func (l *Loop) Close() error {
	if l.epFile != nil {
		l.epFile.Close()
		l.epFile = nil
	}
	for _, fd := range []*int{&l.timerfd, &l.eventfd, &l.epfd} {
		if *fd >= 0 {
			unix.Close(*fd)
			*fd = -1
		}
	}
	return nil
}

// AddFD watches fd (level-triggered) and calls handler on the loop with
// the events that are ready. The fd stays the caller's: Remove it before
// closing it.
func (l *Loop) AddFD(fd int, events Events, handler func(Events)) (*Source, error) {
	s := &Source{loop: l, fd: fd, events: events, handler: handler}
	ev := unix.EpollEvent{Events: uint32(events), Fd: int32(fd)}
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return nil, fmt.Errorf("epoll add fd %d: %w", fd, err)
	}
	l.sources[int32(fd)] = s
	return s, nil
}

// FD is the watched file descriptor.
func (s *Source) FD() int { return s.fd }

// SetEvents changes what the source waits for (a client with output
// queued also waits for Writable).
func (s *Source) SetEvents(events Events) error {
	if s.removed || s.events == events {
		return nil
	}
	ev := unix.EpollEvent{Events: uint32(events), Fd: int32(s.fd)}
	if err := unix.EpollCtl(s.loop.epfd, unix.EPOLL_CTL_MOD, s.fd, &ev); err != nil {
		return fmt.Errorf("epoll mod fd %d: %w", s.fd, err)
	}
	s.events = events
	return nil
}

// Remove stops watching the fd. Events already read for it in this
// iteration are dropped.
func (s *Source) Remove() {
	if s.removed {
		return
	}
	s.removed = true
	l := s.loop
	if l.sources[int32(s.fd)] == s {
		delete(l.sources, int32(s.fd))
	}
	if l.epfd >= 0 {
		// ENOENT/EBADF: the owner closed it first; nothing is left to undo.
		_ = unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, s.fd, nil)
	}
}

// AfterDispatch adds f to what runs at the end of every iteration, after
// every ready source, timer and posted function.
func (l *Loop) AfterDispatch(f func()) { l.after = append(l.after, f) }

// Post queues f to run on the loop. It is the only method safe to call
// from other goroutines.
func (l *Loop) Post(f func()) {
	l.mu.Lock()
	l.posted = append(l.posted, f)
	wake := !l.woken
	l.woken = true
	l.mu.Unlock()
	if wake {
		var one = [8]byte{1}
		unix.Write(l.eventfd, one[:])
	}
}

func (l *Loop) postedReady(Events) {
	var buf [8]byte
	drain(l.eventfd, &buf)
	l.mu.Lock()
	run := l.posted
	l.posted = l.spare[:0]
	l.woken = false
	l.mu.Unlock()
	for i, f := range run {
		f()
		run[i] = nil
	}
	l.spare = run[:0]
}

// Stop makes Run return err after the current iteration.
func (l *Loop) Stop(err error) {
	if !l.stopped {
		l.stopped, l.err = true, err
	}
}

// Run dispatches until Stop, on the calling goroutine.
//
// The goroutine waits in the Go runtime's poller (the epoll fd is itself
// pollable) rather than in its own blocking epoll_wait: a thread blocked
// in a system call keeps its scheduler slot busy, so the runtime's
// monitor thread polls it every few microseconds and hands the slot to
// another thread, about 20 context switches per frame across 8 threads;
// parked in the poller, the thread that wakes is the one that runs the
// loop, and an idle compositor has no thread awake at all.
func (l *Loop) Run() error {
	if err := l.initPoller(); err != nil {
		return err
	}
	for !l.stopped {
		l.armTimerfd()
		l.ready = 0
		if err := l.epRaw.Read(l.wait); err != nil {
			return fmt.Errorf("wait for events: %w", err)
		}
		l.dispatchReady(l.ready)
	}
	return l.err
}

func (l *Loop) initPoller() error {
	if l.epRaw != nil {
		return nil
	}
	if err := unix.SetNonblock(l.epfd, true); err != nil {
		return fmt.Errorf("epoll fd: %w", err)
	}
	// os.File owns a duplicate, so closing it leaves l.epfd to Close.
	dup, err := unix.FcntlInt(uintptr(l.epfd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("epoll fd: %w", err)
	}
	l.epFile = os.NewFile(uintptr(dup), "epoll")
	raw, err := l.epFile.SyscallConn()
	if err != nil {
		return fmt.Errorf("epoll fd: %w", err)
	}
	l.epRaw = raw
	l.wait = l.poll
	return nil
}

// poll takes the ready events without blocking; returning false makes
// the runtime park the goroutine until the epoll fd is readable.
func (l *Loop) poll(uintptr) bool {
	n, err := epollPoll(l.epfd, l.evbuf)
	if err != nil {
		return !errors.Is(err, unix.EINTR) && !errors.Is(err, unix.EAGAIN)
	}
	l.ready = n
	return n > 0
}

// Dispatch runs one iteration: it waits up to timeout (negative: until
// something is ready) for fds, timers or posted work, runs what is ready,
// then the AfterDispatch functions.
func (l *Loop) Dispatch(timeout time.Duration) error {
	l.armTimerfd()
	ms := -1
	if timeout >= 0 {
		ms = int((timeout + time.Millisecond - 1) / time.Millisecond)
	}
	n, err := unix.EpollWait(l.epfd, l.evbuf, ms)
	if err != nil && !errors.Is(err, unix.EINTR) {
		return fmt.Errorf("epoll_wait: %w", err)
	}
	l.dispatchReady(n)
	return nil
}

// dispatchReady runs the handlers of the first n events in evbuf, then
// the AfterDispatch functions.
func (l *Loop) dispatchReady(n int) {
	for i := 0; i < n; i++ {
		ev := l.evbuf[i]
		s := l.sources[ev.Fd]
		if s == nil || s.removed {
			continue
		}
		s.handler(Events(ev.Events))
	}
	if n == len(l.evbuf) {
		// Many fds are busy: take more at once next time.
		l.evbuf = make([]unix.EpollEvent, 2*len(l.evbuf))
	}
	for _, f := range l.after {
		f()
	}
}
