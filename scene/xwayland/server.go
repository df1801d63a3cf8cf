// Package xwayland runs Xwayland on demand: it holds an X display (lock
// file and listening sockets) from the start, and starts Xwayland only
// when an X client connects to it. Xwayland is a Wayland client of vitrine
// over a socketpair and gets vitrine's window manager over another;
// -terminate makes it exit when its last X client leaves, and the next
// connection starts a new one, as it does after a crash.
package xwayland

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/eventloop"
)

// Package is the Debian package that has the binary, for the error a
// missing one gives.
const Package = "xwayland"

// Config is what a Server is built with.
type Config struct {
	Log  *slog.Logger
	Loop *eventloop.Loop
	// Binary is the Xwayland executable (found in $PATH when not absolute).
	Binary string
	// FirstDisplay is the lowest display number tried.
	FirstDisplay int
	// Connect serves vitrine's end of Xwayland's Wayland connection; on
	// the loop.
	Connect func(fd int) (*protocol.Client, error)
	// Started runs on the loop once an Xwayland runs, with its Wayland
	// client and vitrine's end of its window manager connection (the
	// window manager owns and closes it).
	Started func(client *protocol.Client, wm net.Conn)
}

// Server is the X display and the Xwayland serving it, if any.
type Server struct {
	cfg    Config
	binary string
	disp   *display
	// srcs watch the listening sockets while no Xwayland runs.
	srcs   []*eventloop.Source
	proc   *os.Process
	closed bool
	// Starts counts Xwayland processes started, for tests and logs.
	starts int
	// rearm waits out a back-off after an Xwayland that died at once.
	rearm *eventloop.Timer
	// idleStop: the running Xwayland was stopped for having no clients.
	idleStop bool
}

// LookBinary resolves the Xwayland binary or says which package has it.
func LookBinary(name string) (string, error) {
	path, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s not found: install the Debian package %s (apt-get install %s), or pass --xwayland off", name, Package, Package)
	}
	return path, nil
}

// New takes a free X display and waits for X clients on it, on the loop.
func New(cfg Config) (*Server, error) {
	binary, err := LookBinary(cfg.Binary)
	if err != nil {
		return nil, err
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	d, err := openDisplay(cfg.FirstDisplay)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, binary: binary, disp: d}
	s.rearm = cfg.Loop.NewTimer(s.watch)
	if err := s.watch1(); err != nil {
		d.close()
		return nil, err
	}
	cfg.Log.Info("X11 display ready; Xwayland starts when the first X client connects", "DISPLAY", d.Name())
	return s, nil
}

// Display is the DISPLAY value for X clients.
func (s *Server) Display() string { return s.disp.Name() }

// Running reports whether an Xwayland runs now, and its pid.
func (s *Server) Running() (int, bool) {
	if s.proc == nil {
		return 0, false
	}
	return s.proc.Pid, true
}

func (s *Server) watch() {
	if err := s.watch1(); err != nil {
		s.cfg.Log.Error("X11 display: cannot wait for clients", "err", err)
	}
}

// watch1 puts the listening sockets on the loop: the next connection
// starts Xwayland.
func (s *Server) watch1() error {
	if s.closed || s.proc != nil || s.srcs != nil {
		return nil
	}
	for _, fd := range s.disp.fds {
		src, err := s.cfg.Loop.AddFD(fd, eventloop.Readable, s.clientWaiting)
		if err != nil {
			s.unwatch()
			return err
		}
		s.srcs = append(s.srcs, src)
	}
	return nil
}

func (s *Server) unwatch() {
	for _, src := range s.srcs {
		src.Remove()
	}
	s.srcs = nil
}

// clientWaiting starts Xwayland, which accepts the connection itself.
func (s *Server) clientWaiting(eventloop.Events) {
	s.unwatch()
	if err := s.start(); err != nil {
		s.cfg.Log.Error("start Xwayland", "err", err)
		// The client stays in the backlog; try again after a pause
		// rather than spin on a socket that stays readable.
		s.rearm.SetAfter(time.Second)
	}
}

