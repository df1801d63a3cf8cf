package evdev

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// Uevent is one kernel uevent: "ACTION@DEVPATH" followed by KEY=VALUE
// pairs, NUL separated.
type Uevent struct {
	Action  string // add, remove, change, ...
	DevPath string
	Env     map[string]string
}

// ParseUevent parses a kernel uevent message. udev's re-broadcasts (which
// start with "libudev") are rejected: vitrine listens to the kernel only.
func ParseUevent(b []byte) (Uevent, error) {
	parts := bytes.Split(bytes.TrimRight(b, "\x00"), []byte{0})
	if len(parts) == 0 {
		return Uevent{}, errors.New("empty uevent")
	}
	head := string(parts[0])
	action, devpath, ok := strings.Cut(head, "@")
	if !ok {
		return Uevent{}, fmt.Errorf("not a kernel uevent: %q", head)
	}
	u := Uevent{Action: action, DevPath: devpath, Env: make(map[string]string)}
	for _, p := range parts[1:] {
		if k, v, ok := strings.Cut(string(p), "="); ok {
			u.Env[k] = v
		}
	}
	if a := u.Env["ACTION"]; a != "" {
		u.Action = a
	}
	return u, nil
}

// EventNode returns the event node name ("event3") if u is about an evdev
// node of the input subsystem, else "".
func (u Uevent) EventNode() string {
	if u.Env["SUBSYSTEM"] != "input" {
		return ""
	}
	name, ok := strings.CutPrefix(u.Env["DEVNAME"], "input/")
	if !ok || !strings.HasPrefix(name, "event") {
		return ""
	}
	return name
}

// UeventMonitor receives kernel uevents over NETLINK_KOBJECT_UEVENT.
type UeventMonitor struct {
	f *os.File
}

// ListenUevents opens a netlink socket on the kernel's uevent group.
func ListenUevents() (*UeventMonitor, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_KOBJECT_UEVENT)
	if err != nil {
		return nil, fmt.Errorf("uevent netlink socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: 1}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("bind uevent netlink socket: %w", err)
	}
	return &UeventMonitor{f: os.NewFile(uintptr(fd), "uevent")}, nil
}

// Next blocks until the next uevent from the kernel, or Close.
func (m *UeventMonitor) Next() (Uevent, error) {
	rc, err := m.f.SyscallConn()
	if err != nil {
		return Uevent{}, err
	}
	buf := make([]byte, 8192)
	for {
		var n int
		var from unix.Sockaddr
		var rerr error
		err := rc.Read(func(fd uintptr) bool {
			n, from, rerr = unix.Recvfrom(int(fd), buf, 0)
			return rerr != unix.EAGAIN
		})
		if err != nil {
			return Uevent{}, err
		}
		if rerr != nil {
			if rerr == unix.ENOBUFS {
				// Events were lost under load; keep going, the caller
				// rescans when it matters.
				continue
			}
			return Uevent{}, fmt.Errorf("read uevent: %w", rerr)
		}
		// Only the kernel (port 0) may tell us about devices.
		if nl, ok := from.(*unix.SockaddrNetlink); !ok || nl.Pid != 0 {
			continue
		}
		u, err := ParseUevent(buf[:n])
		if err != nil {
			continue
		}
		return u, nil
	}
}

// Close stops the monitor; a blocked Next returns an error.
func (m *UeventMonitor) Close() error { return m.f.Close() }
