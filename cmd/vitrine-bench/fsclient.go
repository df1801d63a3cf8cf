package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/neurlang/wayland/wl"
	"github.com/neurlang/wayland/xdg"
	"golang.org/x/sys/unix"
)

// The fullscreen workload's client: an opaque XRGB8888 surface, fullscreen,
// that commits a whole-surface damage every frame callback, cycling
// through pre-painted buffers so the client spends no CPU on pixels (it
// shares two cores with the compositor). With wp_presentation it reports,
// per commit, the commit time and the presentation time in the
// compositor's presentation clock:
//
//	clock id=N
//	presented commit_ns=T latency_ns=L
//	discarded commit_ns=T
const fullscreenClientCommand = "fullscreen-client"

func runFullscreenClient(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(fullscreenClientCommand, flag.ContinueOnError)
	fs.SetOutput(stderr)
	seconds := fs.Float64("seconds", 0, "exit after this many seconds (0: run until killed)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	c := &fullscreenClient{out: stdout, log: log}
	if err := c.connect(); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", fullscreenClientCommand, err)
		return 1
	}
	errc := make(chan error, 1)
	go func() { errc <- c.run() }()
	var timeout <-chan time.Time
	if *seconds > 0 {
		timeout = time.After(time.Duration(*seconds * float64(time.Second)))
	}
	select {
	case err := <-errc:
		fmt.Fprintf(stderr, "%s: %v\n", fullscreenClientCommand, err)
		return 1
	case <-timeout:
		return 0
	}
}

// fbBuffers: three so that one is always free while the compositor holds
// one on screen and one queued.
const fbBuffers = 3

type fullscreenClient struct {
	out io.Writer
	log *slog.Logger

	display    *wl.Display
	registry   *wl.Registry
	compositor *wl.Compositor
	shm        *wl.Shm
	wmBase     *xdg.WmBase
	pres       *wpPresentation
	globals    map[string]wl.RegistryGlobalEvent

	surface  *wl.Surface
	xdgSurf  *xdg.Surface
	toplevel *xdg.Toplevel

	pending    [2]int32 // size from the last toplevel configure
	width      int32
	height     int32
	configured bool
	buffers    []*fsBuffer
	waiting    bool // a frame callback is outstanding
	needFrame  bool // the next frame waits for a buffer release
	protoErr   error
}

type fsBuffer struct {
	wl   *wl.Buffer
	busy bool
	c    *fullscreenClient
}

func (b *fsBuffer) HandleBufferRelease(wl.BufferReleaseEvent) {
	b.busy = false
	if b.c.needFrame {
		b.c.draw()
	}
}

func (c *fullscreenClient) connect() error {
	name := os.Getenv("WAYLAND_DISPLAY")
	if name == "" || os.Getenv("XDG_RUNTIME_DIR") == "" {
		return errors.New("WAYLAND_DISPLAY (a name in XDG_RUNTIME_DIR) and XDG_RUNTIME_DIR must be set")
	}
	d, err := wl.Connect(name)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", name, err)
	}
	c.display = d
	d.AddErrorHandler(c)
	if c.registry, err = d.GetRegistry(); err != nil {
		return fmt.Errorf("get registry: %w", err)
	}
	c.globals = make(map[string]wl.RegistryGlobalEvent)
	c.registry.AddGlobalHandler(c)
	if err := c.roundtrip(); err != nil {
		return fmt.Errorf("list globals: %w", err)
	}
	ctx := d.Context()
	c.compositor = wl.NewCompositor(ctx)
	c.shm = wl.NewShm(ctx)
	c.wmBase = xdg.NewWmBase(ctx)
	for _, b := range []struct {
		iface   string
		version uint32
		proxy   wl.Proxy
	}{{"wl_compositor", 4, c.compositor}, {"wl_shm", 1, c.shm}, {"xdg_wm_base", 1, c.wmBase}} {
		if err := c.bind(b.iface, b.version, b.proxy); err != nil {
			return err
		}
	}
	c.wmBase.AddPingHandler(c)
	if _, ok := c.globals["wp_presentation"]; ok {
		c.pres = &wpPresentation{}
		ctx.Register(c.pres)
		if err := c.bind("wp_presentation", 1, c.pres); err != nil {
			return err
		}
	}
	return c.roundtrip()
}

