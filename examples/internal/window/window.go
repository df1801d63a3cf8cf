package window

import (
	"fmt"
	"image"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/neurlang/wayland/wl"
	"github.com/neurlang/wayland/xdg"

	"github.com/vitrine-wm/vitrine/examples/internal/pattern"
	"github.com/vitrine-wm/vitrine/examples/internal/report"
)

// maxBuffers bounds the swapchain: two is enough when the compositor
// releases promptly, a third hides one frame of release latency.
const maxBuffers = 3

// WLBuffer is a wl_buffer proxy; both wl.Buffer and the linux-dmabuf
// binding's Buffer satisfy it.
type WLBuffer interface {
	wl.Proxy
	AddReleaseHandler(wl.BufferReleaseHandler)
	Destroy() error
}

// Buffer is one client buffer: its wl_buffer, the CPU mapping of its pixels
// and what that memory currently shows.
type Buffer struct {
	WL    WLBuffer
	Image *pattern.Image
	// Frame is the frame whose image the pixels hold, -1 if unknown.
	Frame int
	// BeginCPU and EndCPU, when set, bracket CPU writes (dma-buf sync).
	BeginCPU func() error
	EndCPU   func() error
	// Free releases the memory after the wl_buffer is destroyed.
	Free func() error

	busy    bool // attached and not yet released by the compositor
	retired bool // wrong size: destroy on release
}

// Size is the buffer's size in pixels.
func (b *Buffer) Size() image.Point { return image.Pt(b.Image.Width, b.Image.Height) }

// Allocator makes buffers of a given size.
type Allocator interface {
	Allocate(w, h int) (*Buffer, error)
}

// Painter draws the client's content.
type Painter interface {
	// Paint turns buf, which holds the image of frame buf.Frame (or
	// unknown content when buf.Frame < 0), into the image of frame n and
	// returns what changed on screen since frame n-1, in buffer
	// coordinates.
	Paint(buf *Buffer, n int) []image.Rectangle
	// Animated reports whether consecutive frames differ.
	Animated() bool
	// DoneLine is printed when the client stops after frames frames of
	// the given size.
	DoneLine(frames int, size image.Point) string
}

// Options configure a Window.
type Options struct {
	Title      string
	AppID      string
	Fullscreen bool
	// Output is the output Fullscreen asks for (nil: the compositor's
	// choice).
	Output *wl.Output
	// Size is used when the compositor leaves the size to the client
	// (configure with 0x0).
	Size image.Point
	// FixedSize draws at Size whatever the compositor suggests, as
	// weston-simple-shm does, so several windows can be seen at once
	// on a kiosk output.
	FixedSize bool
	// Frames stops drawing after that many frames were shown; 0 means
	// never stop.
	Frames int
	// ToggleOnUSR1 makes SIGUSR1 toggle fullscreen (set/unset), for
	// tests that move a client between direct scanout and compositing.
	ToggleOnUSR1 bool
	// BeforeCommit, when set, runs before each frame's wl_surface.commit
	// with the frame number, on the dispatch goroutine: what it does to
	// subsurfaces (their position is the parent's state) lands with the
	// frame.
	BeforeCommit func(frame int) error
}

// Window is one xdg_toplevel showing a Painter's frames.
type Window struct {
	conn    *Conn
	opts    Options
	alloc   Allocator
	painter Painter
	out     *report.Lines
	log     *slog.Logger

	Surface  *wl.Surface
	XDG      *xdg.Surface
	Toplevel *xdg.Toplevel

	pending    image.Point // size from the last toplevel configure
	size       image.Point // size acknowledged for the next frame
	configured bool
	opaqueFor  image.Point // size the opaque region was set for

	buffers    []*Buffer
	committed  image.Point // size of the last committed frame
	lastShown  image.Point // size of the last frame shown
	fullscreen bool
	// windowed: the client left fullscreen with SIGUSR1 (read on the
	// dispatch goroutine, written on Run's).
	windowed     atomic.Bool
	frame        int  // next frame number
	shown        int  // frames whose frame callback came back
	callbackOpen bool // a frame callback is outstanding
	needFrame    bool // draw as soon as a buffer is free
	stopped      bool

	// handling is held by every event handler, which run on the
	// dispatch goroutine once Run has started it. Run takes it before it
	// returns and sets ended: the caller then closes the connection, and
	// a handler still drawing (the frame-done handler that ended Run
	// commits a late configure's frame) would register proxies on a
	// closed connection, which panics in the binding. After ended, the
	// handlers do nothing.
	handling sync.Mutex
	ended    bool

	finished chan struct{}
	closed   chan struct{}
	failed   chan error
}

