// Package nested is the wayland backend: vitrine as a client of another
// Wayland compositor (the parent), each output one xdg_toplevel there.
// Frames are composited by the scene into a system-memory shadow as on
// every backend, then the damaged rectangles are copied into a wl_shm
// buffer that is attached to the window; the parent's frame callback is
// the output's vblank. Pointer and keyboard events the parent sends to
// the windows become vitrine's input events.
//
// The client side of the protocol is github.com/neurlang/wayland. Its
// connection is a source on vitrine's event loop: when the socket is
// readable the loop dispatches the events that have arrived whole, so
// nothing blocks and no goroutine reads the socket.
package nested

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/neurlang/wayland/wl"
	"github.com/neurlang/wayland/xdg"
	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/protocol/eventloop"
	"github.com/vitrine-wm/vitrine/scene/present"
	"github.com/vitrine-wm/vitrine/seat/inputevent"
)

// Config is what the backend is built with.
type Config struct {
	Log  *slog.Logger
	Loop *eventloop.Loop
	// Display is the parent's socket: a name in XDG_RUNTIME_DIR or an
	// absolute path; "" means $WAYLAND_DISPLAY.
	Display string
	// Outputs is how many windows (outputs) to open; 0 means one.
	Outputs int
	// Width and Height are the windows' size until the parent picks one.
	Width, Height int
	// RefreshMilliHz is the refresh rate clients are told (the parent's
	// frame callbacks pace the frames whatever it says); 0: 60 Hz.
	RefreshMilliHz int

	// PresentDone is called on the loop when an output's frame was
	// shown (the parent's frame callback came).
	PresentDone func(*Output, present.Info)
	// Resized is called on the loop when the parent resized a window.
	Resized func(*Output)
	// Input receives the pointer and keyboard events of the windows.
	Input func(inputevent.Event)
	// Closed is called once when the backend cannot go on: err nil when
	// the user closed a window, else why the parent connection ended.
	Closed func(err error)
}

// Backend is the connection to the parent compositor.
type Backend struct {
	cfg     Config
	log     *slog.Logger
	display *wl.Display
	ctx     *wl.Context
	conn    *net.UnixConn
	fd      int
	src     *eventloop.Source
	name    string // the parent's socket, for messages

	registry   *wl.Registry
	globals    map[string]global
	compositor *wl.Compositor
	shm        *wl.Shm
	wmBase     *xdg.WmBase
	seat       *wl.Seat

	outputs []*Output
	input   inputForwarder

	protoErr error
	closed   bool
}

type global struct{ name, version uint32 }

// Connect opens the parent's socket, binds what the backend needs and
// opens the windows, each shown black at its first configured size.
// Setup waits for the parent (round trips); afterwards everything
// happens on cfg.Loop.
func Connect(cfg Config) (*Backend, error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Outputs <= 0 {
		cfg.Outputs = 1
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		cfg.Width, cfg.Height = 1280, 720
	}
	if cfg.RefreshMilliHz <= 0 {
		cfg.RefreshMilliHz = 60000
	}
	path, err := SocketPath(cfg.Display, os.Getenv)
	if err != nil {
		return nil, err
	}
	b := &Backend{cfg: cfg, log: cfg.Log, name: path, globals: map[string]global{}}
	b.input.b = b
	// The library always prefixes XDG_RUNTIME_DIR; a path relative to it
	// reaches a socket anywhere.
	rel, err := filepath.Rel(os.Getenv("XDG_RUNTIME_DIR"), path)
	if err != nil {
		return nil, fmt.Errorf("wayland backend: parent socket %s: %w", path, err)
	}
	b.display, err = wl.Connect(rel)
	if err != nil {
		return nil, fmt.Errorf("wayland backend: connect to the parent compositor at %s: %w (is it running? WAYLAND_DISPLAY names its socket)", path, err)
	}
	b.ctx = b.display.Context()
	if b.conn, err = connOf(b.ctx); err != nil {
		b.ctx.Close()
		return nil, err
	}
	if err := b.setup(); err != nil {
		b.ctx.Close()
		return nil, fmt.Errorf("wayland backend (parent %s): %w", path, err)
	}
	raw, err := b.conn.SyscallConn()
	if err == nil {
		err = raw.Control(func(fd uintptr) { b.fd = int(fd) })
	}
	if err == nil {
		b.src, err = cfg.Loop.AddFD(b.fd, eventloop.Readable, b.readable)
	}
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("wayland backend: watch the parent connection: %w", err)
	}
	b.log.Info("wayland backend connected", "parent", path, "outputs", len(b.outputs))
	return b, nil
}

