package scene

import (
	"image"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/eventloop"
	"github.com/vitrine-wm/vitrine/protocol/screencopy"
	"github.com/vitrine-wm/vitrine/protocol/wl"
	"github.com/vitrine-wm/vitrine/render"
)

// wlr-screencopy: what grim uses. Frames are copied from the output's
// shadow image once every damage pending at request time has been
// composited, in the output's physical orientation (clients such as grim
// apply the wl_output transform themselves).

type screencopyManager struct{ c *Compositor }

func (screencopyManager) Destroy(*screencopy.ScreencopyManagerV1) error { return nil }

func (m screencopyManager) CaptureOutput(_ *screencopy.ScreencopyManagerV1, res *screencopy.ScreencopyFrameV1, _ int32, wlo *wl.Output) error {
	o := m.c.outputFor(wlo)
	var region image.Rectangle
	if o != nil {
		region = image.Rect(0, 0, o.width, o.height)
	}
	return m.start(res, o, region)
}

func (m screencopyManager) CaptureOutputRegion(_ *screencopy.ScreencopyManagerV1, res *screencopy.ScreencopyFrameV1, _ int32, wlo *wl.Output, x, y, w, h int32) error {
	o := m.c.outputFor(wlo)
	var region image.Rectangle
	if o != nil {
		region = clampRect(x, y, w, h).Intersect(image.Rect(0, 0, o.width, o.height))
	}
	return m.start(res, o, region)
}

func (m screencopyManager) start(res *screencopy.ScreencopyFrameV1, o *output, region image.Rectangle) error {
	f := &copyFrame{c: m.c, res: res, out: o, region: region}
	res.Handler = f
	if o == nil || region.Empty() || f.pixels().Empty() {
		res.SendFailed()
		return nil
	}
	w, h := f.size()
	res.SendBuffer(render.XRGB8888.WlShm(), uint32(w), uint32(h), uint32(w*4))
	res.SendBufferDone()
	return nil
}

type copyFrame struct {
	c      *Compositor
	res    *screencopy.ScreencopyFrameV1
	out    *output
	region image.Rectangle // logical output coordinates
	used   bool
}

// pixels is the region in shadow pixels: at an output scale, a copy
// has the panel's pixels, as grim expects.
func (f *copyFrame) pixels() image.Rectangle {
	return f.out.pixelRect(f.region).Intersect(f.out.pixelBounds())
}

// size is the region's pixels in physical orientation.
func (f *copyFrame) size() (int, int) {
	p := f.pixels()
	return f.out.dev.Transform().TransformSize(p.Dx(), p.Dy())
}

func (f *copyFrame) Destroy(*screencopy.ScreencopyFrameV1) error { return nil }

func (f *copyFrame) Copy(r *screencopy.ScreencopyFrameV1, b *wl.Buffer) error {
	return f.copy(r, b, false)
}

func (f *copyFrame) CopyWithDamage(r *screencopy.ScreencopyFrameV1, b *wl.Buffer) error {
	return f.copy(r, b, true)
}

func (f *copyFrame) copy(r *screencopy.ScreencopyFrameV1, b *wl.Buffer, withDamage bool) error {
	if f.used {
		return protocol.NewError(r, screencopy.ScreencopyFrameV1ErrorAlreadyUsed, "frame already used")
	}
	f.used = true
	if f.out == nil || f.out.gone {
		r.SendFailed()
		return nil
	}
	buf := bufferOf(b)
	w, h := f.size()
	if buf == nil || buf.pool == nil || buf.width != w || buf.height != h || buf.stride < w*4 ||
		(buf.format != render.XRGB8888 && buf.format != render.ARGB8888) {
		return protocol.NewError(r, screencopy.ScreencopyFrameV1ErrorInvalidBuffer, "buffer must be a %dx%d xrgb8888/argb8888 wl_shm buffer", w, h)
	}
	if !buf.pool.writable {
		r.SendFailed()
		return nil
	}
	buf.ref()
	o := f.out
	// Copy after the frame that includes everything pending now.
	copyOut := func() {
		defer buf.unref()
		if !f.res.Alive() {
			return
		}
		if cw, ch := f.size(); o.gone || cw != w || ch != h || !f.region.In(image.Rect(0, 0, o.width, o.height)) {
			// Unplugged, or its mode or transform changed since the
			// buffer was sized: the copy would not fit.
			f.res.SendFailed()
			return
		}
		dst := buf.image()
		if dst == nil {
			f.res.SendFailed()
			return
		}
		o.refreshShadow()
		shadow := o.dev.Shadow()
		src := subImage(shadow, f.pixels())
		err := guardFault(func() {
			render.CopyOut(dst, src, []image.Rectangle{src.Bounds()}, o.dev.Transform())
		})
		if err != nil {
			f.res.SendFailed()
			return
		}
		f.res.SendFlags(0)
		if withDamage {
			f.res.SendDamage(0, 0, uint32(w), uint32(h))
		}
		t := eventloop.Now()
		sec := uint64(t.Seconds())
		f.res.SendReady(uint32(sec>>32), uint32(sec), uint32(t.Nanoseconds()%1e9))
	}
	if o.inFlight && len(o.damage) > 0 {
		// The frame in flight was composited before this damage came:
		// wait for it, then for the next one, which shows it.
		o.copyWaiters = append(o.copyWaiters, func() {
			if o.gone {
				// Unplugged meanwhile: no next frame will come.
				copyOut()
				return
			}
			o.copyWaiters = append(o.copyWaiters, copyOut)
		})
		return nil
	}
	o.copyWaiters = append(o.copyWaiters, copyOut)
	return nil
}

// subImage views r of m (which must lie inside m) as its own image.
func subImage(m *render.Image, r image.Rectangle) *render.Image {
	bpp := m.Format.BytesPerPixel()
	off := r.Min.Y*m.Stride + r.Min.X*bpp
	return &render.Image{Pix: m.Pix[off:], Stride: m.Stride, Width: r.Dx(), Height: r.Dy(), Format: m.Format}
}
