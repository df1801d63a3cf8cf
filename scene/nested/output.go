package nested

import (
	"errors"
	"fmt"
	"image"
	"slices"
	"time"

	"github.com/neurlang/wayland/wl"
	"github.com/neurlang/wayland/xdg"
	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/render"
	"github.com/vitrine-wm/vitrine/scene/present"
)

// wlShmXRGB8888 is wl_shm.format xrgb8888, which every compositor takes.
const wlShmXRGB8888 = 1

// maxBuffers bounds a window's swapchain: the parent holds one on
// screen and releases it after the next commit, so two are the rule and
// a third covers a parent that releases late.
const maxBuffers = 3

// Output is one window in the parent compositor, an output of vitrine.
type Output struct {
	b        *Backend
	name     string
	surface  *wl.Surface
	xdg      *xdg.Surface
	toplevel *xdg.Toplevel

	width, height int
	mhz           int
	shadow        *render.Image
	buffers       []*shmBuffer
	copier        render.Copier
	copied        int64

	// Configure state: the size of the last toplevel configure, and the
	// serial to ack before the next commit (which carries that size).
	pendingSize image.Point
	ackSerial   uint32
	mustAck     bool
	configured  bool

	inFlight bool
	seq      uint64
	gone     bool
}

func (b *Backend) newOutput(name string) (*Output, error) {
	o := &Output{b: b, name: name, width: b.cfg.Width, height: b.cfg.Height, mhz: b.cfg.RefreshMilliHz}
	var err error
	if o.surface, err = b.compositor.CreateSurface(); err != nil {
		return nil, fmt.Errorf("create surface: %w", err)
	}
	if o.xdg, err = b.wmBase.GetSurface(o.surface); err != nil {
		return nil, fmt.Errorf("get xdg_surface: %w", err)
	}
	o.xdg.AddConfigureHandler(o)
	if o.toplevel, err = o.xdg.GetToplevel(); err != nil {
		return nil, fmt.Errorf("get xdg_toplevel: %w", err)
	}
	o.toplevel.AddConfigureHandler(o)
	o.toplevel.AddCloseHandler(o)
	if err := o.toplevel.SetTitle("vitrine " + name); err != nil {
		return nil, err
	}
	if err := o.toplevel.SetAppId("vitrine"); err != nil {
		return nil, err
	}
	// The initial commit without a buffer asks for the first configure.
	if err := o.surface.Commit(); err != nil {
		return nil, fmt.Errorf("initial commit: %w", err)
	}
	o.shadow = render.NewImage(o.width, o.height, render.XRGB8888)
	return o, nil
}

// showBlack maps the window at once: the scene paints only what
// changes, and an output starts black.
func (o *Output) showBlack() error {
	o.applyConfigure()
	buf, err := o.freeBuffer()
	if err != nil {
		return err
	}
	if err := o.ack(); err != nil {
		return err
	}
	if err := o.surface.Attach(buf.wl, 0, 0); err != nil {
		return err
	}
	buf.busy = true
	return o.surface.Commit()
}

func (o *Output) Name() string { return o.name }
func (o *Output) Description() string {
	return fmt.Sprintf("vitrine window %s on %s", o.name, o.b.name)
}
func (o *Output) Mode() (int, int, int)       { return o.width, o.height, o.mhz }
func (o *Output) PhysicalSize() (int, int)    { return 0, 0 }
func (o *Output) Transform() render.Transform { return render.Normal }
func (o *Output) Shadow() *render.Image       { return o.shadow }
func (o *Output) CopiedBytes() int64          { return o.copied }

// Close destroys the window; the backend's connection stays.
func (o *Output) Close() error {
	o.release()
	return nil
}

func (o *Output) release() {
	if o.gone {
		return
	}
	o.gone = true
	for _, buf := range o.buffers {
		buf.destroy()
	}
	o.buffers = nil
	o.toplevel.Destroy()
	o.xdg.Destroy()
	o.surface.Destroy()
}

// Present copies what changed into a buffer the parent does not hold
// and commits it with that damage and a frame callback, whose done is
// the vblank. A buffer brings itself up to date with every rectangle
// damaged since it was last shown, so it never needs a full copy after
// its first.
func (o *Output) Present(damage []image.Rectangle) error {
	if o.gone {
		return errors.New("the window is closed")
	}
	buf, err := o.freeBuffer()
	if err != nil {
		return err
	}
	for _, other := range o.buffers {
		for _, r := range damage {
			other.stale.Add(r)
		}
	}
	o.copied += int64(o.copier.CopyOut(buf.img, o.shadow, buf.stale, render.Normal))
	buf.stale = buf.stale[:0]
	if err := o.ack(); err != nil {
		return err
	}
	if err := o.surface.Attach(buf.wl, 0, 0); err != nil {
		return err
	}
	for _, r := range damage {
		if err := o.surface.DamageBuffer(int32(r.Min.X), int32(r.Min.Y), int32(r.Dx()), int32(r.Dy())); err != nil {
			return err
		}
	}
	cb, err := o.surface.Frame()
	if err != nil {
		return err
	}
	cb.AddDoneHandler(frameDone{o, cb})
	buf.busy = true
	o.inFlight = true
	return o.surface.Commit()
}

// frameDone is the vblank of one frame.
type frameDone struct {
	o  *Output
	cb *wl.Callback
}

func (f frameDone) HandleCallbackDone(wl.CallbackDoneEvent) {
	f.cb.Unregister()
	o := f.o
	if o.gone || !o.inFlight {
		return
	}
	o.inFlight = false
	o.seq++
	if o.b.cfg.PresentDone != nil {
		o.b.cfg.PresentDone(o, present.Info{Time: now(), Seq: o.seq, Refresh: time.Duration(1e12 / int64(o.mhz))})
	}
}

