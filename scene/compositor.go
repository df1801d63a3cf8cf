// Package scene is the compositor's model of the world: surfaces and
// their double-buffered state, roles, buffers, the layout policy, and
// per-output damage. It turns client commits into frames: for every
// output it decides what to repaint and composites it into the output's
// shadow image with package render, then asks the output to present.
//
// Everything in a Compositor runs on one goroutine (Run): protocol
// requests, output completions and timers are all funnelled into it, so
// the state needs no locks.
package scene

import (
	"context"
	"fmt"
	"image"
	"log/slog"
	"time"

	"github.com/vitrine-wm/vitrine/protocol"
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
	// logical (already rotated) size. Its contents persist across frames.
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
)

// Config is what the compositor is built with.
type Config struct {
	Log    *slog.Logger
	Server *protocol.Server
	Layout Layout
	// PingTimeout is how long a client may take to answer xdg_wm_base.ping
	// before it is reported unresponsive.
	PingTimeout time.Duration
	// Privileged says which clients may bind the globals that see or
	// drive other clients (screencopy, output management); nil: all.
	Privileged func(*protocol.Client) bool
}

// Compositor owns the scene and runs its loop.
type Compositor struct {
	log    *slog.Logger
	srv    *protocol.Server
	layout Layout

	outputs   []*output
	toplevels []*toplevel // bottom to top
	clients   map[*protocol.Client]*clientState

	loopCalls chan func()
	timers    timerQueue
	pingAfter time.Duration
	// nextBufferKey names dma-buf buffers for outputs' import caches.
	nextBufferKey uint64
	// active is false while the session is paused.
	active bool
	// seatCaps are the wl_seat capabilities the input devices provide.
	seatCaps uint32
	in       inputState

	privileged func(*protocol.Client) bool
	outputMgmt outputManagement

	// quit ends Run with this error when set.
	quit    bool
	quitErr error
}

// clientState is what the scene keeps per client.
type clientState struct {
	wmBases      []*wmBase
	outputs      map[*output][]protocolOutput
	unresponsive bool
}

// New makes a compositor and registers its globals on cfg.Server.
func New(cfg Config) *Compositor {
	c := &Compositor{
		log:        cfg.Log,
		srv:        cfg.Server,
		layout:     cfg.Layout,
		clients:    map[*protocol.Client]*clientState{},
		loopCalls:  make(chan func(), 64),
		pingAfter:  cfg.PingTimeout,
		active:     true,
		privileged: cfg.Privileged,
	}
	c.outputMgmt.c = c
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.pingAfter == 0 {
		c.pingAfter = 5 * time.Second
	}
	c.srv.OnClientGone = func(pc *protocol.Client) { delete(c.clients, pc) }
	c.initInput()
	c.registerGlobals()
	return c
}

func (c *Compositor) client(pc *protocol.Client) *clientState {
	cs := c.clients[pc]
	if cs == nil {
		cs = &clientState{outputs: map[*output][]protocolOutput{}}
		c.clients[pc] = cs
	}
	return cs
}

// Post runs f on the loop goroutine. Outputs use it to report completed
// frames; it is safe from any goroutine.
func (c *Compositor) Post(f func()) { c.loopCalls <- f }

// Stop makes Run return err (nil for a clean exit); call it on the loop.
func (c *Compositor) Stop(err error) {
	c.quit, c.quitErr = true, err
}

// Run is the compositor loop. It sleeps whenever nothing happens: no
// ticks, no polling; timers exist only while something waits on them.
func (c *Compositor) Run(ctx context.Context) error {
	events := c.srv.Events()
	for !c.quit {
		var timeout <-chan time.Time
		var t *time.Timer
		if d, ok := c.timers.next(); ok {
			t = time.NewTimer(d)
			timeout = t.C
		}
		select {
		case <-ctx.Done():
			c.quit = true
		case ev := <-events:
			c.srv.Handle(ev)
		case f := <-c.loopCalls:
			f()
		case <-timeout:
		}
		if t != nil {
			t.Stop()
		}
		c.timers.fire()
		c.repaintOutputs()
		c.srv.Flush()
	}
	return c.quitErr
}

// timerQueue is a tiny deadline list: the loop only needs a handful of
// timers (ping timeouts, frame pacing without damage).
type timerQueue struct {
	items []timerItem
}

type timerItem struct {
	at time.Time
	f  func()
}

func (q *timerQueue) add(d time.Duration, f func()) {
	q.items = append(q.items, timerItem{time.Now().Add(d), f})
}

func (q *timerQueue) next() (time.Duration, bool) {
	if len(q.items) == 0 {
		return 0, false
	}
	min := q.items[0].at
	for _, it := range q.items[1:] {
		if it.at.Before(min) {
			min = it.at
		}
	}
	return max(time.Until(min), 0), true
}

func (q *timerQueue) fire() {
	now := time.Now()
	var due []func()
	kept := q.items[:0]
	for _, it := range q.items {
		if !it.at.After(now) {
			due = append(due, it.f)
		} else {
			kept = append(kept, it)
		}
	}
	q.items = kept
	for _, f := range due {
		f()
	}
}

// Stats is the per-output counters of the stats: line.
type Stats struct {
	Output      string
	Frames      int64
	Scanout     int64
	Composited  int64
	CopiedBytes int64
}

func (s Stats) String() string {
	return fmt.Sprintf("stats: output=%s frames=%d scanout=%d composited=%d copied_bytes=%d", s.Output, s.Frames, s.Scanout, s.Composited, s.CopiedBytes)
}

// Stats returns the counters of every output.
func (c *Compositor) Stats() []Stats {
	var out []Stats
	for _, o := range c.outputs {
		s := o.stats
		s.Output = o.dev.Name()
		s.CopiedBytes = o.dev.CopiedBytes()
		out = append(out, s)
	}
	return out
}