func (c *fullscreenClient) bind(iface string, version uint32, p wl.Proxy) error {
	g, ok := c.globals[iface]
	if !ok {
		return fmt.Errorf("compositor does not offer %s", iface)
	}
	if g.Version < version {
		return fmt.Errorf("compositor offers %s version %d, need %d", iface, g.Version, version)
	}
	if err := c.registry.Bind(g.Name, iface, version, p); err != nil {
		return fmt.Errorf("bind %s: %w", iface, err)
	}
	return nil
}

func (c *fullscreenClient) roundtrip() error {
	cb, err := c.display.Sync()
	if err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	defer cb.Unregister()
	if err := c.display.Context().RunTill(cb); err != nil {
		return c.wrap(err)
	}
	return c.protoErr
}

func (c *fullscreenClient) wrap(err error) error {
	if c.protoErr != nil {
		return c.protoErr
	}
	return fmt.Errorf("wayland connection: %w", err)
}

func (c *fullscreenClient) HandleRegistryGlobal(ev wl.RegistryGlobalEvent) {
	if _, ok := c.globals[ev.Interface]; !ok {
		c.globals[ev.Interface] = ev
	}
}

func (c *fullscreenClient) HandleDisplayError(ev wl.DisplayErrorEvent) {
	c.protoErr = fmt.Errorf("protocol error from compositor: code %d: %s", ev.Code, ev.Message)
}

func (c *fullscreenClient) HandleWmBasePing(ev xdg.WmBasePingEvent) {
	if err := c.wmBase.Pong(ev.Serial); err != nil {
		c.log.Warn("pong", "err", err)
	}
}

func (c *fullscreenClient) HandleToplevelConfigure(ev xdg.ToplevelConfigureEvent) {
	c.pending = [2]int32{ev.Width, ev.Height}
}

func (c *fullscreenClient) HandleSurfaceConfigure(ev xdg.SurfaceConfigureEvent) {
	if err := c.xdgSurf.AckConfigure(ev.Serial); err != nil {
		c.protoErr = fmt.Errorf("ack configure: %w", err)
		return
	}
	w, h := c.pending[0], c.pending[1]
	if w <= 0 || h <= 0 {
		w, h = 1920, 1080 // the compositor leaves the size to us
	}
	if w != c.width || h != c.height {
		if err := c.allocate(w, h); err != nil {
			c.protoErr = err
			return
		}
	}
	c.configured = true
}