// ack acknowledges the last configure, right before the commit that
// applies its size.
func (o *Output) ack() error {
	if !o.mustAck {
		return nil
	}
	o.mustAck = false
	return o.xdg.AckConfigure(o.ackSerial)
}

// HandleToplevelConfigure records the size the parent wants (0: ours).
func (o *Output) HandleToplevelConfigure(ev xdg.ToplevelConfigureEvent) {
	o.pendingSize = image.Pt(int(ev.Width), int(ev.Height))
}

// HandleSurfaceConfigure applies the configure: a new size makes a new
// shadow and new buffers, and the scene repaints everything.
func (o *Output) HandleSurfaceConfigure(ev xdg.SurfaceConfigureEvent) {
	o.ackSerial, o.mustAck = ev.Serial, true
	first := !o.configured
	o.configured = true
	if first {
		// Connect maps the window (showBlack) once the round trip ends.
		return
	}
	if !o.applyConfigure() {
		// Same size: nothing to draw for it, acknowledge now.
		if err := o.ack(); err != nil {
			o.b.log.Warn("wayland backend: ack configure", "output", o.name, "err", err)
		}
		return
	}
	o.b.log.Info("wayland backend: window resized", "output", o.name, "size", image.Pt(o.width, o.height))
	if o.b.cfg.Resized != nil {
		o.b.cfg.Resized(o)
	}
}

// applyConfigure takes the configured size; it reports whether the size
// changed.
func (o *Output) applyConfigure() bool {
	w, h := o.pendingSize.X, o.pendingSize.Y
	if w <= 0 || h <= 0 || w > 16384 || h > 16384 {
		w, h = o.width, o.height
	}
	changed := w != o.width || h != o.height
	o.width, o.height = w, h
	if changed {
		o.shadow = render.NewImage(w, h, render.XRGB8888)
		// Buffers of the old size go when the parent gives them back.
		o.buffers = slices.DeleteFunc(o.buffers, func(buf *shmBuffer) bool {
			if buf.busy {
				buf.retired = true
			} else {
				buf.destroy()
			}
			return true
		})
	}
	return changed
}

// HandleToplevelClose is the user closing the window.
func (o *Output) HandleToplevelClose(xdg.ToplevelCloseEvent) {
	o.b.log.Info("wayland backend: the parent compositor closed the window", "output", o.name)
	o.b.fail(nil)
}

// freeBuffer is a buffer of the current size the parent does not hold,
// made if there is none and the swapchain has room.
func (o *Output) freeBuffer() (*shmBuffer, error) {
	for _, buf := range o.buffers {
		if !buf.busy {
			return buf, nil
		}
	}
	if len(o.buffers) >= maxBuffers {
		return nil, fmt.Errorf("all %d buffers are held by the parent compositor", len(o.buffers))
	}
	buf, err := o.newBuffer(o.width, o.height)
	if err != nil {
		return nil, err
	}
	o.buffers = append(o.buffers, buf)
	return buf, nil
}

// shmBuffer is one wl_shm buffer in its own memfd.
type shmBuffer struct {
	o       *Output
	wl      *wl.Buffer
	img     *render.Image
	mem     []byte
	stale   render.Damage // what changed since its contents were drawn
	busy    bool          // attached and not yet released by the parent
	retired bool          // of an old size: destroyed when released
}

func (o *Output) newBuffer(w, h int) (*shmBuffer, error) {
	stride := w * 4
	size := stride * h
	fd, err := unix.MemfdCreate("vitrine-wayland-output", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		return nil, fmt.Errorf("size the %d-byte buffer: %w", size, err)
	}
	// The parent must never see the file shrink under its mapping.
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, unix.F_SEAL_SHRINK|unix.F_SEAL_SEAL); err != nil {
		return nil, fmt.Errorf("seal the buffer: %w", err)
	}
	mem, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mmap %d bytes: %w", size, err)
	}
	pool, err := o.b.shm.CreatePool(uintptr(fd), int32(size))
	if err != nil {
		unix.Munmap(mem)
		return nil, fmt.Errorf("create shm pool: %w", err)
	}
	wb, err := pool.CreateBuffer(0, int32(w), int32(h), int32(stride), wlShmXRGB8888)
	// The buffer keeps the memory alive in the parent.
	pool.Destroy()
	pool.Unregister()
	if err != nil {
		unix.Munmap(mem)
		return nil, fmt.Errorf("create shm buffer: %w", err)
	}
	buf := &shmBuffer{o: o, wl: wb, mem: mem,
		img: &render.Image{Pix: mem, Stride: stride, Width: w, Height: h, Format: render.XRGB8888}}
	// A new buffer's memory is zero: black, what the scene has not
	// painted yet; anything painted since must be copied.
	buf.stale.Add(image.Rect(0, 0, w, h))
	wb.AddReleaseHandler(buf)
	return buf, nil
}

// HandleBufferRelease is the parent done reading the buffer.
func (buf *shmBuffer) HandleBufferRelease(wl.BufferReleaseEvent) {
	buf.busy = false
	if buf.retired {
		buf.destroy()
	}
}

func (buf *shmBuffer) destroy() {
	if buf.wl == nil {
		return
	}
	buf.wl.Destroy()
	buf.wl.Unregister()
	buf.wl = nil
	unix.Munmap(buf.mem)
	buf.mem, buf.img = nil, nil
}
