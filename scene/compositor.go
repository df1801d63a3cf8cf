// Package scene is the compositor's model of the world: surfaces and
// their double-buffered state, roles, buffers, the layout policy, and
// per-output damage. It turns client commits into frames: for every
// output it decides what to repaint and composites it into the output's
// shadow image with package render, then asks the output to present.
//
// Everything in a Compositor runs on one event loop (Run, on one OS
// thread): client sockets, output completions, input and timers are all
// fds on it, so the state needs no locks.
package scene

import (
	"cmp"
	"context"
	"fmt"
	"image"
	"log/slog"
	"time"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/eventloop"
	"github.com/vitrine-wm/vitrine/protocol/wl"
	"github.com/vitrine-wm/vitrine/render"
)

// Output is a display the scene composites for. The headless output
// implements it now; the KMS output implements it too.
type Output interface {
	Name() string
	Description() string
	// Mode is the current mode in unrotated pixels.
	Mode() (width, height, refreshMilliHz int)
	PhysicalSize() (mmWidth, mmHeight int)
	// Transform is the output rotation (wl_output.transform numbering).
	Transform() render.Transform
	// Shadow is the system-memory image frames are composited into, in
	// the mode's pixels, already rotated (at an output scale other than
	// 1 the layout's logical size differs from it). Its contents persist
	// across frames.
	Shadow() *render.Image
	// Present shows the shadow; damage is in shadow coordinates. It must
	// not block; completion is reported through the func the output was
	// built with, and Present is not called again before that.
	Present(damage []image.Rectangle) error
	// CopiedBytes is the running total of bytes written to the display.
	CopiedBytes() int64
	Close() error
}

// Layout selects the window policy.
type Layout int

const (
	// LayoutKiosk: every toplevel fullscreen on its output, newest on top.
	LayoutKiosk Layout = iota
	// LayoutDesktop: floating windows, click to focus, move and resize
	// (desktop.go).
	LayoutDesktop
)

// DefaultRepaintWindow is weston's default: enough for a full-screen
// CPU composite on small boards, and it leaves clients most of the frame
// to draw.
const DefaultRepaintWindow = 7 * time.Millisecond

// Config is what the compositor is built with.
type Config struct {
	Log    *slog.Logger
	Server *protocol.Server
	Layout Layout
	// RepaintWindow is the most time before each vblank the compositor
	// composes a frame that waits for several clients
	// (DefaultRepaintWindow if 0): the window follows what repaints
	// take, from 2 ms up to this.
	RepaintWindow time.Duration
	// Started is when the process started (eventloop.Now), for the
	// log line that says how long the first frame took; 0: not logged.
	Started time.Duration
	// PingTimeout is how long a client may take to answer xdg_wm_base.ping
	// before it is reported unresponsive.
	PingTimeout time.Duration
	// Privileged says which clients may bind the globals that see or
	// drive other clients (screencopy, output management and power,
	// virtual keyboard and pointer, data control); nil: all.
	Privileged func(*protocol.Client) bool
	// MaxFrameCallbacks bounds a client's frame callbacks not yet done
	// (DefaultMaxFrameCallbacks if 0).
	MaxFrameCallbacks int
	// MaxBuffers bounds a client's live wl_buffers (DefaultMaxBuffers
	// if 0).
	MaxBuffers int
	// TextInputActive, if set, is called on the loop when a text field
	// with keyboard focus starts (true) or stops (false) wanting text
	// typed: the moment to show or hide an on-screen keyboard.
	TextInputActive func(active bool)
	// IdleTimeout switches the outputs off after this long without
	// input (they come back at the next input); 0: never.
	IdleTimeout time.Duration
	// AppOutputs puts the toplevels of an app_id on the output of that
	// name (--app-output), like weston kiosk-shell's app-ids; a dialog
	// stays with its parent.
	AppOutputs map[string]string
	// OutputScale gives the scale of the output called name when it is
	// added (--scale): 0 for 1, else from MinScale to MaxScale, whole or
	// fractional. Nil: every output at 1.
	OutputScale func(name string) float64
}