// allocate makes fbBuffers buffers of w×h in one shm pool, each a different
// solid colour, so consecutive frames really differ.
func (c *fullscreenClient) allocate(w, h int32) error {
	for _, b := range c.buffers {
		b.wl.Destroy()
		b.wl.Unregister()
	}
	c.buffers = nil
	stride := w * 4
	size := int(stride) * int(h)
	fd, err := unix.MemfdCreate("vitrine-bench-fullscreen", unix.MFD_CLOEXEC)
	if err != nil {
		return fmt.Errorf("memfd_create: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Ftruncate(fd, int64(size*fbBuffers)); err != nil {
		return fmt.Errorf("size shm pool to %d bytes: %w", size*fbBuffers, err)
	}
	mem, err := unix.Mmap(fd, 0, size*fbBuffers, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("map shm pool: %w", err)
	}
	defer unix.Munmap(mem)
	colours := [fbBuffers]uint32{0xff204080, 0xff804020, 0xff208040}
	for i := range fbBuffers {
		px := mem[i*size : (i+1)*size]
		for j := 0; j < len(px); j += 4 {
			v := colours[i]
			px[j], px[j+1], px[j+2], px[j+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
		}
	}
	pool, err := c.shm.CreatePool(uintptr(fd), int32(size*fbBuffers))
	if err != nil {
		return fmt.Errorf("create shm pool: %w", err)
	}
	for i := range fbBuffers {
		wb, err := pool.CreateBuffer(int32(i*size), w, h, stride, wl.ShmFormatXrgb8888)
		if err != nil {
			return fmt.Errorf("create buffer: %w", err)
		}
		b := &fsBuffer{wl: wb, c: c}
		wb.AddReleaseHandler(b)
		c.buffers = append(c.buffers, b)
	}
	if err := pool.Destroy(); err != nil {
		return fmt.Errorf("destroy shm pool: %w", err)
	}
	pool.Unregister()
	region, err := c.compositor.CreateRegion()
	if err != nil {
		return fmt.Errorf("create region: %w", err)
	}
	region.Add(0, 0, w, h)
	if err := c.surface.SetOpaqueRegion(region); err != nil {
		return fmt.Errorf("set opaque region: %w", err)
	}
	region.Destroy()
	region.Unregister()
	c.width, c.height = w, h
	return nil
}

// run creates the fullscreen toplevel and then dispatches events; all
// drawing happens in event handlers, on this goroutine.
func (c *fullscreenClient) run() error {
	var err error
	if c.surface, err = c.compositor.CreateSurface(); err != nil {
		return fmt.Errorf("create surface: %w", err)
	}
	if c.xdgSurf, err = c.wmBase.GetSurface(c.surface); err != nil {
		return fmt.Errorf("get xdg_surface: %w", err)
	}
	c.xdgSurf.AddConfigureHandler(c)
	if c.toplevel, err = c.xdgSurf.GetToplevel(); err != nil {
		return fmt.Errorf("get toplevel: %w", err)
	}
	c.toplevel.AddConfigureHandler(c)
	c.toplevel.SetAppId("vitrine-bench-fullscreen")
	if err := c.toplevel.SetFullscreen(nil); err != nil {
		return fmt.Errorf("set fullscreen: %w", err)
	}
	if err := c.surface.Commit(); err != nil {
		return fmt.Errorf("initial commit: %w", err)
	}
	if c.pres != nil {
		fmt.Fprintf(c.out, "clock id=%d\n", c.pres.clockID)
	}
	ctx := c.display.Context()
	for {
		if c.configured && !c.waiting && !c.needFrame {
			c.draw()
		}
		if c.protoErr != nil {
			return c.protoErr
		}
		if err := ctx.Run(); err != nil {
			if errors.Is(err, wl.ErrContextRunProxyNil) {
				continue // an event for an object already dropped
			}
			return c.wrap(err)
		}
	}
}

// draw commits the next buffer with full damage, a frame callback and a
// presentation feedback, or waits for a release.
func (c *fullscreenClient) draw() {
	var free *fsBuffer
	for _, b := range c.buffers {
		if !b.busy {
			free = b
			break
		}
	}
	if free == nil {
		c.needFrame = true
		return
	}
	c.needFrame = false
	if err := c.commit(free); err != nil {
		c.protoErr = err
	}
}

func (c *fullscreenClient) commit(b *fsBuffer) error {
	if err := c.surface.Attach(b.wl, 0, 0); err != nil {
		return fmt.Errorf("attach: %w", err)
	}
	if err := c.surface.DamageBuffer(0, 0, c.width, c.height); err != nil {
		return fmt.Errorf("damage: %w", err)
	}
	cb, err := c.surface.Frame()
	if err != nil {
		return fmt.Errorf("frame: %w", err)
	}
	cb.AddDoneHandler(frameDone{c: c, cb: cb})
	if c.pres != nil {
		var committed int64
		fb := &wpFeedback{done: func(presented int64, ok bool) {
			if ok {
				fmt.Fprintf(c.out, "presented commit_ns=%d latency_ns=%d\n", committed, presented-committed)
			} else {
				fmt.Fprintf(c.out, "discarded commit_ns=%d\n", committed)
			}
		}}
		if err := c.pres.feedback(c.surface, fb); err != nil {
			return fmt.Errorf("presentation feedback: %w", err)
		}
		committed = clockNS(c.pres.clockID)
	}
	if err := c.surface.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	b.busy = true
	c.waiting = true
	return nil
}

type frameDone struct {
	c  *fullscreenClient
	cb *wl.Callback
}

func (f frameDone) HandleCallbackDone(wl.CallbackDoneEvent) {
	f.cb.Unregister()
	f.c.waiting = false
}

// clockNS reads the given clock; -1 if the kernel does not know it.
func clockNS(id uint32) int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(int32(id), &ts); err != nil {
		return -1
	}
	return ts.Nano()
}
