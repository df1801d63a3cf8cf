package kms

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
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

// WatchHotplug listens to the kernel's uevent netlink socket and sends DRM
// hotplug notices until ctx is done. The socket needs no privileges. The
// channel is closed when the watch ends.
func WatchHotplug(ctx context.Context) (<-chan Hotplug, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_KOBJECT_UEVENT)
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
	var wake [2]int
	if err := unix.Pipe2(wake[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("hotplug pipe: %w", err)
	}
	ch := make(chan Hotplug, 16)
	go func() {
		<-ctx.Done()
		unix.Write(wake[1], []byte{0})
	}()
	go func() {
		defer close(ch)
		defer unix.Close(fd)
		defer unix.Close(wake[0])
		defer unix.Close(wake[1])
		buf := make([]byte, 16<<10)
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}, {Fd: int32(wake[0]), Events: unix.POLLIN}}
		for {
			fds[0].Revents, fds[1].Revents = 0, 0
			if _, err := unix.Poll(fds, -1); err != nil {
				if errors.Is(err, unix.EINTR) {
					continue
				}
				slog.Error("hotplug watch stopped", "err", err)
				return
			}
			if fds[1].Revents != 0 {
				return
			}
			n, from, err := unix.Recvfrom(fd, buf, unix.MSG_DONTWAIT)
			if err != nil {
				if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
					continue
				}
				if errors.Is(err, unix.ENOBUFS) {
					// Events were dropped: tell the caller to rescan everything.
					slog.Warn("uevent socket overrun; rescanning")
					select {
					case ch <- Hotplug{Action: "change", Minor: -1}:
					case <-ctx.Done():
						return
					}
					continue
				}
				slog.Error("hotplug watch stopped", "err", err)
				return
			}
			// Only the kernel (port 0) is believed; anyone can send to a
			// netlink multicast group otherwise.
			if nl, ok := from.(*unix.SockaddrNetlink); !ok || nl.Pid != 0 {
				continue
			}
			ev, err := ParseUevent(buf[:n])
			if err != nil {
				continue
			}
			if h, ok := HotplugFromUevent(ev); ok {
				select {
				case ch <- h:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return ch, nil
}
