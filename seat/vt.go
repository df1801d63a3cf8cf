package seat

import (
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ioctls of linux/kd.h and linux/vt.h.
const (
	kdSetMode   = 0x4B3A
	kdText      = 0x00
	kdGraphics  = 0x01
	kdGetKbMode = 0x4B44
	kdSetKbMode = 0x4B45
	kbOff       = 0x04
	vtGetState  = 0x5603
)

// consoleVT is the text console a direct session runs on. logind and
// seatd do this themselves; without them the console would keep drawing
// its cursor over the display and feed every keystroke to the shell
// underneath.
type consoleVT struct {
	f      *os.File
	kbMode int
}

// takeConsoleVT switches the controlling terminal, if it is a VT, to
// graphics mode with the keyboard off. It returns nil when there is no VT
// to take (a service, ssh, a pty).
func takeConsoleVT() (*consoleVT, error) {
	f, err := os.OpenFile("/dev/tty", os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil
	}
	fd := int(f.Fd())
	var st [3]uint16 // struct vt_stat
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), vtGetState, uintptr(unsafe.Pointer(&st))); errno != 0 {
		f.Close()
		return nil, nil
	}
	var mode int32
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), kdGetKbMode, uintptr(unsafe.Pointer(&mode))); errno != 0 {
		f.Close()
		return nil, fmt.Errorf("read keyboard mode of the console: %w", errno)
	}
	vt := &consoleVT{f: f, kbMode: int(mode)}
	if err := unix.IoctlSetInt(fd, kdSetKbMode, kbOff); err != nil {
		f.Close()
		return nil, fmt.Errorf("turn the console keyboard off: %w", err)
	}
	if err := unix.IoctlSetInt(fd, kdSetMode, kdGraphics); err != nil {
		unix.IoctlSetInt(fd, kdSetKbMode, vt.kbMode)
		f.Close()
		return nil, fmt.Errorf("switch the console to graphics mode: %w", err)
	}
	return vt, nil
}

// restore puts the console back as it was.
func (vt *consoleVT) restore() error {
	fd := int(vt.f.Fd())
	err1 := unix.IoctlSetInt(fd, kdSetMode, kdText)
	err2 := unix.IoctlSetInt(fd, kdSetKbMode, vt.kbMode)
	vt.f.Close()
	if err1 != nil {
		return fmt.Errorf("restore console text mode: %w", err1)
	}
	if err2 != nil {
		return fmt.Errorf("restore console keyboard mode: %w", err2)
	}
	return nil
}
