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
// --format, a subsurface of the toplevel, shown at twice its size
// through wp_viewport and moved every frame (videoPos), the way a video
// player's picture sits in its UI.
const (
	videoW, videoH = 320, 180
	videoScale     = 2
)

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
}

// newVideo makes the subsurface of parent, draws its one buffer and
// commits it; in sync mode it appears with the parent's next commit.
func newVideo(conn *window.Conn, parent *wl.Surface, alloc *dmabuf.Allocator, out *report.Lines) (*video, error) {
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
	if err := ctx.SendRequest(vp, opViewportSetDestination, int32(videoScale*videoW), int32(videoScale*videoH)); err != nil {
		return nil, fmt.Errorf("viewport set_destination: %w", err)
	}
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
	// wl_surface.attach (opcode 1) with a dma-buf wl_buffer, as window
	// does.
	if err := ctx.SendRequest(surface, 1, wl.Proxy(buf.WL), int32(0), int32(0)); err != nil {
		return nil, fmt.Errorf("attach video: %w", err)
	}
	if err := surface.Damage(0, 0, videoW, videoH); err != nil {
		return nil, fmt.Errorf("damage video: %w", err)
	}
	if err := surface.Commit(); err != nil {
		return nil, fmt.Errorf("commit video: %w", err)
	}
	out.Printf("video-subsurface size=%dx%d destination=%dx%d format=%s", videoW, videoH, videoScale*videoW, videoScale*videoH, dmabuf.FourCC(alloc.Choice.Format))
	return &video{out: out, sub: sub, surface: surface, buf: buf}, nil
}

// beforeCommit moves the subsurface for frame n; the position is the
// parent's state and lands with the parent's commit.
func (v *video) beforeCommit(n int) error {
	p := videoPos(n)
	if err := v.sub.SetPosition(int32(p.X), int32(p.Y)); err != nil {
		return fmt.Errorf("video set_position: %w", err)
	}
	v.out.Printf("video-at frame=%d x=%d y=%d", n, p.X, p.Y)
	return nil
}
