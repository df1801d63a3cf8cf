package protocol

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"

	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/protocol/eventloop"
)

// DefaultMaxQueue bounds the bytes waiting for a client that does not
// read its socket; past it the client is disconnected so its backlog
// cannot grow without limit or stall anyone else.
const DefaultMaxQueue = 1 << 20

// DefaultMaxObjects bounds a client's live objects. Real clients stay
// in the low thousands (a browser with many windows); past the limit
// every object costs the compositor memory for nothing.
const DefaultMaxObjects = 65536

// DefaultMaxFDs bounds the file descriptors the compositor holds for a
// client: received and not yet used, plus kept for its pools and
// dma-bufs. A video player with a few dozen multi-plane buffers needs
// under a hundred; the compositor's own fd limit is shared by everyone.
const DefaultMaxFDs = 512

// Server accepts Wayland clients and routes their requests. Its
// listening socket and every client socket are fds on the compositor's
// event loop, so protocol handlers run on the loop's thread and never
// race with the rest of the compositor. The loop's owner calls Flush
// once per iteration, after everything that may send events.
type Server struct {
	log     *slog.Logger
	loop    *eventloop.Loop
	clients []*Client
	dirty   []*Client
	gone    int // clients disconnected so far, for Flush
	globals []*Global
	// removedNames remembers withdrawn globals so late binds are legal.
	removedNames []uint32
	registries   []*registry
	nextName     uint32
	serial       uint32
	maxQueue     int
	maxObjects   int
	maxFDs       int
	tracing      bool

	listenFD  int
	reserveFD int // spent to refuse a client when out of fds
	// dir is the socket's directory and dirFull whether it was last
	// seen (nearly) full: see checkDirSpace.
	dir       string
	dirFull   bool
	listenSrc *eventloop.Source
	lockFile  *os.File
	path      string
	socket    string

	// OnClientGone, if set, runs after a client's objects are destroyed.
	OnClientGone func(c *Client)
}

// Options configures a Server.
type Options struct {
	Log *slog.Logger
	// Loop is the event loop the server's sockets live on; NewServer
	// makes one if it is nil.
	Loop *eventloop.Loop
	// MaxQueue is the per-client output cap in bytes (DefaultMaxQueue if 0).
	MaxQueue int
	// MaxObjects is the per-client object cap (DefaultMaxObjects if 0).
	MaxObjects int
	// MaxFDs is the per-client cap on fds held (DefaultMaxFDs if 0).
	MaxFDs int
	// Trace logs every request at debug level.
	Trace bool
}

// NewServer makes a server with no socket yet.
func NewServer(opts Options) (*Server, error) {
	s := &Server{
		log:        opts.Log,
		loop:       opts.Loop,
		maxQueue:   opts.MaxQueue,
		maxObjects: opts.MaxObjects,
		maxFDs:     opts.MaxFDs,
		tracing:    opts.Trace,
		nextName:   1,
		listenFD:   -1,
	}
	s.reserveFD, _ = unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.maxQueue <= 0 {
		s.maxQueue = DefaultMaxQueue
	}
	if s.maxObjects <= 0 {
		s.maxObjects = DefaultMaxObjects
	}
	if s.maxFDs <= 0 {
		s.maxFDs = DefaultMaxFDs
	}
	if s.loop == nil {
		l, err := eventloop.New()
		if err != nil {
			return nil, err
		}
		s.loop = l
	}
	return s, nil
}

// Loop is the event loop the server runs on.
func (s *Server) Loop() *eventloop.Loop { return s.loop }

// Flush writes every client's queued events. The loop's owner calls it
// at the end of each iteration, so all events of one iteration leave in
// one write per client.
//
// A write that fails disconnects its client then and there, and that
// client's destruction can queue events for others (keyboard focus
// passing to the next window, a configure): those clients join s.dirty
// while it is walked, so the walk goes to its current end. Flush
// reports whether a client was disconnected meanwhile: the windows it
// took away leave damage that the caller must repaint, because nothing
// else may wake the loop for it.
func (s *Server) Flush() (disconnected bool) {
	gone := s.gone
	for i := 0; i < len(s.dirty); i++ {
		if c := s.dirty[i]; c.dirty {
			c.flush()
		}
		s.dirty[i] = nil
	}
	s.dirty = s.dirty[:0]
	return s.gone != gone
}

// NextSerial returns a new display serial (wl_display_next_serial).
func (s *Server) NextSerial() uint32 {
	s.serial++
	return s.serial
}

