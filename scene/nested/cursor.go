package nested

import (
	"image"
	"math"

	"github.com/neurlang/wayland/wl"

	"github.com/vitrine-wm/vitrine/render"
)

// wlShmARGB8888 is wl_shm.format argb8888 (premultiplied, as cursors are).
const wlShmARGB8888 = 0

// The parent's own cursor is the windows' cursor plane (scene.CursorPlane):
// a client's cursor image goes onto a surface of the parent's pointer,
// which the parent moves with no frame from vitrine, as a display's
// cursor plane would. It can only be where the parent's pointer is, so
// a cursor vitrine puts elsewhere (a virtual pointer moved it, or it
// overlaps a window the pointer is not in) is composited instead.

// cursorState is the image the windows' cursor plane shows.
type cursorState struct {
	surface *wl.Surface
	buf     *shmBuffer
	hotspot image.Point
	// owner is the output whose cursor plane shows the image (SetCursor
	// and no HideCursor since), nil for none.
	owner  *Output
	serial uint32
}

// SetCursor loads img (premultiplied ARGB8888) into the parent's cursor.
func (o *Output) SetCursor(img *render.Image, hotspot image.Point) bool {
	b := o.b
	cs := &b.cursor
	if b.input.pointer == nil || img.Width <= 0 || img.Height <= 0 || img.Width > 256 || img.Height > 256 {
		return false
	}
	if cs.surface == nil {
		s, err := b.compositor.CreateSurface()
		if err != nil {
			return false
		}
		cs.surface = s
	}
	buf, err := o.newBufferFormat(img.Width, img.Height, wlShmARGB8888, render.ARGB8888)
	if err != nil {
		b.log.Debug("wayland backend: cursor buffer", "err", err)
		return false
	}
	for y := 0; y < img.Height; y++ {
		copy(buf.img.Pix[y*buf.img.Stride:y*buf.img.Stride+img.Width*4], img.Pix[y*img.Stride:])
	}
	if err := cs.surface.Attach(buf.wl, 0, 0); err != nil {
		buf.destroy()
		return false
	}
	cs.surface.DamageBuffer(0, 0, int32(img.Width), int32(img.Height))
	cs.surface.Commit()
	buf.busy = true
	if old := cs.buf; old != nil {
		// The parent may still show it: it goes when released.
		if old.busy {
			old.retired = true
		} else {
			old.destroy()
		}
	}
	cs.buf, cs.hotspot, cs.owner = buf, hotspot, o
	b.input.showCursor()
	return true
}

// MoveCursor succeeds when the image's corner at x, y puts its hotspot
// where the parent's pointer is in this window.
func (o *Output) MoveCursor(x, y int) bool {
	in := &o.b.input
	if in.focus != o || o.b.cursor.owner != o {
		return false
	}
	hx, hy := float64(x+o.b.cursor.hotspot.X), float64(y+o.b.cursor.hotspot.Y)
	return math.Abs(hx-math.Floor(in.x)) <= 1 && math.Abs(hy-math.Floor(in.y)) <= 1
}

// HideCursor hides the parent's cursor over the windows.
func (o *Output) HideCursor() {
	if o.b.cursor.owner == o {
		o.b.cursor.owner = nil
		o.b.input.showCursor()
	}
}

// showCursor tells the parent what cursor the pointer shows over the
// window it is in: vitrine's client's, or none.
func (in *inputForwarder) showCursor() {
	if in.pointer == nil || in.focus == nil {
		return
	}
	cs := &in.b.cursor
	var err error
	if cs.owner == in.focus && cs.surface != nil {
		err = in.pointer.SetCursor(cs.serial, cs.surface, int32(cs.hotspot.X), int32(cs.hotspot.Y))
	} else {
		err = in.pointer.SetCursor(cs.serial, nil, 0, 0)
	}
	if err != nil {
		in.b.log.Debug("wayland backend: set the parent's cursor", "err", err)
	}
}
