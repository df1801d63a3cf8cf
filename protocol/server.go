package protocol

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// DefaultMaxQueue bounds the bytes waiting for a client that does not
// read its socket; past it the client is disconnected so its backlog
// cannot grow without limit or stall anyone else.
const DefaultMaxQueue = 1 << 20

// Server accepts Wayland clients and routes their requests. It does not
// run a loop of its own: the compositor receives Events from Events()
// and hands each to Handle on its single loop goroutine, so protocol
// handlers never race with the rest of the compositor.
type Server struct {
	log     *slog.Logger
	events  chan Event
	clients []*Client
	dirty   []*Client
	globals []*Global
	// removedNames remembers withdrawn globals so late binds are legal.
	removedNames []uint32
	registries   []*registry
	nextName     uint32
	serial       uint32
	maxQueue     int
	tracing      bool

	listener *net.UnixListener
	lockFile *os.File
	socket   string

	// OnClientGone, if set, runs after a client's objects are destroyed.
	OnClientGone func(c *Client)
}

// Event is a unit of work the connection goroutines hand to the loop;
// pass it to Handle.
type Event struct {
	client *Client
	conn   *net.UnixConn
	data   []byte
	fds    []int
	eof    bool
	err    error
}

// Options configures a Server.
type Options struct {
	Log *slog.Logger
	// MaxQueue is the per-client output cap in bytes (DefaultMaxQueue if 0).
	MaxQueue int
	// Trace logs every request at debug level.
	Trace bool
}

// NewServer makes a server with no socket yet.
func NewServer(opts Options) *Server {
	s := &Server{
		log:      opts.Log,
		events:   make(chan Event, 256),
		maxQueue: opts.MaxQueue,
		tracing:  opts.Trace,
		nextName: 1,
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.maxQueue <= 0 {
		s.maxQueue = DefaultMaxQueue
	}
	return s
}

// Events delivers the work for Handle.
func (s *Server) Events() <-chan Event { return s.events }

func (s *Server) post(e Event) { s.events <- e }

// Handle processes one event on the loop goroutine, then flushes output.
func (s *Server) Handle(e Event) {
	switch {
	case e.conn != nil:
		s.addClient(e.conn)
	case e.client != nil:
		c := e.client
		if c.dead {
			closeAll(e.fds)
			break
		}
		if len(e.data) > 0 || len(e.fds) > 0 {
			c.receive(e.data, e.fds)
		}
		if e.eof {
			c.eof = true
			c.dispatch()
			c.fail(errors.New("client closed the connection"))
		} else if e.err != nil {
			c.fail(e.err)
		}
	case e.err != nil:
		s.log.Error("accept failed", "err", e.err)
	}
	s.Flush()
}

// Flush hands every client's pending events to its writer. Call it after
// sending events outside Handle (frame callbacks on vblank, for example).
func (s *Server) Flush() {
	for _, c := range s.dirty {
		if c.dirty {
			c.flush()
		}
	}
	s.dirty = s.dirty[:0]
}

// NextSerial returns a new display serial (wl_display_next_serial).
func (s *Server) NextSerial() uint32 {
	s.serial++
	return s.serial
}

// Clients returns the connected clients.
func (s *Server) Clients() []*Client { return s.clients }

func (s *Server) addClient(conn *net.UnixConn) {
	c, err := newClient(s, conn)
	if err != nil {
		s.log.Error("new client", "err", err)
		conn.Close()
		return
	}
	s.clients = append(s.clients, c)
	s.log.Debug("client connected", "pid", c.PID)
	go c.readLoop()
	go c.writeLoop()
}

// AddClient serves an already connected socket, for a child process
// started with WAYLAND_SOCKET.
func (s *Server) AddClient(conn *net.UnixConn) { s.addClient(conn) }

func (s *Server) removeClient(c *Client) {
	if i := slices.Index(s.clients, c); i >= 0 {
		s.clients = slices.Delete(s.clients, i, i+1)
		if s.OnClientGone != nil {
			s.OnClientGone(c)
		}
	}
}

func (s *Server) trace(c *Client, b *Resource, m *Message) {
	if s.tracing {
		s.log.Debug("request", "pid", c.PID, "object", fmt.Sprintf("%s#%d", b.iface.Name, b.id), "request", m.Name)
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
	lock, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR|unix.O_CLOEXEC, 0o660)
	if err != nil {
		return fmt.Errorf("open lock file: %w", err)
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		lock.Close()
		return fmt.Errorf("socket %s is in use by another compositor (lock %s.lock held)", path, path)
	}
	// The lock is ours, so a socket file left there is stale.
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		lock.Close()
		return fmt.Errorf("remove stale socket: %w", err)
	}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		lock.Close()
		return fmt.Errorf("listen on %s: %w", path, err)
	}
	l.SetUnlinkOnClose(true)
	s.listener, s.lockFile, s.socket = l, lock, name
	go s.acceptLoop(l)
	return nil
}

// SocketName is the name to put in WAYLAND_DISPLAY.
func (s *Server) SocketName() string { return s.socket }

func (s *Server) acceptLoop(l *net.UnixListener) {
	for {
		conn, err := l.AcceptUnix()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			s.post(Event{err: err})
			if strings.Contains(err.Error(), "too many open files") {
				continue
			}
			return
		}
		s.post(Event{conn: conn})
	}
}

// Close stops listening, removes the socket and lock, and disconnects
// every client.
func (s *Server) Close() {
	if s.listener != nil {
		s.listener.Close()
		os.Remove(s.lockFile.Name())
		s.lockFile.Close()
		s.listener = nil
	}
	for _, c := range slices.Clone(s.clients) {
		c.Close()
	}
}
