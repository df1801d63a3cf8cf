package main

import (
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/vitrine-wm/vitrine/protocol/eventloop"
	"golang.org/x/sys/unix"
)

// childProcess is the client vitrine was asked to run: its exit ends the
// compositor (like cage), or with restart it is started again (kiosk).
// It lives on the compositor's loop: the child's exit is a pidfd becoming
// readable and the restart back-off is a loop timer, so supervising it
// takes no goroutine, lock or sleeping thread.
type childProcess struct {
	argv    []string
	display string
	// xdisplay is the X display for X11 clients ("": none).
	xdisplay string
	restart  bool
	log      *slog.Logger
	loop     *eventloop.Loop
	exited   func(code int) // called on the loop
	// onStart, if set, is told each new process's pid, on the loop.
	onStart func(pid int)

	cmd      *exec.Cmd
	running  int // pid of the command while it runs, else 0
	pidfd    int
	source   *eventloop.Source
	started  time.Time
	backoff  time.Duration
	retry    *eventloop.Timer
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
	c.backoff = minBackoff
	c.retry = c.loop.NewTimer(c.run)
	c.run()
	return nil
}

// pid is the running command's process id, 0 when none runs (not yet
// started, between restarts, or exited). Safe on a nil childProcess.
func (c *childProcess) pid() int {
	if c == nil {
		return 0
	}
	return c.running
}

// run starts the command once; on failure it exits or schedules a retry.
func (c *childProcess) run() {
	if c.stopping {
		return
	}
	c.started = time.Now()
	if err := c.spawn(); err != nil {
		c.log.Error("start command", "command", c.argv, "err", err)
		if !c.restart {
			c.exited(127)
			return
		}
		c.scheduleRestart()
		return
	}
	c.log.Info("command started", "command", c.argv, "pid", c.cmd.Process.Pid, "event", "child.started")
	if c.onStart != nil {
		c.onStart(c.cmd.Process.Pid)
	}
}

func (c *childProcess) spawn() error {
	cmd := exec.Command(c.argv[0], c.argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	env := []string{"WAYLAND_DISPLAY=" + c.display}
	if c.xdisplay != "" {
		env = append(env, "DISPLAY="+c.xdisplay)
	}
	for _, kv := range os.Environ() {
		// The child must reach this compositor, not a parent one.
		if !hasPrefix(kv, "WAYLAND_DISPLAY=") && !hasPrefix(kv, "WAYLAND_SOCKET=") && !hasPrefix(kv, "DISPLAY=") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	pidfd := -1
	// Its own process group, so stopping vitrine stops what it started;
	// a pidfd, so its exit is an fd on the loop.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, PidFD: &pidfd}
	if err := cmd.Start(); err != nil {
		return err
	}
	c.cmd, c.running = cmd, cmd.Process.Pid
	if pidfd >= 0 {
		src, err := c.loop.AddFD(pidfd, eventloop.Readable, c.pidfdReady)
		if err == nil {
			c.pidfd, c.source = pidfd, src
			return nil
		}
		unix.Close(pidfd)
	}
	// No pidfd (kernels before 5.3) or no room on the loop: a goroutine
	// in Wait hands the exit to the loop.
	go func() {
		err := cmd.Wait()
		c.loop.Post(func() { c.reap(err) })
	}()
	return nil
}

// pidfdReady: the child exited, so Wait returns at once.
func (c *childProcess) pidfdReady(eventloop.Events) {
	c.source.Remove()
	unix.Close(c.pidfd)
	c.source, c.pidfd = nil, -1
	c.reap(c.cmd.Wait())
}

func (c *childProcess) reap(err error) {
	c.running = 0
	code := exitCode(c.cmd, err)
	c.log.Info("command exited", "command", c.argv, "status", code, "event", "child.exited")
	if !c.restart || c.stopping {
		c.exited(code)
		return
	}
	c.scheduleRestart()
}

func (c *childProcess) scheduleRestart() {
	if time.Since(c.started) > stableAfter {
		c.backoff = minBackoff
	}
	c.log.Info("restarting command", "in", c.backoff, "event", "child.restart")
	c.retry.SetAfter(c.backoff)
	c.backoff = min(c.backoff*2, maxBackoff)
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
// lingers. It runs after the loop has stopped (vitrine is exiting).
func (c *childProcess) stop() {
	c.stopping = true
	if c.retry != nil {
		c.retry.Stop()
	}
	cmd := c.cmd
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
		// The child is a zombie until reaped: Kill(pid, 0) still finds
		// it, so reap it here once it has exited.
		var ws syscall.WaitStatus
		if pid, _ := syscall.Wait4(pgid, &ws, syscall.WNOHANG, nil); pid == pgid {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	syscall.Kill(-pgid, syscall.SIGKILL)
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }
