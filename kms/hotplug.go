package kms

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Uevent is a kernel uevent: the action line plus its KEY=VALUE pairs.
type Uevent struct {
	Action    string // "add", "remove", "change", ...
	DevPath   string // /devices/...
	Subsystem string
	Env       map[string]string
}

// ParseUevent decodes one kernel uevent netlink message
// ("ACTION@DEVPATH\0KEY=VALUE\0..."). Messages from udev (which start with
// "libudev") are rejected: only the kernel's are trusted here.
func ParseUevent(msg []byte) (Uevent, error) {
	var ev Uevent
	fields := bytes.Split(bytes.TrimRight(msg, "\x00"), []byte{0})
	if len(fields) == 0 || len(fields[0]) == 0 {
		return ev, errors.New("uevent: empty message")
	}
	head := string(fields[0])
	if strings.HasPrefix(head, "libudev") {
		return ev, errors.New("uevent: udev message, not the kernel's")
	}
	action, devpath, ok := strings.Cut(head, "@")
	if !ok {
		return ev, fmt.Errorf("uevent: bad header %q", head)
	}
	ev.Action, ev.DevPath = action, devpath
	ev.Env = make(map[string]string, len(fields)-1)
	for _, f := range fields[1:] {
		k, v, ok := strings.Cut(string(f), "=")
		if !ok {
			continue
		}
		ev.Env[k] = v
	}
	ev.Subsystem = ev.Env["SUBSYSTEM"]
	if a := ev.Env["ACTION"]; a != "" {
		ev.Action = a
	}
	return ev, nil
}

// Hotplug is a DRM hotplug notice: something changed on card Minor
// (/dev/dri/cardMinor). Connector is set when the kernel named the
// connector that changed (CONNECTOR=id), 0 when any may have.
type Hotplug struct {
	Action    string // "change" for connector status changes, "add"/"remove" for whole cards
	DevName   string // e.g. "dri/card0"
	Minor     int
	Connector uint32
}

// HotplugFromUevent picks DRM hotplug notices out of uevents: a "change"
// with HOTPLUG=1 on a card, or a card node appearing or going away.
func HotplugFromUevent(ev Uevent) (Hotplug, bool) {
	if ev.Subsystem != "drm" {
		return Hotplug{}, false
	}
	devname := ev.Env["DEVNAME"]
	if !strings.HasPrefix(devname, "dri/card") {
		return Hotplug{}, false
	}
	h := Hotplug{Action: ev.Action, DevName: devname, Minor: -1}
	if m, err := strconv.Atoi(ev.Env["MINOR"]); err == nil {
		h.Minor = m
	}
	switch ev.Action {
	case "change":
		if ev.Env["HOTPLUG"] != "1" {
			return Hotplug{}, false
		}
		if c, err := strconv.ParseUint(ev.Env["CONNECTOR"], 10, 32); err == nil {
			h.Connector = uint32(c)
		}
	case "add", "remove":
	default:
		return Hotplug{}, false
	}
	return h, true
}

// HotplugMonitor is the kernel's uevent netlink socket, an event source
// for the caller's loop like Device: when FD is readable, Dispatch reads
// what is queued and hands each DRM hotplug notice over. The socket needs
// no privileges.
type HotplugMonitor struct {
	fd  int
	buf []byte
}

// OpenHotplug opens the uevent socket. Close it after removing FD from
// the loop.
func OpenHotplug() (*HotplugMonitor, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_KOBJECT_UEVENT)
	if err != nil {
		return nil, fmt.Errorf("uevent netlink socket: %w", err)
	}
	// Group 1 is the kernel's broadcast; udev re-broadcasts on group 2.
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: 1}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("bind uevent netlink socket: %w", err)
	}
	// A burst of uevents (a dock with several monitors) must not be lost.
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 1<<20)
	return &HotplugMonitor{fd: fd, buf: make([]byte, 16<<10)}, nil
}

// FD is readable when uevents are queued.
func (m *HotplugMonitor) FD() int { return m.fd }

// Dispatch reads every queued uevent without blocking and calls fn for
// each DRM hotplug notice, before it returns. When the socket overran
// (uevents were lost) fn gets a notice with Minor -1: rescan everything.
func (m *HotplugMonitor) Dispatch(fn func(Hotplug)) error {
	for {
		n, from, err := unix.Recvfrom(m.fd, m.buf, 0)
		switch {
		case errors.Is(err, unix.EAGAIN):
			return nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.ENOBUFS):
			fn(Hotplug{Action: "change", Minor: -1})
			continue
		case err != nil:
			return fmt.Errorf("read uevents: %w", err)
		}
		if h, ok := hotplugFromMessage(m.buf[:n], from); ok {
			fn(h)
		}
	}
}

// hotplugFromMessage is the DRM hotplug notice in one netlink message, if
// it is one and comes from the kernel (port 0): anyone can send to a
// netlink multicast group.
func hotplugFromMessage(msg []byte, from unix.Sockaddr) (Hotplug, bool) {
	if nl, ok := from.(*unix.SockaddrNetlink); !ok || nl.Pid != 0 {
		return Hotplug{}, false
	}
	ev, err := ParseUevent(msg)
	if err != nil {
		return Hotplug{}, false
	}
	return HotplugFromUevent(ev)
}

// Close closes the socket.
func (m *HotplugMonitor) Close() error { return unix.Close(m.fd) }