func (s *Server) start() error {
	wl, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("wayland socketpair: %w", err)
	}
	wm, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		unix.Close(wl[0])
		unix.Close(wl[1])
		return fmt.Errorf("window manager socketpair: %w", err)
	}
	// The child's ends, and duplicates of the listening sockets (the
	// originals stay vitrine's): fds 3, 4 (listen), 5 (wm), 6 (wayland).
	var files []*os.File
	for _, fd := range s.disp.fds {
		dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			closeFiles(files)
			unix.Close(wl[0])
			unix.Close(wl[1])
			unix.Close(wm[0])
			unix.Close(wm[1])
			return fmt.Errorf("dup listening socket: %w", err)
		}
		files = append(files, os.NewFile(uintptr(dup), "x11-listen"))
	}
	files = append(files, os.NewFile(uintptr(wm[1]), "xwm"), os.NewFile(uintptr(wl[1]), "wayland"))
	defer closeFiles(files)
	args := []string{s.disp.Name(), "-rootless", "-terminate", "-wm", "5"}
	for i := range s.disp.fds {
		args = append(args, "-listenfd", strconv.Itoa(3+i))
	}
	cmd := exec.Command(s.binary, args...)
	cmd.ExtraFiles = files
	cmd.Env = append(withoutDisplayVars(os.Environ()), "WAYLAND_SOCKET=6")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	// Its own process group: a terminal's Ctrl+C reaches vitrine, which
	// stops it in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}

	// Nonblocking on vitrine's side, as every client socket is.
	if err := unix.SetNonblock(wl[0], true); err != nil {
		unix.Close(wl[0])
		unix.Close(wm[0])
		return err
	}
	client, err := s.cfg.Connect(wl[0])
	if err != nil {
		unix.Close(wm[0])
		return fmt.Errorf("serve Xwayland's wayland connection: %w", err)
	}
	wmFile := os.NewFile(uintptr(wm[0]), "xwm")
	wmConn, err := net.FileConn(wmFile)
	wmFile.Close()
	if err != nil {
		client.Close()
		return fmt.Errorf("window manager connection: %w", err)
	}
	if err := cmd.Start(); err != nil {
		client.Close()
		wmConn.Close()
		return fmt.Errorf("%s: %w", s.binary, err)
	}
	// The socketpair's peer credentials name vitrine; the logs and the
	// privileged-client check should see Xwayland.
	client.SetProcess(cmd.Process.Pid)
	s.proc = cmd.Process
	s.starts++
	started := time.Now()
	s.cfg.Log.Info("Xwayland started", "pid", cmd.Process.Pid, "DISPLAY", s.disp.Name(), "start", s.starts)
	go func() {
		err := cmd.Wait()
		s.cfg.Loop.Post(func() { s.exited(cmd, err, time.Since(started)) })
	}()
	if s.cfg.Started != nil {
		s.cfg.Started(client, wmConn)
	} else {
		wmConn.Close()
	}
	return nil
}

func (s *Server) exited(cmd *exec.Cmd, err error, ran time.Duration) {
	s.proc = nil
	st := "exited"
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		st = ee.ProcessState.String()
	}
	s.cfg.Log.Info("Xwayland stopped; the next X client starts a new one", "pid", cmd.Process.Pid, "status", st, "ran", ran.Round(time.Millisecond))
	if s.closed {
		return
	}
	idle := s.idleStop
	s.idleStop = false
	if err != nil && ran < time.Second && !idle {
		// It failed at once: do not restart it in a tight loop for a
		// client that keeps waiting.
		s.rearm.SetAfter(time.Second)
		return
	}
	s.watch()
}

// StopIdle ends the running Xwayland because it has no X clients left
// (the window manager says so); the next connection starts a new one.
func (s *Server) StopIdle() {
	if s.proc != nil {
		s.idleStop = true
		s.proc.Signal(syscall.SIGTERM)
	}
}

// Close stops Xwayland and gives up the display.
func (s *Server) Close() {
	s.closed = true
	s.rearm.Stop()
	s.unwatch()
	if s.proc != nil {
		pid := s.proc.Pid
		syscall.Kill(-pid, syscall.SIGTERM)
		for i := 0; i < 100 && syscall.Kill(pid, 0) == nil; i++ {
			time.Sleep(20 * time.Millisecond)
		}
		syscall.Kill(-pid, syscall.SIGKILL)
	}
	s.disp.close()
}

func closeFiles(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}

// withoutDisplayVars drops what would point Xwayland at another server.
func withoutDisplayVars(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if len(kv) >= 8 && kv[:8] == "DISPLAY=" || len(kv) >= 15 && kv[:15] == "WAYLAND_SOCKET=" || len(kv) >= 16 && kv[:16] == "WAYLAND_DISPLAY=" {
			continue
		}
		out = append(out, kv)
	}
	return out
}
