package eventloop

import (
	"time"

	"golang.org/x/sys/unix"
)

// Timer runs a function on the loop at a CLOCK_MONOTONIC deadline. All
// timers share the loop's one timerfd, armed for the earliest deadline,
// so a loop with no armed timer has nothing that wakes it.
type Timer struct {
	loop  *Loop
	at    time.Duration
	index int // in loop.timers; -1 when not armed
	fn    func()
}

// NewTimer makes a disarmed timer that calls fn on the loop.
func (l *Loop) NewTimer(fn func()) *Timer {
	return &Timer{loop: l, index: -1, fn: fn}
}

// Set arms the timer for the monotonic time at (see Now), replacing any
// earlier deadline. A deadline in the past fires in the next iteration.
func (t *Timer) Set(at time.Duration) {
	if t.index >= 0 {
		t.at = at
		t.loop.timers.fix(t.index)
		return
	}
	t.at = at
	t.loop.timers.push(t)
}

// SetAfter arms the timer d from now.
func (t *Timer) SetAfter(d time.Duration) { t.Set(Now() + d) }

// Stop disarms the timer.
func (t *Timer) Stop() {
	if t.index >= 0 {
		t.loop.timers.remove(t.index)
	}
}

// Armed reports whether the timer waits to fire.
func (t *Timer) Armed() bool { return t.index >= 0 }

// Deadline is when an armed timer fires.
func (t *Timer) Deadline() time.Duration { return t.at }

// armTimerfd points the timerfd at the earliest deadline, touching it
// only when that changed.
func (l *Loop) armTimerfd() {
	var want time.Duration
	if len(l.timers) > 0 {
		want = max(l.timers[0].at, 1)
	}
	if want == l.armedAt {
		return
	}
	l.armedAt = want
	// A zero it_value disarms the timerfd.
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(want))}
	timerfdSetAbs(l.timerfd, &spec)
}

func (l *Loop) timerReady(Events) {
	// The timerfd is watched edge-triggered, so its expiry count need
	// not be read (one system call a frame fewer); timerfd_settime
	// clears it. It is spent: it fires once per arming.
	l.armedAt = 0
	now := Now()
	for len(l.timers) > 0 && l.timers[0].at <= now {
		t := l.timers[0]
		l.timers.remove(0)
		t.fn()
	}
}

// timerHeap is a binary min-heap on deadline; timers know their index so
// rescheduling one is O(log n) and allocation-free.
type timerHeap []*Timer

func (h *timerHeap) push(t *Timer) {
	t.index = len(*h)
	*h = append(*h, t)
	h.up(t.index)
}

func (h *timerHeap) remove(i int) {
	s := *h
	last := len(s) - 1
	t := s[i]
	if i != last {
		h.swap(i, last)
	}
	s[last] = nil
	*h = s[:last]
	t.index = -1
	if i != last {
		h.fix(i)
	}
}

func (h timerHeap) fix(i int) {
	if !h.down(i) {
		h.up(i)
	}
}

func (h timerHeap) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}

func (h timerHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if h[p].at <= h[i].at {
			return
		}
		h.swap(i, p)
		i = p
	}
}

func (h timerHeap) down(i int) bool {
	start := i
	for {
		l := 2*i + 1
		if l >= len(h) {
			break
		}
		m := l
		if r := l + 1; r < len(h) && h[r].at < h[l].at {
			m = r
		}
		if h[i].at <= h[m].at {
			break
		}
		h.swap(i, m)
		i = m
	}
	return i > start
}