// SocketPath resolves a display name the way libwayland does: an
// absolute name is used as it is, others live in XDG_RUNTIME_DIR; ""
// means $WAYLAND_DISPLAY. The socket must exist.
func SocketPath(name string, getenv func(string) string) (string, error) {
	if name == "" {
		name = getenv("WAYLAND_DISPLAY")
	}
	if name == "" {
		return "", errors.New("wayland backend: WAYLAND_DISPLAY is not set; run vitrine inside a Wayland session or set WAYLAND_DISPLAY to the parent compositor's socket")
	}
	dir := getenv("XDG_RUNTIME_DIR")
	if dir == "" {
		return "", fmt.Errorf("wayland backend: XDG_RUNTIME_DIR is not set, so WAYLAND_DISPLAY=%s cannot be found (the client library needs it even for absolute paths)", name)
	}
	path := name
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, name)
	}
	if st, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("wayland backend: parent compositor socket %s: %w", path, err)
	} else if st.Mode()&os.ModeSocket == 0 {
		return "", fmt.Errorf("wayland backend: %s is not a socket", path)
	}
	return path, nil
}

// connOf reaches the socket inside the library's connection state.
// v0.4.3 keeps it in an unexported field and offers no accessor, yet the
// loop needs the fd to watch. go.mod pins the version and
// TestConnOfFindsTheSocket fails if the field goes away; without it
// the events would have to come from a goroutine blocked in the
// library's read, handed to the loop with Post, and every handler would
// then race with the loop over the library's objects.
func connOf(ctx *wl.Context) (*net.UnixConn, error) {
	f := reflect.ValueOf(ctx).Elem().FieldByName("conn")
	if !f.IsValid() || f.Type() != reflect.TypeFor[*net.UnixConn]() {
		return nil, errors.New("wayland backend: github.com/neurlang/wayland's wl.Context has no conn *net.UnixConn field; vitrine's wayland backend is built for v0.4.3 of that module")
	}
	c := *(**net.UnixConn)(unsafe.Pointer(f.UnsafeAddr()))
	if c == nil {
		return nil, errors.New("wayland backend: the parent connection is closed")
	}
	return c, nil
}

