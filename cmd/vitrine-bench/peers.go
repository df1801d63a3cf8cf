package main

import (
	"path/filepath"
	"strings"
)

// Every compositor runs at this mode, where it can be set.
const (
	outputWidth  = 1920
	outputHeight = 1080
)

// compositor is one of the compared compositors: how to start it headless
// with CPU rendering at outputWidth×outputHeight.
type compositor struct {
	Name    string
	Binary  string
	Package string
	// Also lists other programs it needs, with their packages.
	Also map[string]string
	// Unprivileged: it refuses to run as root (wlroots), so as root it
	// runs as a dedicated user.
	Unprivileged bool
	// Floor marks the reference row (floor.go): no compositor, no
	// Command; it is measured in the same rounds but never a peer.
	Floor bool
	// Command returns the command line and extra environment for workload
	// w with its runtime directory rt, the socket it will create there,
	// and a non-empty reason when it cannot run w.
	Command func(binary string, w workload, rt string) (argv, env []string, socket, na string)
}

func allCompositors() []compositor {
	return []compositor{
		{
			Name: "vitrine", Binary: "vitrine",
			Command: func(bin string, w workload, rt string) ([]string, []string, string, string) {
				// No "-- CLIENT": the bench starts the clients
				// itself, behind its proxy, as for the peers.
				// The kiosk layout, as the figures in README were
				// measured with (and as cage, the nearest peer, lays
				// windows out): without --restart vitrine would
				// choose the desktop one.
				argv := []string{bin, "--backend", "headless", "--output", "1920x1080@60", "--socket", "vitrine-bench", "--layout", "kiosk"}
				if w.Rotate {
					argv = append(argv, "--rotate", "90")
				}
				return argv, nil, filepath.Join(rt, "vitrine-bench"), ""
			},
		},
		{
			Name: "weston", Binary: "weston", Package: "weston",
			Command: func(bin string, w workload, rt string) ([]string, []string, string, string) {
				// desktop-shell, weston's default: kiosk-shell.so of
				// weston 10 shows nothing on the headless backend (no
				// seat to activate the surface), so no frames. It
				// starts weston-desktop-shell and weston-keyboard,
				// which are counted as part of weston.
				// --no-config: a user's weston.ini must not change it.
				argv := []string{bin, "--backend=headless-backend.so", "--use-pixman",
					"--width=1920", "--height=1080", "--no-config",
					"--socket=weston-bench", "--idle-time=0"}
				if w.Rotate {
					// --help says "90"; weston 10 only accepts this.
					argv = append(argv, "--transform=rotate-90")
				}
				na := ""
				if w.Name == "foot-idle" {
					na = "n/a: weston's headless backend offers no wl_seat and foot exits without one"
				}
				return argv, nil, filepath.Join(rt, "weston-bench"), na
			},
		},
		{
			Name: "cage", Binary: "cage", Package: "cage",
			Also:         map[string]string{"Xwayland": "xwayland"},
			Unprivileged: true,
			Command: func(bin string, w workload, rt string) ([]string, []string, string, string) {
				argv := []string{bin}
				if w.Rotate {
					// cage 0.1.4 has no output management (wlr-randr
					// cannot reach it) but -r sets transform 90.
					argv = append(argv, "-r")
				}
				// cage needs an application and exits with it: a
				// placeholder that draws nothing; the clients come
				// through the proxy.
				argv = append(argv, "--", "sleep", "infinity")
				env := []string{"WLR_BACKENDS=headless", "WLR_RENDERER=pixman",
					"WLR_LIBINPUT_NO_DEVICES=1", "WLR_HEADLESS_OUTPUTS=1"}
				// A fresh runtime directory: wl_display_add_socket_auto
				// takes wayland-0.
				return argv, env, filepath.Join(rt, "wayland-0"), ""
			},
		},
		{Name: floorName, Floor: true},
	}
}

func compositorNames() string {
	var names []string
	for _, c := range allCompositors() {
		names = append(names, c.Name)
	}
	return strings.Join(names, ",")
}
