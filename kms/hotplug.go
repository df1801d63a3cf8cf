package kms

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
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