func (b *Backend) setup() error {
	b.display.AddErrorHandler(b)
	var err error
	if b.registry, err = b.display.GetRegistry(); err != nil {
		return fmt.Errorf("get registry: %w", err)
	}
	b.registry.AddGlobalHandler(b)
	if err := b.roundtrip(); err != nil {
		return fmt.Errorf("list globals: %w", err)
	}
	b.compositor = wl.NewCompositor(b.ctx)
	if err := b.bind("wl_compositor", 4, 4, b.compositor); err != nil {
		return err
	}
	b.shm = wl.NewShm(b.ctx)
	if err := b.bind("wl_shm", 1, 1, b.shm); err != nil {
		return err
	}
	b.wmBase = xdg.NewWmBase(b.ctx)
	if err := b.bind("xdg_wm_base", 1, 2, b.wmBase); err != nil {
		return err
	}
	b.wmBase.AddPingHandler(b)
	if _, ok := b.globals["wl_seat"]; ok {
		b.seat = wl.NewSeat(b.ctx)
		if err := b.bind("wl_seat", 1, 5, b.seat); err != nil {
			return err
		}
		b.seat.AddCapabilitiesHandler(&b.input)
	}
	for i := range b.cfg.Outputs {
		o, err := b.newOutput(fmt.Sprintf("WL-%d", i+1))
		if err != nil {
			return err
		}
		b.outputs = append(b.outputs, o)
	}
	// The first configures and the seat's capabilities. weston sends a
	// configure from an idle callback, after the sync is answered, so
	// one round trip is not always enough.
	deadline := time.Now().Add(configureTimeout)
	for {
		if err := b.roundtrip(); err != nil {
			return err
		}
		waiting := slices.IndexFunc(b.outputs, func(o *Output) bool { return !o.configured })
		if waiting < 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the parent compositor did not configure window %s within %v", b.outputs[waiting].name, configureTimeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
	for _, o := range b.outputs {
		if err := o.showBlack(); err != nil {
			return err
		}
	}
	return nil
}

// configureTimeout bounds the wait for the windows' first configure.
const configureTimeout = 5 * time.Second

func (b *Backend) bind(iface string, minVersion, maxVersion uint32, p wl.Proxy) error {
	g, ok := b.globals[iface]
	if !ok {
		return fmt.Errorf("the parent compositor offers no %s", iface)
	}
	if g.version < minVersion {
		return fmt.Errorf("the parent compositor offers %s version %d, vitrine needs %d", iface, g.version, minVersion)
	}
	v := min(g.version, maxVersion)
	if err := b.registry.Bind(g.name, iface, v, p); err != nil {
		return fmt.Errorf("bind %s: %w", iface, err)
	}
	if iface == "wl_seat" {
		b.input.seatVersion = v
	}
	return nil
}

// roundtrip waits for the parent to handle every request so far; only
// during setup, before the loop owns the connection.
func (b *Backend) roundtrip() error {
	cb, err := b.display.Sync()
	if err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	defer cb.Unregister()
	for {
		err := b.ctx.RunTill(cb)
		if b.protoErr != nil {
			return b.protoErr
		}
		if err == nil || !errors.Is(err, wl.ErrContextRunProxyNil) {
			return err
		}
	}
}

// readable dispatches every event that has arrived whole. The library
// reads a header and then its payload with two reads and takes a short
// payload for a broken stream, so a message is only handed to it once
// all its bytes are queued; the rest of a message the parent wrote in
// two parts wakes the loop again.
func (b *Backend) readable(ev eventloop.Events) {
	for !b.closed {
		var hdr [8]byte
		n, _, err := unix.Recvfrom(b.fd, hdr[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			return
		}
		if err != nil || n == 0 {
			b.fail(fmt.Errorf("the parent compositor closed the connection (%s)", b.name))
			return
		}
		if n < len(hdr) {
			return
		}
		size := int(uint16(hdr[6]) | uint16(hdr[7])<<8)
		if size < 8 {
			b.fail(fmt.Errorf("the parent compositor sent a message of %d bytes", size))
			return
		}
		queued, err := unix.IoctlGetInt(b.fd, unix.SIOCINQ)
		if err != nil || queued < size {
			return
		}
		if err := b.ctx.Run(); err != nil && !errors.Is(err, wl.ErrContextRunProxyNil) {
			b.fail(fmt.Errorf("parent connection: %w", err))
			return
		}
		if b.protoErr != nil {
			b.fail(b.protoErr)
			return
		}
	}
}

// fail ends the backend once, telling the compositor why.
func (b *Backend) fail(err error) {
	if b.closed {
		return
	}
	b.Close()
	if b.cfg.Closed != nil {
		b.cfg.Closed(err)
	}
}

// Outputs are the windows, one output each.
func (b *Backend) Outputs() []*Output { return b.outputs }

// Close closes the windows and the connection.
func (b *Backend) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	if b.src != nil {
		b.src.Remove()
	}
	for _, o := range b.outputs {
		o.release()
	}
	return b.ctx.Close()
}

// HandleRegistryGlobal records an announced global.
func (b *Backend) HandleRegistryGlobal(ev wl.RegistryGlobalEvent) {
	if _, ok := b.globals[ev.Interface]; !ok {
		b.globals[ev.Interface] = global{ev.Name, ev.Version}
	}
}

// HandleDisplayError records the parent's protocol error: it closes
// the connection right after, and its message says what went wrong.
func (b *Backend) HandleDisplayError(ev wl.DisplayErrorEvent) {
	var id wl.ProxyId
	if ev.ObjectId != nil {
		id = ev.ObjectId.Id()
	}
	b.protoErr = fmt.Errorf("protocol error from the parent compositor: object %d (%T) code %d: %s", id, ev.ObjectId, ev.Code, ev.Message)
}

// HandleWmBasePing answers the parent's liveness check.
func (b *Backend) HandleWmBasePing(ev xdg.WmBasePingEvent) {
	if err := b.wmBase.Pong(ev.Serial); err != nil {
		b.log.Warn("wayland backend: pong", "err", err)
	}
}

func (b *Backend) outputFor(s *wl.Surface) *Output {
	for _, o := range b.outputs {
		if o.surface == s {
			return o
		}
	}
	return nil
}

// now is the time stamp of events and frames: the parent's own
// millisecond stamps have no defined clock.
func now() time.Duration { return eventloop.Now() }

// isMemfd reports whether fd is an anonymous memory file, as keymaps
// are. The library keeps a received fd in a buffer it reuses, so the
// number it hands over is checked before vitrine closes it.
func isMemfd(fd int) bool {
	target, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd))
	return err == nil && strings.HasPrefix(target, "/memfd:")
}
