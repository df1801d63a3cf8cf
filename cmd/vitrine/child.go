package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// childProcess is the client vitrine was asked to run: its exit ends the
// compositor (like cage), or with restart it is started again (kiosk).
type childProcess struct {
	argv    []string
	display string
	restart bool
	log     *slog.Logger
	exited  func(code int)

	mu       sync.Mutex
	cmd      *exec.Cmd
	stopping bool
}

// Restarts back off so a command that fails at once does not spin.
const (
	minBackoff  = 500 * time.Millisecond
	maxBackoff  = 30 * time.Second
	stableAfter = 10 * time.Second
)

func (c *childProcess) start() error {
	if _, err := exec.LookPath(c.argv[0]); err != nil {
		return fmt.Errorf("command %q: %w", c.argv[0], err)
	}
	go c.supervise()
	return nil
}

func (c *childProcess) spawn() (*exec.Cmd, error) {
	cmd := exec.Command(c.argv[0], c.argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	env := []string{"WAYLAND_DISPLAY=" + c.display}
	for _, kv := range os.Environ() {
		// The child must reach this compositor, not a parent one.
		if !hasPrefix(kv, "WAYLAND_DISPLAY=") && !hasPrefix(kv, "WAYLAND_SOCKET=") && !hasPrefix(kv, "DISPLAY=") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	// Its own process group, so stopping vitrine stops what it started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopping {
		return nil, errors.New("stopping")
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c.cmd = cmd
	return cmd, nil
}

func (c *childProcess) supervise() {
	backoff := minBackoff
	for {
		started := time.Now()
		cmd, err := c.spawn()
		if err != nil {
			c.log.Error("start command", "command", c.argv, "err", err)
			if !c.restart {
				c.exited(127)
				return
			}
		} else {
			c.log.Info("command started", "command", c.argv, "pid", cmd.Process.Pid, "event", "child.started")
			err = cmd.Wait()
			code := exitCode(cmd, err)
			c.log.Info("command exited", "command", c.argv, "status", code, "event", "child.exited")
			c.mu.Lock()
			stopping := c.stopping
			c.mu.Unlock()
			if !c.restart || stopping {
				c.exited(code)
				return
			}
		}
		if time.Since(started) > stableAfter {
			backoff = minBackoff
		}
		c.log.Info("restarting command", "in", backoff, "event", "child.restart")
		time.Sleep(backoff)
		backoff = min(backoff*2, maxBackoff)
	}
}

// exitCode follows the shell: the status, or 128+signal.
func exitCode(cmd *exec.Cmd, err error) int {
	if cmd.ProcessState == nil {
		return 127
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return cmd.ProcessState.ExitCode()
}

// stop terminates the command's process group, then kills it if it
// lingers.
func (c *childProcess) stop() {
	c.mu.Lock()
	c.stopping = true
	cmd := c.cmd
	c.mu.Unlock()
	if cmd == nil || cmd.Process == nil || cmd.ProcessState != nil {
		return
	}
	pgid := cmd.Process.Pid
	syscall.Kill(-pgid, syscall.SIGTERM)
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if syscall.Kill(pgid, 0) != nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	syscall.Kill(-pgid, syscall.SIGKILL)
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }
