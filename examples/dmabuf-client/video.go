package main

import (
	"fmt"
	"image"

	"github.com/neurlang/wayland/wl"

	"github.com/vitrine-wm/vitrine/examples/internal/dmabuf"
	"github.com/vitrine-wm/vitrine/examples/internal/pattern"
	"github.com/vitrine-wm/vitrine/examples/internal/report"
	"github.com/vitrine-wm/vitrine/examples/internal/window"
)

// The --video-subsurface: a videoW×videoH buffer of the quadrants in the
// --format, a subsurface of the toplevel, shown at --video-scale times
// its size through wp_viewport (2 by default) and moved every frame
// (videoPos), the way a video player's picture sits in its UI. With
// --video-still it stays at videoPos(0) and plays instead: it is
// desynchronized from the toplevel and shows two buffers of the same
// picture in turn, one per frame callback, so a compositor can be
// watched carrying a playing video (overlay plane or copy) while the
// screen stays still enough to checksum.
const videoW, videoH = 320, 180

// videoOptions are the --video-* flags.
type videoOptions struct {
	scale int
	still bool
}

// videoPos is where the subsurface is (relative to the toplevel) in
// frame n; the lab computes the expected picture from it.
func videoPos(n int) image.Point { return image.Pt(40+4*(n%100), 40+2*(n%100)) }

// Requests of wp_viewporter and wp_viewport (viewporter.xml), which the
// Go binding lacks.
const (
	opViewporterGetViewport  = 1
	opViewportSetDestination = 2
)

// rawProxy is an object of an interface the binding does not know; it
// has no events.
type rawProxy struct{ wl.BaseProxy }

func (*rawProxy) Dispatch(*wl.Event) {}

type video struct {
	out     *report.Lines
	sub     *wl.Subsurface
	surface *wl.Surface
	buf     *window.Buffer
	opts    videoOptions
	// With still: the two buffers shown in turn, the next one's index,
	// and the frames shown.
	bufs   [2]*window.Buffer
	next   int
	played int
}

// newVideo makes the subsurface of parent, draws its one buffer and
// commits it; in sync mode it appears with the parent's next commit.
func newVideo(conn *window.Conn, parent *wl.Surface, alloc *dmabuf.Allocator, out *report.Lines, opts videoOptions) (*video, error) {
	ctx := conn.Context()
	subc := wl.NewSubcompositor(ctx)
	if _, err := conn.Bind("wl_subcompositor", 1, 1, subc); err != nil {
		return nil, err
	}
	vpr := &rawProxy{}
	ctx.Register(vpr)
	if _, err := conn.Bind("wp_viewporter", 1, 1, vpr); err != nil {
		return nil, err
	}
	surface, err := conn.Compositor.CreateSurface()
	if err != nil {
		return nil, fmt.Errorf("create video surface: %w", err)
	}
	sub, err := subc.GetSubsurface(surface, parent)
	if err != nil {
		return nil, fmt.Errorf("get_subsurface: %w", err)
	}
	vp := &rawProxy{}
	ctx.Register(vp)
	if err := ctx.SendRequest(vpr, opViewporterGetViewport, vp, surface); err != nil {
		return nil, fmt.Errorf("get_viewport: %w", err)
	}
	if err := ctx.SendRequest(vp, opViewportSetDestination, int32(opts.scale*videoW), int32(opts.scale*videoH)); err != nil {
		return nil, fmt.Errorf("viewport set_destination: %w", err)
	}
	v := &video{out: out, sub: sub, surface: surface, opts: opts}
	n := 1
	if opts.still {
		n = 2
	}
	for i := range n {
		buf, err := alloc.Allocate(videoW, videoH)
		if err != nil {
			return nil, fmt.Errorf("video buffer: %w", err)
		}
		if buf.BeginCPU != nil {
			if err := buf.BeginCPU(); err != nil {
				return nil, fmt.Errorf("video buffer: %w", err)
			}
		}
		pattern.DrawQuadrants(buf.Image)
		if buf.EndCPU != nil {
			if err := buf.EndCPU(); err != nil {
				return nil, fmt.Errorf("video buffer: %w", err)
			}
		}
		v.bufs[i] = buf
	}
	v.buf = v.bufs[0]
	if opts.still {
		// Its own frames, not the toplevel's: a player's video clock.
		if err := sub.SetDesync(); err != nil {
			return nil, fmt.Errorf("video set_desync: %w", err)
		}
		p := videoPos(0)
		if err := sub.SetPosition(int32(p.X), int32(p.Y)); err != nil {
			return nil, fmt.Errorf("video set_position: %w", err)
		}
	}
	if err := v.show(); err != nil {
		return nil, err
	}
	out.Printf("video-subsurface size=%dx%d destination=%dx%d format=%s still=%v", videoW, videoH, opts.scale*videoW, opts.scale*videoH, dmabuf.FourCC(alloc.Choice.Format), opts.still)
	return v, nil
}

// show attaches the next buffer, damaged whole, and commits it; while
// still, with a frame callback that shows the other one.
func (v *video) show() error {
	buf := v.bufs[v.next]
	v.next = (v.next + 1) % len(v.bufs)
	if v.bufs[v.next] == nil {
		v.next = 0
	}
	// wl_surface.attach (opcode 1) with a dma-buf wl_buffer, as window
	// does.
	if err := v.surface.Context().SendRequest(v.surface, 1, wl.Proxy(buf.WL), int32(0), int32(0)); err != nil {
		return fmt.Errorf("attach video: %w", err)
	}
	if err := v.surface.Damage(0, 0, videoW, videoH); err != nil {
		return fmt.Errorf("damage video: %w", err)
	}
	if v.opts.still {
		cb, err := v.surface.Frame()
		if err != nil {
			return fmt.Errorf("video frame: %w", err)
		}
		cb.AddDoneHandler(videoFrame{v, cb})
	}
	if err := v.surface.Commit(); err != nil {
		return fmt.Errorf("commit video: %w", err)
	}
	return nil
}

// videoFrame is the frame callback of a still video's buffer.
type videoFrame struct {
	v  *video
	cb *wl.Callback
}

func (f videoFrame) HandleCallbackDone(wl.CallbackDoneEvent) {
	f.cb.Unregister()
	v := f.v
	v.played++
	if v.played == 1 || v.played%100 == 0 {
		v.out.Printf("video-played frames=%d", v.played)
	}
	if err := v.show(); err != nil {
		v.out.Printf("video-error %v", err)
	}
}

// beforeCommit moves the subsurface for frame n; the position is the
// parent's state and lands with the parent's commit.
func (v *video) beforeCommit(n int) error {
	if v.opts.still {
		return nil
	}
	p := videoPos(n)
	if err := v.sub.SetPosition(int32(p.X), int32(p.Y)); err != nil {
		return fmt.Errorf("video set_position: %w", err)
	}
	v.out.Printf("video-at frame=%d x=%d y=%d", n, p.X, p.Y)
	return nil
}