// DefaultMaxFrameCallbacks is far above what real clients keep waiting:
// one per surface per commit, and they wait for it before the next.
const DefaultMaxFrameCallbacks = 256

// DefaultMaxBuffers is far above real clients' swapchains (two to four
// buffers per surface) even with hundreds of surfaces.
const DefaultMaxBuffers = 4096

// Compositor owns the scene and runs its loop.
type Compositor struct {
	log    *slog.Logger
	srv    *protocol.Server
	layout Layout

	outputs   []*output
	toplevels []*toplevel // bottom to top
	// x11Overlays are the shown override-redirect X11 windows, bottom to
	// top, above every toplevel; x11All every window with a surface.
	x11Overlays []*toplevel
	x11All      []*toplevel
	// x11Bridge is the X window manager's selection bridge, if one runs.
	x11Bridge X11SelectionBridge
	// layers are the layer-shell surfaces in creation order; within a
	// layer, later ones are drawn above earlier ones.
	layers []*layerSurface
	// arranging is true while arrangeLayers runs.
	arranging bool
	// textInputs are every client's zwp_text_input_v3; im is the input
	// method (nil: none bound).
	textInputs      []*textInput
	im              *inputMethod
	textInputActive bool
	// tokens are the xdg-activation tokens handed out, oldest first.
	tokens      []issuedToken
	onTextInput func(active bool)
	clients     map[*protocol.Client]*clientState

	loop      *eventloop.Loop
	pingAfter time.Duration
	// repaintWindow is how long before a vblank frames are composed.
	repaintWindow time.Duration
	// started is Config.Started; zeroed once the first frame is logged.
	started time.Duration
	// nextBufferKey names dma-buf buffers for outputs' import caches.
	nextBufferKey     uint64
	maxFrameCallbacks int
	maxBuffers        int
	// active is false while the session is paused.
	active bool
	// seatCaps are the wl_seat capabilities the input devices provide.
	seatCaps uint32
	in       inputState

	privileged func(*protocol.Client) bool
	outputMgmt outputManagement
	idle       idleState
	sel        selectionState

	relPointers []*relativePointer
	constraints []*pointerConstraint

	// mainDevice is the dev_t clients are told to allocate and render
	// with (SetMainDevice); 0 until set.
	mainDev uint64
	// displayEpoch counts changes of the displays (outputs added or
	// removed, modes changed): what a display refused to scan out
	// before may be taken after.
	displayEpoch uint64
	lock         sessionLockState
	appOutputs   map[string]string
	// outputScale is Config.OutputScale; fractionals every live
	// wp_fractional_scale_v1 with a surface (scale.go).
	outputScale func(name string) float64
	fractionals []*fractionalScale
}

// SetMainDevice sets the device linux-dmabuf feedback names as the main
// device (a render node clients can render with, chosen by the caller:
// kms.ChooseMainDevice). Call it before clients connect.
func (c *Compositor) SetMainDevice(dev uint64) { c.mainDev = dev }

// clientState is what the scene keeps per client.
type clientState struct {
	wmBases      []*wmBase
	outputs      map[*output][]protocolOutput
	unresponsive bool
	// surfaceCreated is OnSurfaceCreated's hook.
	surfaceCreated func(id uint32)
}

// New makes a compositor and registers its globals on cfg.Server.
func New(cfg Config) *Compositor {
	c := &Compositor{
		log:         cfg.Log,
		srv:         cfg.Server,
		layout:      cfg.Layout,
		clients:     map[*protocol.Client]*clientState{},
		loop:        cfg.Server.Loop(),
		pingAfter:   cfg.PingTimeout,
		active:      true,
		privileged:  cfg.Privileged,
		onTextInput: cfg.TextInputActive,
		appOutputs:  cfg.AppOutputs,
		outputScale: cfg.OutputScale,
	}
	c.outputMgmt.c = c
	if c.log == nil {
		c.log = slog.Default()
	}
	c.started = cfg.Started
	c.repaintWindow = cfg.RepaintWindow
	if c.repaintWindow <= 0 {
		c.repaintWindow = DefaultRepaintWindow
	}
	c.maxFrameCallbacks = cmp.Or(max(cfg.MaxFrameCallbacks, 0), DefaultMaxFrameCallbacks)
	c.maxBuffers = cmp.Or(max(cfg.MaxBuffers, 0), DefaultMaxBuffers)
	if c.pingAfter == 0 {
		c.pingAfter = 5 * time.Second
	}
	c.srv.OnClientGone = func(pc *protocol.Client) { delete(c.clients, pc) }
	c.loop.AfterDispatch(c.afterDispatch)
	c.initInput()
	c.initIdle(cfg.IdleTimeout)
	c.registerGlobals()
	return c
}

