package eventloop

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The loop's system calls never block: epoll_wait with a zero timeout,
// reads of non-blocking timerfd and eventfd, timerfd_settime and
// clock_gettime. They are made with RawSyscall because the runtime's
// ordinary Syscall wakes its monitor thread (sysmon) from its deep sleep
// on the first call after an idle spell, which the loop has twice a
// frame: measured, 4 of the 6 context switches a frame cost.

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
// events, wp_presentation and timer deadlines.
func Now() time.Duration {
	var ts unix.Timespec
	unix.RawSyscall(unix.SYS_CLOCK_GETTIME, unix.CLOCK_MONOTONIC, uintptr(unsafe.Pointer(&ts)), 0)
	return time.Duration(ts.Nano())
}