// Serial is the newest serial NextSerial handed out, for requests that
// must carry a serial the compositor already sent.
func (s *Server) Serial() uint32 { return s.serial }

// Clients returns the connected clients.
func (s *Server) Clients() []*Client { return s.clients }

func (s *Server) addClient(fd int) {
	if _, err := s.AddClientFD(fd); err != nil {
		s.log.Error("new client", "err", err)
	}
}

// AddClientFD serves a client on a connected socket the compositor made
// itself (one end of a socketpair whose other end a child gets as
// WAYLAND_SOCKET, as Xwayland does). The socket becomes the server's: it
// is closed when the client goes, or here on error.
func (s *Server) AddClientFD(fd int) (*Client, error) {
	c, err := newClient(s, fd)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	s.clients = append(s.clients, c)
	s.log.Debug("client connected", "pid", c.PID)
	s.checkDirSpace()
	return c, nil
}

func (s *Server) removeClient(c *Client) {
	if i := slices.Index(s.clients, c); i >= 0 {
		s.clients = slices.Delete(s.clients, i, i+1)
		s.gone++
		if s.OnClientGone != nil {
			s.OnClientGone(c)
		}
	}
}

func (s *Server) trace(c *Client, b *Resource, m *Message) {
	if s.tracing {
		s.log.Debug("request", "pid", c.PID, "object", fmt.Sprintf("%s#%d", b.iface.Name, b.id), "request", m.Name, "event", "request")
	}
}

// Listen creates the socket $XDG_RUNTIME_DIR/name (or the first free
// wayland-N when name is empty), guarded by name.lock as libwayland
// does, and starts accepting clients.
func (s *Server) Listen(name string) error {
	dir := os.Getenv("XDG_RUNTIME_DIR")
	if dir == "" && !filepath.IsAbs(name) {
		return errors.New("XDG_RUNTIME_DIR is not set: log in through a session manager, or export XDG_RUNTIME_DIR=/run/user/$(id -u) (any private 0700 directory works)")
	}
	if name != "" {
		return s.listenAt(dir, name)
	}
	var lastErr error
	for i := 1; i <= 32; i++ {
		err := s.listenAt(dir, fmt.Sprintf("wayland-%d", i))
		if err == nil {
			return nil
		}
		lastErr = err
	}
	return fmt.Errorf("no free wayland-N socket in %s: %w", dir, lastErr)
}

func (s *Server) listenAt(dir, name string) error {
	path := name
	if !filepath.IsAbs(name) {
		path = filepath.Join(dir, name)
	}
	if len(path) >= 108 {
		return fmt.Errorf("socket path %s is too long for a unix socket", path)
	}
	lock, err := openLock(path + ".lock")
	if err != nil {
		return err
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		lock.Close()
		return fmt.Errorf("socket %s is in use by another compositor (lock %s.lock held)", path, path)
	}
	// The lock is ours, so a socket left there belongs to a compositor
	// that died. Anything else in its place is not ours to delete.
	if err := removeStaleSocket(path); err != nil {
		lock.Close()
		return err
	}
	fd, err := listenUnix(path)
	if err != nil {
		lock.Close()
		return fmt.Errorf("listen on %s: %w", path, err)
	}
	src, err := s.loop.AddFD(fd, eventloop.Readable, s.acceptReady)
	if err != nil {
		unix.Close(fd)
		os.Remove(path)
		lock.Close()
		return err
	}
	s.listenFD, s.listenSrc, s.lockFile, s.path, s.socket = fd, src, lock, path, name
	s.dir = filepath.Dir(path)
	s.checkDirSpace()
	return nil
}

// minDirFree is the free space below which the socket's directory counts
// as full: less than one window's shm buffer.
const minDirFree = 1 << 20

// checkDirSpace logs once when the socket's directory (XDG_RUNTIME_DIR)
// fills up and once when it has room again. vitrine itself needs no
// space there after the socket exists, but clients that keep their
// buffers or files in XDG_RUNTIME_DIR then fail in ways that do not say
// why, so the compositor's log does. Checked when a client connects: no
// timer, one statfs per connection.
func (s *Server) checkDirSpace() {
	if s.dir == "" {
		return
	}
	var st unix.Statfs_t
	if err := unix.Statfs(s.dir, &st); err != nil {
		return
	}
	free := st.Bavail * uint64(st.Bsize)
	full := free < minDirFree || (st.Files > 0 && st.Ffree == 0)
	switch {
	case full && !s.dirFull:
		s.log.Warn("the socket's directory is full: clients that keep buffers or files in XDG_RUNTIME_DIR may fail to start or draw; free space there", "dir", s.dir, "free_bytes", free, "free_inodes", st.Ffree, "event", "runtime_dir.full")
	case !full && s.dirFull:
		s.log.Info("the socket's directory has space again", "dir", s.dir, "free_bytes", free, "event", "runtime_dir.space")
	}
	s.dirFull = full
}

