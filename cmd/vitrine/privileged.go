package main

import (
	"bytes"
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
// "child" the process tree of the command vitrine started (childPID
// says which process heads it now: 0 when none runs), else a
// comma-separated list of program names, compared with the base name of
// the client's executable (/proc/PID/exe, from the socket's peer
// credentials).
func privilegedClients(value string, childPID func() int) (func(*protocol.Client) bool, error) {
	switch value {
	case "all":
		return nil, nil
	case "none":
		return func(*protocol.Client) bool { return false }, nil
	case "child":
		if childPID == nil {
			return nil, fmt.Errorf("--privileged-clients child: no command to run (give one after --, or use all, none or program names)")
		}
		return func(c *protocol.Client) bool {
			root := childPID()
			return root > 0 && inProcessTree(c.PID, root)
		}, nil
	}
	var names []string
	for _, n := range strings.Split(value, ",") {
		n = strings.TrimSpace(n)
		if n == "" || strings.Contains(n, "/") {
			return nil, fmt.Errorf("--privileged-clients %q: want child, all, none or program names separated by commas (e.g. grim,wlr-randr)", value)
		}
		names = append(names, n)
	}
	return func(c *protocol.Client) bool {
		exe := clientExecutable(c.PID)
		return exe != "" && slices.Contains(names, filepath.Base(exe))
	}, nil
}

// defaultPrivileged is --privileged-clients when it is not given: the
// command's process tree when vitrine starts one (a kiosk: nothing else
// on the machine may watch it), everyone when it starts none (a session
// compositor whose user runs grim from a terminal inside it).
func defaultPrivileged(command []string) string {
	if len(command) > 0 {
		return "child"
	}
	return "all"
}

// maxTreeDepth bounds the walk up the parent chain; real process trees
// are a few levels deep.
const maxTreeDepth = 64

// inProcessTree reports whether pid is root or a descendant of it,
// walking the parent chain through /proc/PID/stat. It is asked at bind
// time, so a process that left the tree (reparented to init after its
// parent exited) is no longer in it.
func inProcessTree(pid, root int) bool {
	for i := 0; i < maxTreeDepth && pid > 1; i++ {
		if pid == root {
			return true
		}
		next, ok := parentPID(pid)
		if !ok {
			return false
		}
		pid = next
	}
	return false
}

// parentPID reads field 4 of /proc/PID/stat. The command name before it
// is in parentheses and may itself contain spaces and parentheses, so
// the fields are counted from the last ')'.
func parentPID(pid int) (int, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return 0, false
	}
	ppid, err := strconv.Atoi(f[1])
	return ppid, err == nil
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
