package evdev

import (
	"bytes"
	"errors"
	"fmt"
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

// UeventMonitor receives kernel uevents over NETLINK_KOBJECT_UEVENT. Its
// socket is non-blocking and meant for an event loop: watch FD and call
// Dispatch when it is readable. It serves both the input hotplug and,
// in cmd/vitrine, DRM connector hotplug (kms.ParseUevent): the socket is
// the kernel's, not any one subsystem's.
type UeventMonitor struct {
	fd  int
	buf []byte
}

// ErrUeventOverrun is returned by Dispatch when the kernel dropped
// uevents because the socket's buffer was full: what they said can only
// be found by rescanning.
var ErrUeventOverrun = errors.New("uevents lost: socket buffer overrun")

// ListenUevents opens a netlink socket on the kernel's uevent group. It
// needs no privileges.
func ListenUevents() (*UeventMonitor, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_KOBJECT_UEVENT)
	if err != nil {
		return nil, fmt.Errorf("uevent netlink socket: %w", err)
	}
	// Group 1 is the kernel's broadcast; udev re-broadcasts on group 2.
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: 1}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("bind uevent netlink socket: %w", err)
	}
	// A burst (a dock with several monitors and a hub of input devices)
	// must not overrun the default buffer.
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 1<<20)
	return &UeventMonitor{fd: fd, buf: make([]byte, 16<<10)}, nil
}

// FD is the socket, for the event loop.
func (m *UeventMonitor) FD() int { return m.fd }

// Dispatch reads every message queued on the socket without blocking and
// calls fn with each one the kernel sent (ParseUevent decodes it; the
// slice is reused after fn returns). After an overrun it still delivers
// what is left, then returns ErrUeventOverrun.
func (m *UeventMonitor) Dispatch(fn func(msg []byte)) error {
	var overrun bool
	for {
		n, from, err := unix.Recvfrom(m.fd, m.buf, unix.MSG_DONTWAIT)
		switch {
		case errors.Is(err, unix.EAGAIN):
			if overrun {
				return ErrUeventOverrun
			}
			return nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.ENOBUFS):
			overrun = true
			continue
		case err != nil:
			return fmt.Errorf("read uevent: %w", err)
		}
		// Only the kernel (port 0) may tell us about devices: anyone can
		// send to a netlink multicast group.
		if nl, ok := from.(*unix.SockaddrNetlink); !ok || nl.Pid != 0 {
			continue
		}
		fn(m.buf[:n])
	}
}

// Close closes the socket; remove it from the loop first.
func (m *UeventMonitor) Close() error { return unix.Close(m.fd) }