// New creates the toplevel, commits it without a buffer and waits for the
// first configure.
func New(conn *Conn, alloc Allocator, painter Painter, out *report.Lines, log *slog.Logger, opts Options) (*Window, error) {
	if opts.Size.X <= 0 || opts.Size.Y <= 0 {
		opts.Size = image.Pt(640, 480)
	}
	w := &Window{
		conn: conn, opts: opts, alloc: alloc, painter: painter, out: out, log: log,
		finished: make(chan struct{}),
		closed:   make(chan struct{}),
		failed:   make(chan error, 1),
	}
	var err error
	if w.Surface, err = conn.Compositor.CreateSurface(); err != nil {
		return nil, fmt.Errorf("create surface: %w", err)
	}
	if w.XDG, err = conn.WmBase.GetSurface(w.Surface); err != nil {
		return nil, fmt.Errorf("get xdg_surface: %w", err)
	}
	w.XDG.AddConfigureHandler(w)
	if w.Toplevel, err = w.XDG.GetToplevel(); err != nil {
		return nil, fmt.Errorf("get xdg_toplevel: %w", err)
	}
	w.Toplevel.AddConfigureHandler(w)
	w.Toplevel.AddCloseHandler(w)
	if opts.Title != "" {
		if err := w.Toplevel.SetTitle(opts.Title); err != nil {
			return nil, fmt.Errorf("set title: %w", err)
		}
	}
	if opts.AppID != "" {
		if err := w.Toplevel.SetAppId(opts.AppID); err != nil {
			return nil, fmt.Errorf("set app id: %w", err)
		}
	}
	if opts.Fullscreen {
		if err := w.Toplevel.SetFullscreen(opts.Output); err != nil {
			return nil, fmt.Errorf("set fullscreen: %w", err)
		}
		w.fullscreen = true
	}
	// The initial commit without a buffer asks for the first configure.
	if err := w.Surface.Commit(); err != nil {
		return nil, fmt.Errorf("initial commit: %w", err)
	}
	for !w.configured {
		if err := conn.Dispatch(); err != nil {
			return nil, fmt.Errorf("wait for first configure: %w", err)
		}
		if err := w.takeError(); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// Run shows frames until the frame limit is reached (then returns nil if
// linger is 0, otherwise waits for it), until linger has passed, until the
// compositor closes the toplevel, or until an error. linger 0 and no frame
// limit run forever.
func (w *Window) Run(linger time.Duration) error {
	defer w.end()
	// The first frame is drawn before the dispatch goroutine exists;
	// after that, event handling, drawing included, happens on that
	// goroutine only and this one just waits for an outcome.
	w.drawIfIdle()
	if err := w.takeError(); err != nil {
		return err
	}
	go func() {
		for {
			if err := w.conn.Dispatch(); err != nil {
				w.fail(err)
				return
			}
		}
	}()
	var timeout <-chan time.Time
	if linger > 0 {
		timeout = time.After(linger)
	}
	var toggle chan os.Signal
	if w.opts.ToggleOnUSR1 {
		toggle = make(chan os.Signal, 1)
		signal.Notify(toggle, syscall.SIGUSR1)
		defer signal.Stop(toggle)
	}
	finished := w.finished
	for {
		select {
		case <-toggle:
			w.toggleFullscreen()
		case err := <-w.failed:
			return err
		case <-finished:
			if linger == 0 {
				return nil
			}
			finished = nil
		case <-timeout:
			return nil
		case <-w.closed:
			return nil
		}
	}
}

// end waits for a handler that is running and makes later ones no-ops.
func (w *Window) end() {
	w.handling.Lock()
	w.ended = true
	w.handling.Unlock()
}

// handle starts an event handler: it returns false (and holds nothing)
// once Run has returned; otherwise the caller must call w.handled.
func (w *Window) handle() bool {
	w.handling.Lock()
	if w.ended {
		w.handling.Unlock()
		return false
	}
	return true
}

func (w *Window) handled() { w.handling.Unlock() }

// Fail makes Run return err; for errors found outside the window's own
// handlers (e.g. a buffer import failing late). Safe from any goroutine.
func (w *Window) Fail(err error) { w.fail(err) }

func (w *Window) fail(err error) {
	select {
	case w.failed <- err:
	default:
	}
}

func (w *Window) takeError() error {
	select {
	case err := <-w.failed:
		return err
	default:
		return nil
	}
}

// HandleToplevelConfigure records the suggested size.
func (w *Window) HandleToplevelConfigure(ev xdg.ToplevelConfigureEvent) {
	if !w.handle() {
		return
	}
	defer w.handled()
	w.pending = image.Pt(int(ev.Width), int(ev.Height))
	w.log.Debug("toplevel configure", "width", ev.Width, "height", ev.Height, "states", ev.States)
}

// HandleToplevelClose ends the client as a user closing it would.
func (w *Window) HandleToplevelClose(xdg.ToplevelCloseEvent) {
	if !w.handle() {
		return
	}
	defer w.handled()
	w.out.Printf("closed")
	w.stop()
	select {
	case <-w.closed:
	default:
		close(w.closed)
	}
}

// HandleSurfaceConfigure applies the configure: a compositor that names a
// size (kiosk, fullscreen) gets exactly it, otherwise Options.Size.
func (w *Window) HandleSurfaceConfigure(ev xdg.SurfaceConfigureEvent) {
	if !w.handle() {
		return
	}
	defer w.handled()
	if err := w.XDG.AckConfigure(ev.Serial); err != nil {
		w.fail(fmt.Errorf("ack configure: %w", err))
		return
	}
	size := w.pending
	if size.X <= 0 || size.Y <= 0 || w.opts.FixedSize {
		size = w.opts.Size
	} else if w.windowed.Load() {
		// Out of fullscreen by its own request, the client keeps its own
		// size where the compositor still names one (a kiosk keeps every
		// window fullscreen): xdg-shell lets a client draw smaller than a
		// fullscreen configure, and the compositor centres it.
		size = image.Pt(min(size.X, w.opts.Size.X), min(size.Y, w.opts.Size.Y))
	}
	if size != w.size {
		w.log.Debug("new size", "width", size.X, "height", size.Y)
		w.size = size
		w.retireBuffers()
	}
	first := !w.configured
	w.configured = true
	if !first {
		// A configure needs a commit to be acknowledged on screen.
		w.needFrame = true
		w.drawIfIdle()
	}
}

func (w *Window) stop() {
	if w.stopped {
		return
	}
	w.stopped = true
	close(w.finished)
}

// retireBuffers drops buffers of the old size: idle ones now, busy ones
// when the compositor releases them.
func (w *Window) retireBuffers() {
	kept := w.buffers[:0]
	for _, b := range w.buffers {
		if b.busy {
			b.retired = true
			continue
		}
		w.destroy(b)
	}
	for _, b := range w.buffers {
		if b.busy {
			kept = append(kept, b)
		}
	}
	w.buffers = kept
}

func (w *Window) destroy(b *Buffer) {
	if err := b.WL.Destroy(); err != nil {
		w.log.Warn("destroy wl_buffer", "err", err)
	}
	b.WL.Unregister()
	if b.Free != nil {
		if err := b.Free(); err != nil {
			w.log.Warn("free buffer memory", "err", err)
		}
	}
}

// freeBuffer returns an idle buffer of the current size, allocating one
// if the swapchain is not full yet; nil means wait for a release.
func (w *Window) freeBuffer() (*Buffer, error) {
	live := 0
	for _, b := range w.buffers {
		if b.retired {
			continue
		}
		live++
		if !b.busy {
			return b, nil
		}
	}
	if live >= maxBuffers {
		return nil, nil
	}
	b, err := w.alloc.Allocate(w.size.X, w.size.Y)
	if err != nil {
		return nil, fmt.Errorf("allocate %dx%d buffer: %w", w.size.X, w.size.Y, err)
	}
	b.Frame = -1
	b.WL.AddReleaseHandler(&releaseHandler{w: w, b: b})
	w.buffers = append(w.buffers, b)
	return b, nil
}

func (w *Window) drawIfIdle() {
	if w.callbackOpen || w.stopped && !w.needFrame {
		return
	}
	if w.frame == 0 {
		w.needFrame = true
	}
	if w.needFrame {
		w.draw()
	}
}

// draw paints, attaches and commits the next frame, or leaves needFrame set
// until a buffer is released.
func (w *Window) draw() {
	b, err := w.freeBuffer()
	if err != nil {
		w.fail(err)
		return
	}
	if b == nil {
		w.needFrame = true
		return
	}
	w.needFrame = false
	n := w.frame
	if b.BeginCPU != nil {
		if err := b.BeginCPU(); err != nil {
			w.fail(fmt.Errorf("begin CPU access: %w", err))
			return
		}
	}
	damage := w.painter.Paint(b, n)
	if b.EndCPU != nil {
		if err := b.EndCPU(); err != nil {
			w.fail(fmt.Errorf("end CPU access: %w", err))
			return
		}
	}
	b.Frame = n
	if n == 0 || w.committed != w.size {
		// What the compositor showed before had another size or nothing.
		damage = []image.Rectangle{image.Rectangle{Max: w.size}}
	}
	if err := w.commit(b, damage); err != nil {
		w.fail(err)
		return
	}
	w.committed = w.size
	w.frame++
}

func (w *Window) commit(b *Buffer, damage []image.Rectangle) error {
	ctx := w.conn.Context()
	if w.opaqueFor != w.size {
		// XRGB is opaque anyway; saying so lets a compositor skip
		// blending without knowing the format.
		region, err := w.conn.Compositor.CreateRegion()
		if err != nil {
			return fmt.Errorf("create region: %w", err)
		}
		if err := region.Add(0, 0, int32(w.size.X), int32(w.size.Y)); err != nil {
			return fmt.Errorf("region add: %w", err)
		}
		if err := w.Surface.SetOpaqueRegion(region); err != nil {
			return fmt.Errorf("set opaque region: %w", err)
		}
		if err := region.Destroy(); err != nil {
			return fmt.Errorf("destroy region: %w", err)
		}
		region.Unregister()
		w.opaqueFor = w.size
	}
	// wl_surface.attach is opcode 1; the binding's Attach only takes
	// *wl.Buffer, dma-buf buffers are another Go type.
	if err := ctx.SendRequest(w.Surface, 1, wl.Proxy(b.WL), int32(0), int32(0)); err != nil {
		return fmt.Errorf("attach: %w", err)
	}
	for _, r := range damage {
		var err error
		if w.conn.CompositorVersion >= 4 {
			err = w.Surface.DamageBuffer(int32(r.Min.X), int32(r.Min.Y), int32(r.Dx()), int32(r.Dy()))
		} else {
			// Scale 1, no transform: surface and buffer coordinates agree.
			err = w.Surface.Damage(int32(r.Min.X), int32(r.Min.Y), int32(r.Dx()), int32(r.Dy()))
		}
		if err != nil {
			return fmt.Errorf("damage: %w", err)
		}
	}
	cb, err := w.Surface.Frame()
	if err != nil {
		return fmt.Errorf("frame callback: %w", err)
	}
	size := w.size
	cb.AddDoneHandler(&callbackFunc{cb: cb, f: func(uint32) { w.frameDone(size) }})
	w.callbackOpen = true
	if w.opts.BeforeCommit != nil {
		if err := w.opts.BeforeCommit(w.frame); err != nil {
			return err
		}
	}
	if err := w.Surface.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	b.busy = true
	w.log.Debug("committed", "frame", w.frame, "damage", damage)
	return nil
}

// toggleFullscreen asks to leave or enter fullscreen. It runs on Run's
// goroutine: the requests create no objects, and each is one socket
// write, so they do not race with the dispatch goroutine.
func (w *Window) toggleFullscreen() {
	w.fullscreen = !w.fullscreen
	// Before the request, so the configure that answers it sees it.
	w.windowed.Store(!w.fullscreen)
	var err error
	if w.fullscreen {
		err = w.Toplevel.SetFullscreen(w.opts.Output)
	} else {
		err = w.Toplevel.UnsetFullscreen()
	}
	if err != nil {
		w.fail(fmt.Errorf("toggle fullscreen: %w", err))
		return
	}
	state := "off"
	if w.fullscreen {
		state = "on"
	}
	w.out.Printf("fullscreen %s", state)
}

func (w *Window) frameDone(size image.Point) {
	if !w.handle() {
		return
	}
	defer w.handled()
	w.callbackOpen = false
	w.shown++
	if w.shown == 1 {
		w.out.Printf("first-frame %dx%d", size.X, size.Y)
	} else if size != w.lastShown {
		w.out.Printf("resized %dx%d", size.X, size.Y)
	}
	w.lastShown = size
	if w.opts.Frames > 0 && w.shown == w.opts.Frames {
		w.out.Printf("%s", w.painter.DoneLine(w.shown, size))
		w.stop()
	}
	if w.stopped {
		// A late configure still gets its commit, nothing else does.
		if w.needFrame {
			w.draw()
		}
		return
	}
	if w.painter.Animated() || w.opts.Frames > 0 {
		w.needFrame = true
	}
	if w.needFrame {
		w.draw()
	}
}

func (w *Window) released(b *Buffer) {
	if !w.handle() {
		return
	}
	defer w.handled()
	b.busy = false
	if b.retired {
		w.destroy(b)
		for i, x := range w.buffers {
			if x == b {
				w.buffers = append(w.buffers[:i], w.buffers[i+1:]...)
				break
			}
		}
		return
	}
	if w.needFrame && !w.callbackOpen {
		w.draw()
	}
}

type releaseHandler struct {
	w *Window
	b *Buffer
}

func (h *releaseHandler) HandleBufferRelease(wl.BufferReleaseEvent) { h.w.released(h.b) }

// callbackFunc runs f once when a wl_callback fires and forgets the proxy.
type callbackFunc struct {
	cb *wl.Callback
	f  func(data uint32)
}

func (c *callbackFunc) HandleCallbackDone(ev wl.CallbackDoneEvent) {
	c.cb.Unregister()
	c.f(ev.CallbackData)
}
