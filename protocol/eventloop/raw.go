package eventloop

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The loop's system calls never block: epoll_wait with a zero timeout,
// reads of a non-blocking eventfd, and timerfd_settime. They are made
// with RawSyscall because the runtime's ordinary Syscall wakes its
// monitor thread (sysmon) from its deep sleep on the first call after an
// idle spell, which the loop has twice a frame: measured, 4 of the 6 context switches a frame cost.

// epollPoll returns the ready events without waiting.
func epollPoll(epfd int, events []unix.EpollEvent) (int, error) {
	r, _, errno := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(r), nil
}

// drain reads a non-blocking timerfd or eventfd's counter.
func drain(fd int, buf *[8]byte) {
	unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), 8)
}

func timerfdSetAbs(fd int, spec *unix.ItimerSpec) {
	unix.RawSyscall6(unix.SYS_TIMERFD_SETTIME, uintptr(fd), unix.TFD_TIMER_ABSTIME, uintptr(unsafe.Pointer(spec)), 0, 0, 0)
}

// Now is the loop's clock, CLOCK_MONOTONIC: the clock of page-flip
// events, wp_presentation and timer deadlines. The runtime's monotonic
// clock is CLOCK_MONOTONIC read through the vDSO, but it is exposed only
// as differences; one system call at start-up gives the offset, and
// every later reading costs no system call (a frame reads the clock
// about five times).
func Now() time.Duration {
	return monoBase.at + time.Since(monoBase.t)
}

// monoBase pairs one time.Now with one CLOCK_MONOTONIC reading. It is
// written once, at package initialisation, and only read after.
var monoBase = func() (b struct {
	t  time.Time
	at time.Duration
}) {
	var ts unix.Timespec
	b.t = time.Now()
	unix.RawSyscall(unix.SYS_CLOCK_GETTIME, unix.CLOCK_MONOTONIC, uintptr(unsafe.Pointer(&ts)), 0)
	b.at = time.Duration(ts.Nano())
	return b
}()
