package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/vitrine-wm/vitrine/protocol"
)

// privilegedClients parses --privileged-clients: who may bind the
// globals that see or drive other clients (screencopy, output
// management). "all" keeps every client able to (nil), "none" nobody,
// else a comma-separated list of program names, compared with the base
// name of the client's executable (/proc/PID/exe, from the socket's
// peer credentials).
func privilegedClients(value string) (func(*protocol.Client) bool, error) {
	switch value {
	case "all":
		return nil, nil
	case "none":
		return func(*protocol.Client) bool { return false }, nil
	}
	var names []string
	for _, n := range strings.Split(value, ",") {
		n = strings.TrimSpace(n)
		if n == "" || strings.Contains(n, "/") {
			return nil, fmt.Errorf("--privileged-clients %q: want all, none or program names separated by commas (e.g. grim,wlr-randr)", value)
		}
		names = append(names, n)
	}
	return func(c *protocol.Client) bool {
		exe := clientExecutable(c.PID)
		return exe != "" && slices.Contains(names, filepath.Base(exe))
	}, nil
}

// clientExecutable is the program a client process runs, "" when it
// cannot be known (a process gone or of another user we may not read).
func clientExecutable(pid int) string {
	if pid <= 0 {
		return ""
	}
	exe, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(pid), "exe"))
	if err != nil {
		return ""
	}
	// A program replaced on disk while running reads as "PATH (deleted)".
	return strings.TrimSuffix(exe, " (deleted)")
}
