// Package window is the Wayland plumbing shared by the example clients: the
// connection and its globals, one xdg_toplevel, buffer bookkeeping and the
// frame-callback driven draw loop.
package window

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/neurlang/wayland/wl"
	"github.com/neurlang/wayland/xdg"
)

// Global is one entry of the compositor's registry.
type Global struct {
	Name      uint32
	Interface string
	Version   uint32
}

// Conn is a connection to a compositor with the globals every example
// client needs already bound.
type Conn struct {
	Display    *wl.Display
	Registry   *wl.Registry
	Compositor *wl.Compositor
	WmBase     *xdg.WmBase
	Shm        *wl.Shm
	Globals    []Global

	// CompositorVersion decides between damage_buffer (v4) and damage.
	CompositorVersion uint32

	ctx      *wl.Context
	log      *slog.Logger
	protoErr error
}

// socketPath resolves a display name the way libwayland does: absolute
// names are used as they are, others live in XDG_RUNTIME_DIR.
func socketPath(name string) (string, error) {
	if name == "" {
		name = os.Getenv("WAYLAND_DISPLAY")
	}
	if name == "" {
		name = "wayland-0"
	}
	if filepath.IsAbs(name) {
		return name, nil
	}
	dir := os.Getenv("XDG_RUNTIME_DIR")
	if dir == "" {
		return "", fmt.Errorf("display %q: XDG_RUNTIME_DIR is not set", name)
	}
	return filepath.Join(dir, name), nil
}

// Connect opens the display named name ("" means $WAYLAND_DISPLAY, then
// wayland-0) and binds wl_compositor, xdg_wm_base and wl_shm.
func Connect(name string, log *slog.Logger) (*Conn, error) {
	path, err := socketPath(name)
	if err != nil {
		return nil, fmt.Errorf("connect to wayland display: %w (is WAYLAND_DISPLAY set?)", err)
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("connect to wayland display %s: %w (is WAYLAND_DISPLAY set?)", path, err)
	}
	// wl.Connect always prefixes XDG_RUNTIME_DIR; a path relative to it
	// reaches any absolute socket, including ones outside it.
	runtimeDir := os.Getenv("XDG_RUNTIME_DIR")
	addr := path
	if runtimeDir == "" {
		return nil, fmt.Errorf("connect to wayland display %s: XDG_RUNTIME_DIR is not set (the wayland library needs it even for absolute socket paths)", path)
	}
	if rel, err := filepath.Rel(runtimeDir, path); err == nil {
		addr = rel
	}
	display, err := wl.Connect(addr)
	if err != nil {
		return nil, fmt.Errorf("connect to wayland display %s: %w (is WAYLAND_DISPLAY set?)", path, err)
	}
	c := &Conn{Display: display, ctx: display.Context(), log: log}
	display.AddErrorHandler(c)

	c.Registry, err = display.GetRegistry()
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("get registry: %w", err)
	}
	c.Registry.AddGlobalHandler(c)
	if err := c.Roundtrip(); err != nil {
		c.Close()
		return nil, fmt.Errorf("list globals: %w", err)
	}

	c.Compositor = wl.NewCompositor(c.ctx)
	if c.CompositorVersion, err = c.Bind("wl_compositor", 1, 4, c.Compositor); err != nil {
		c.Close()
		return nil, err
	}
	c.WmBase = xdg.NewWmBase(c.ctx)
	if _, err = c.Bind("xdg_wm_base", 1, 6, c.WmBase); err != nil {
		c.Close()
		return nil, err
	}
	c.WmBase.AddPingHandler(c)
	c.Shm = wl.NewShm(c.ctx)
	if _, err = c.Bind("wl_shm", 1, 1, c.Shm); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Context is the library's connection state, needed to create objects.
func (c *Conn) Context() *wl.Context { return c.ctx }

// Find returns the first global with the given interface.
func (c *Conn) Find(iface string) (Global, bool) {
	for _, g := range c.Globals {
		if g.Interface == iface {
			return g, true
		}
	}
	return Global{}, false
}

// Bind binds the first global of interface iface to p at the highest
// version both sides know (at most maxVersion), and fails if the compositor
// offers less than minVersion.
func (c *Conn) Bind(iface string, minVersion, maxVersion uint32, p wl.Proxy) (uint32, error) {
	g, ok := c.Find(iface)
	if !ok {
		return 0, fmt.Errorf("compositor does not offer %s", iface)
	}
	if g.Version < minVersion {
		return 0, fmt.Errorf("compositor offers %s version %d, need %d", iface, g.Version, minVersion)
	}
	v := min(g.Version, maxVersion)
	if err := c.Registry.Bind(g.Name, iface, v, p); err != nil {
		return 0, fmt.Errorf("bind %s version %d: %w", iface, v, err)
	}
	c.log.Debug("bound global", "interface", iface, "version", v)
	return v, nil
}

// Roundtrip waits until the compositor has handled every request sent so
// far. Only for use before Run, which owns event dispatching afterwards.
func (c *Conn) Roundtrip() error {
	cb, err := c.Display.Sync()
	if err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	defer cb.Unregister()
	for {
		err := c.ctx.RunTill(cb)
		if err == nil {
			return nil
		}
		if err = c.eventError(err); err != nil {
			return err
		}
	}
}

// Dispatch reads and handles one event.
func (c *Conn) Dispatch() error {
	err := c.ctx.Run()
	if err == nil {
		return nil
	}
	return c.eventError(err)
}

// eventError turns a library error into the error to report, or nil when
// the event can be skipped.
func (c *Conn) eventError(err error) error {
	if c.protoErr != nil {
		// The compositor closes the connection right after a protocol
		// error; its message says far more than the read error.
		return c.protoErr
	}
	if errors.Is(err, wl.ErrContextRunProxyNil) {
		// An event for an object this side already destroyed (e.g. a
		// release racing a destroy): harmless.
		c.log.Debug("event for unknown object dropped")
		return nil
	}
	return fmt.Errorf("wayland connection: %w", err)
}

// Close closes the connection.
func (c *Conn) Close() {
	if err := c.ctx.Close(); err != nil {
		c.log.Debug("close wayland connection", "err", err)
	}
}

// HandleRegistryGlobal records an announced global.
func (c *Conn) HandleRegistryGlobal(ev wl.RegistryGlobalEvent) {
	c.Globals = append(c.Globals, Global{Name: ev.Name, Interface: ev.Interface, Version: ev.Version})
}

// HandleDisplayError records a fatal protocol error.
func (c *Conn) HandleDisplayError(ev wl.DisplayErrorEvent) {
	var id wl.ProxyId
	if ev.ObjectId != nil {
		id = ev.ObjectId.Id()
	}
	c.protoErr = fmt.Errorf("protocol error from compositor: object %d (%T) code %d: %s", id, ev.ObjectId, ev.Code, ev.Message)
}

// HandleWmBasePing answers the compositor's liveness check.
func (c *Conn) HandleWmBasePing(ev xdg.WmBasePingEvent) {
	if err := c.WmBase.Pong(ev.Serial); err != nil {
		c.log.Warn("pong", "err", err)
	}
}