// openLock opens (creating if needed) the lock file beside a socket.
// O_NOFOLLOW: a symlink planted there must not make vitrine create or
// lock a file elsewhere; the checks after open refuse a file that is
// not a regular file of this user (a hard link to someone else's).
func openLock(path string) (*os.File, error) {
	fd, err := unix.Open(path, unix.O_CREAT|unix.O_RDWR|unix.O_CLOEXEC|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0o600)
	if errors.Is(err, unix.ELOOP) {
		return nil, fmt.Errorf("lock file %s is a symlink: refusing to follow it (remove it, and check who can write to its directory)", path)
	}
	if errors.Is(err, unix.ENOSPC) {
		return nil, fmt.Errorf("create lock file %s: %w: its directory is full; free space there or set XDG_RUNTIME_DIR to another private directory", path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open lock file %s: %w", path, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("lock file %s: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Uid != uint32(os.Geteuid()) {
		unix.Close(fd)
		return nil, fmt.Errorf("lock file %s is not a regular file of uid %d (owner %d, mode %o): remove it", path, os.Geteuid(), st.Uid, st.Mode)
	}
	return os.NewFile(uintptr(fd), path), nil
}

// removeStaleSocket deletes a socket a dead compositor left at path,
// refusing anything else (a symlink, a file) found there.
func removeStaleSocket(path string) error {
	var st unix.Stat_t
	err := unix.Lstat(path, &st)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("socket path %s: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		what := "not a socket"
		if st.Mode&unix.S_IFMT == unix.S_IFLNK {
			what = "a symlink"
		}
		return fmt.Errorf("socket path %s is %s: refusing to replace it (remove it, and check who can write to its directory)", path, what)
	}
	if err := unix.Unlink(path); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("remove stale socket %s: %w", path, err)
	}
	return nil
}

// listenUnix binds a new socket at path. bind creates the file itself
// and fails if anything exists there, so no one can swap in a file
// between the check for a stale socket and the bind.
func listenUnix(path string) (int, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		unix.Close(fd)
		return -1, err
	}
	if err := unix.Listen(fd, 128); err != nil {
		unix.Close(fd)
		os.Remove(path)
		return -1, err
	}
	return fd, nil
}

// SocketName is the name to put in WAYLAND_DISPLAY.
func (s *Server) SocketName() string { return s.socket }

// acceptReady takes every pending connection.
func (s *Server) acceptReady(eventloop.Events) {
	for {
		fd, _, err := unix.Accept4(s.listenFD, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		switch {
		case err == nil:
			s.addClient(fd)
			continue
		case errors.Is(err, unix.EINTR), errors.Is(err, unix.ECONNABORTED):
			continue
		case errors.Is(err, unix.EAGAIN):
		case errors.Is(err, unix.EMFILE), errors.Is(err, unix.ENFILE):
			// Left in the backlog, the connection would keep the socket
			// readable and the loop spinning: refuse it with the fd kept
			// in reserve for this, as libwayland does.
			s.log.Error("refusing a client: out of file descriptors", "err", err)
			s.refuseOne()
		default:
			s.log.Error("accept failed", "err", err)
		}
		return
	}
}

// refuseOne accepts and closes one connection using the reserve fd.
func (s *Server) refuseOne() {
	if s.reserveFD < 0 {
		return
	}
	unix.Close(s.reserveFD)
	if fd, _, err := unix.Accept4(s.listenFD, unix.SOCK_CLOEXEC); err == nil {
		unix.Close(fd)
	}
	s.reserveFD, _ = unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
}

// Close stops listening, removes the socket and lock, and disconnects
// every client.
func (s *Server) Close() {
	if s.listenFD >= 0 {
		s.listenSrc.Remove()
		unix.Close(s.listenFD)
		s.listenFD = -1
		os.Remove(s.path)
		os.Remove(s.lockFile.Name())
		s.lockFile.Close()
	}
	if s.reserveFD >= 0 {
		unix.Close(s.reserveFD)
		s.reserveFD = -1
	}
	for _, c := range slices.Clone(s.clients) {
		c.Close()
	}
}
