package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// child is a started process in its own process group, reaped by a
// goroutine so its exit can be waited for with a timeout.
type child struct {
	name   string
	cmd    *exec.Cmd
	log    string // file holding its stdout and stderr
	exited chan struct{}
	err    error // valid after exited is closed
}

// startChild starts argv in a new process group with stdout and stderr
// going to logPath.
func startChild(name string, argv, env []string, cred *syscall.Credential, logPath string) (*child, error) {
	out, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("start %s: create log: %w", name, err)
	}
	defer out.Close() // the child has its own copy
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: cred, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (%s): %w", name, argv[0], err)
	}
	c := &child{name: name, cmd: cmd, log: logPath, exited: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.exited)
	}()
	return c, nil
}

func (c *child) pid() int { return c.cmd.Process.Pid }

func (c *child) hasExited() bool {
	select {
	case <-c.exited:
		return true
	default:
		return false
	}
}

// stop ends the child's whole process group: SIGTERM, then SIGKILL after
// grace. Descendants that left the group (browsers do) are found through
// /proc beforehand and killed too.
func (c *child) stop(proc procFS, grace time.Duration) error {
	pids, _ := proc.tree(c.pid())
	pgid := c.pid()
	if !c.hasExited() {
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
	}
	select {
	case <-c.exited:
	case <-time.After(grace):
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	for _, pid := range pids[1:] {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	select {
	case <-c.exited:
		return nil
	case <-time.After(5 * time.Second):
		return fmt.Errorf("%s (pid %d) did not exit after SIGKILL", c.name, c.pid())
	}
}

// stopAll stops children concurrently: a hundred clients each given a
// grace period one after another would take minutes.
func stopAll(children []*child, proc procFS, grace time.Duration, log *slog.Logger) {
	var wg sync.WaitGroup
	for _, c := range children {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.stop(proc, grace); err != nil {
				log.Warn("stop client", "err", err)
			}
		}()
	}
	wg.Wait()
}

// exitError describes how the child ended and the end of its log.
func (c *child) exitError() error {
	what := "exited"
	if c.err != nil {
		what = c.err.Error()
	}
	return fmt.Errorf("%s exited early (%s); last lines of %s:\n%s", c.name, what, c.log, tail(c.log, 15))
}

// tail returns the last n lines of a file, indented for error messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "  (" + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "  " + strings.Join(lines, "\n  ")
}

// waitForSocket waits until path is a socket, the process exits, or the
// timeout passes.
func waitForSocket(path string, c *child, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if fi, err := os.Stat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
			return nil
		} else if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("wait for socket %s: %w", path, err)
		}
		if c.hasExited() {
			return c.exitError()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not create its socket %s within %v; last lines of %s:\n%s",
				c.name, path, timeout, c.log, tail(c.log, 15))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cleanEnv is the caller's environment without anything that would point
// a compositor or client at another display or runtime directory.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "WAYLAND_DISPLAY", k == "WAYLAND_SOCKET", k == "DISPLAY",
			k == "XDG_RUNTIME_DIR", k == "XDG_SESSION_TYPE", strings.HasPrefix(k, "WLR_"):
			continue
		}
		env = append(env, kv)
	}
	return env
}
