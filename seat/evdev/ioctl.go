package evdev

import (
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// AbsInfo is struct input_absinfo.
type AbsInfo struct {
	Value, Minimum, Maximum, Fuzz, Flat, Resolution int32
}

// Normalize maps v into 0..1 over the axis range, clamped.
func (a AbsInfo) Normalize(v int32) float64 {
	if a.Maximum <= a.Minimum {
		return 0
	}
	f := float64(v-a.Minimum) / float64(a.Maximum-a.Minimum)
	return min(max(f, 0), 1)
}

// ioctl request numbers for the 'E' type, with the generic _IOC layout
// used by x86, ARM and RISC-V: nr bits 0-7, type 8-15, size 16-29,
// direction 30-31 (1 write, 2 read).
func eviocRead(nr, size uintptr) uintptr  { return 2<<30 | size<<16 | 'E'<<8 | nr }
func eviocWrite(nr, size uintptr) uintptr { return 1<<30 | size<<16 | 'E'<<8 | nr }

func ioctl(f *os.File, req uintptr, arg unsafe.Pointer) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var errno unix.Errno
	if err := rc.Control(func(fd uintptr) {
		_, _, errno = unix.Syscall(unix.SYS_IOCTL, fd, req, uintptr(arg))
	}); err != nil {
		return err
	}
	if errno != 0 {
		return errno
	}
	return nil
}

// GetAbsInfo reads an absolute axis range (EVIOCGABS).
func GetAbsInfo(f *os.File, axis int) (AbsInfo, error) {
	var a AbsInfo
	if err := ioctl(f, eviocRead(0x40+uintptr(axis), unsafe.Sizeof(a)), unsafe.Pointer(&a)); err != nil {
		return a, fmt.Errorf("EVIOCGABS(%#x) on %s: %w", axis, f.Name(), err)
	}
	return a, nil
}

// SetClockMonotonic makes the device timestamp events with
// CLOCK_MONOTONIC (EVIOCSCLOCKID): wall-clock steps must not reorder input.
func SetClockMonotonic(f *os.File) error {
	id := int32(unix.CLOCK_MONOTONIC)
	if err := ioctl(f, eviocWrite(0xa0, 4), unsafe.Pointer(&id)); err != nil {
		return fmt.Errorf("EVIOCSCLOCKID on %s: %w", f.Name(), err)
	}
	return nil
}

// Name reads the device name (EVIOCGNAME).
func Name(f *os.File) (string, error) {
	buf := make([]byte, 256)
	if err := ioctl(f, eviocRead(0x06, uintptr(len(buf))), unsafe.Pointer(&buf[0])); err != nil {
		return "", fmt.Errorf("EVIOCGNAME on %s: %w", f.Name(), err)
	}
	for i, c := range buf {
		if c == 0 {
			return string(buf[:i]), nil
		}
	}
	return string(buf), nil
}