// checkBuffers fails when the client owning r has more live wl_buffers
// than the limit; extra counts a buffer about to be registered.
func (c *Compositor) checkBuffers(r protocol.Object, extra int) error {
	pc := r.(interface{ Client() *protocol.Client }).Client()
	if n := pc.Count(wl.BufferInterface) + extra; n > c.maxBuffers {
		return protocol.NewError(r, protocol.ErrNoMemory, "too many buffers: the limit is %d per client (--client-buffer-limit)", c.maxBuffers)
	}
	return nil
}

func (c *Compositor) client(pc *protocol.Client) *clientState {
	cs := c.clients[pc]
	if cs == nil {
		cs = &clientState{outputs: map[*output][]protocolOutput{}}
		c.clients[pc] = cs
	}
	return cs
}

// Loop is the event loop everything in the compositor runs on; backends
// register their fds and timers on it.
func (c *Compositor) Loop() *eventloop.Loop { return c.loop }

// Post runs f on the loop. It is safe from any goroutine, for the few
// sources that have no fd of their own (signals, D-Bus, child exits).
func (c *Compositor) Post(f func()) { c.loop.Post(f) }

// Stop makes Run return err (nil for a clean exit); call it on the loop.
func (c *Compositor) Stop(err error) { c.loop.Stop(err) }

// Run is the compositor loop: it dispatches whatever is ready (client
// requests, output completions, timers, input), repaints the outputs
// that are due, then writes every client's events once. It sleeps
// whenever nothing happens: no ticks, no polling; timers are armed only
// while something waits on them.
func (c *Compositor) Run(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { c.loop.Post(func() { c.loop.Stop(nil) }) })
	defer stop()
	return c.loop.Run()
}

// afterDispatch ends each loop iteration: damage from every request
// handled in it lands in one frame, and each client's events leave in
// one write.
func (c *Compositor) afterDispatch() {
	c.announceToControls()
	// A client that fails while its events are written takes its
	// windows with it: repaint what they covered now. Each round needs
	// another client gone, so this ends.
	for {
		c.repaintOutputs()
		if !c.srv.Flush() {
			return
		}
	}
}

// after runs f once, d from now, on the loop.
func (c *Compositor) after(d time.Duration, f func()) {
	c.loop.NewTimer(f).SetAfter(d)
}

// Stats is the per-output counters of the stats: line.
type Stats struct {
	Output      string
	Frames      int64
	Scanout     int64
	Composited  int64
	CopiedBytes int64
	// Overlays[i] counts the frames in which overlay plane i showed a
	// client buffer; as long as the most planes a frame used.
	Overlays []int64
}

func (s Stats) String() string {
	line := fmt.Sprintf("stats: output=%s frames=%d scanout=%d composited=%d copied_bytes=%d", s.Output, s.Frames, s.Scanout, s.Composited, s.CopiedBytes)
	for i, n := range s.Overlays {
		line += fmt.Sprintf(" overlay%d=%d", i, n)
	}
	return line
}

// Stats returns the counters of every output.
func (c *Compositor) Stats() []Stats {
	var out []Stats
	for _, o := range c.outputs {
		s := o.stats
		s.Output = o.dev.Name()
		s.CopiedBytes = o.copiedBefore + o.dev.CopiedBytes()
		out = append(out, s)
	}
	return out
}
