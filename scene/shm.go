package scene

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/singlepixel"
	"github.com/vitrine-wm/vitrine/protocol/wl"
	"github.com/vitrine-wm/vitrine/render"
)

// shmFormats are the wl_shm formats the renderer reads.
var shmFormats = []render.Format{render.ARGB8888, render.XRGB8888, render.ABGR8888, render.XBGR8888, render.RGB565}

// maxPoolSize keeps a client from making the compositor map absurd
// amounts of address space (it matters on 32-bit boards).
const maxPoolSize = 1 << 30

// buffer is the storage behind a wl_buffer. Its pixels are read at
// composite time, so it lives until no surface shows it and the client
// destroyed it.
type buffer struct {
	res    *wl.Buffer
	refs   int // the wl_buffer itself, pending/cached attaches, surfaces
	users  int // surfaces whose current state shows it
	width  int
	height int
	format render.Format
	opaque bool

	// wl_shm storage.
	pool   *shmPool
	offset int
	stride int
	view   render.Image // image's result

	// Storage that is not in a pool (single-pixel buffers).
	solid *render.Image
	// dma-buf storage.
	dma *dmaBuffer
	// onFree releases storage that is not a pool's.
	onFree func()

	// scanouts counts outputs that show or are about to show the buffer
	// on a plane; its release waits until none does.
	scanouts        int
	releaseDeferred bool
}

func bufferOf(b *wl.Buffer) *buffer {
	nb, _ := b.Handler.(*buffer)
	return nb
}

func (b *buffer) ref() { b.refs++ }

func (b *buffer) unref() {
	b.refs--
	if b.refs > 0 {
		return
	}
	if b.pool != nil {
		b.pool.unref()
		b.pool = nil
	}
	if b.onFree != nil {
		b.onFree()
		b.onFree = nil
	}
}

// release tells the client the compositor is done with the contents. A
// buffer still on a plane is released once the flip that replaces it
// has completed.
//
// withFrame queues the release to travel with the client's next event
// instead of writing it at once: the caller knows a frame callback (or
// presentation feedback) of the client's is due within a refresh, and
// a client that asked for one draws only when it arrives. Delivered
// together, they cost the client and vitrine one wake-up instead of two.
func (b *buffer) release(withFrame bool) {
	if b.scanouts > 0 {
		b.releaseDeferred = true
		return
	}
	b.releaseDeferred = false
	if !b.res.Alive() {
		return
	}
	if withFrame {
		b.res.QueueRelease()
	} else {
		b.res.SendRelease()
	}
}

// Destroy is wl_buffer.destroy: the storage may stay mapped while a
// surface still shows it.
func (b *buffer) Destroy(*wl.Buffer) error { return nil }

func (b *buffer) destroyed() { b.unref() }

// image views the buffer's pixels. For wl_shm the view is rebuilt on
// every use because wl_shm_pool.resize may move the mapping.
func (b *buffer) image() *render.Image {
	if b.solid != nil {
		return b.solid
	}
	if b.pool == nil || b.pool.data == nil {
		return nil
	}
	end := b.offset + b.stride*b.height
	// The view lives in the buffer so a frame allocates nothing for it.
	b.view = render.Image{Pix: b.pool.data[b.offset:end], Stride: b.stride, Width: b.width, Height: b.height, Format: b.format}
	return &b.view
}

func (c *Compositor) bindShm(pc *protocol.Client, version, id uint32) error {
	shm, err := wl.NewShm(pc, id, version)
	if err != nil {
		return err
	}
	shm.Handler = shmHandler{c}
	for _, f := range shmFormats {
		shm.SendFormat(f.WlShm())
	}
	return nil
}

type shmHandler struct{ c *Compositor }

func (h shmHandler) CreatePool(r *wl.Shm, pool *wl.ShmPool, fd int, size int32) error {
	defer unix.Close(fd)
	if size <= 0 || size > maxPoolSize {
		return protocol.NewError(r, wl.ShmErrorInvalidStride, "invalid pool size %d", size)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return protocol.NewError(r, wl.ShmErrorInvalidFd, "fstat pool fd: %v", err)
	}
	if st.Mode&unix.S_IFMT == unix.S_IFREG && st.Size < int64(size) {
		return protocol.NewError(r, wl.ShmErrorInvalidFd, "pool size %d is larger than the file (%d bytes)", size, st.Size)
	}
	data, writable, err := mapPool(fd, int(size))
	if err != nil {
		return protocol.NewError(r, wl.ShmErrorInvalidFd, "mmap pool fd of %d bytes: %v", size, err)
	}
	owner := r.Client()
	if err := owner.HoldFDs(1); err != nil {
		unix.Munmap(data)
		return err
	}
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		unix.Munmap(data)
		owner.ReleaseFDs(1)
		return protocol.NewError(r, protocol.ErrNoMemory, "dup pool fd: %v", err)
	}
	p := &shmPool{c: h.c, owner: owner, fd: dup, data: data, size: int(size), refs: 1, isFile: st.Mode&unix.S_IFMT == unix.S_IFREG, writable: writable}
	pool.Handler = p
	pool.OnDestroy(p.unref)
	return nil
}

type shmPool struct {
	c *Compositor
	// owner is charged for fd until the pool is unmapped.
	owner  *protocol.Client
	fd     int
	data   []byte
	size   int
	refs   int // the wl_shm_pool plus every buffer storage made from it
	isFile bool
	// writable pools can receive screen copies; a client may hand over a
	// read-only fd for buffers it only wants shown.
	writable bool
}

// mapPool maps a client's pool, read-write when the fd allows it.
func mapPool(fd, size int) ([]byte, bool, error) {
	data, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err == nil {
		return data, true, nil
	}
	data, err = unix.Mmap(fd, 0, size, unix.PROT_READ, unix.MAP_SHARED)
	return data, false, err
}

func (p *shmPool) unref() {
	p.refs--
	if p.refs == 0 {
		unix.Munmap(p.data)
		unix.Close(p.fd)
		p.owner.ReleaseFDs(1)
		p.data = nil
	}
}

func (p *shmPool) CreateBuffer(r *wl.ShmPool, res *wl.Buffer, offset, width, height, stride int32, format uint32) error {
	f, ok := render.FormatFromWlShm(format)
	if !ok || !supportedShm(f) {
		return protocol.NewError(r, wl.ShmErrorInvalidFormat, "unsupported format 0x%08x", format)
	}
	if width <= 0 || height <= 0 || stride <= 0 || offset < 0 {
		return protocol.NewError(r, wl.ShmErrorInvalidStride, "invalid buffer: offset %d, %dx%d, stride %d", offset, width, height, stride)
	}
	if int64(stride) < int64(width)*int64(f.BytesPerPixel()) {
		return protocol.NewError(r, wl.ShmErrorInvalidStride, "stride %d is shorter than a row of %d %s pixels", stride, width, f)
	}
	if err := p.c.checkBuffers(r, 0); err != nil {
		return err
	}
	if int64(offset)+int64(stride)*int64(height) > int64(p.size) {
		return protocol.NewError(r, wl.ShmErrorInvalidStride, "buffer at offset %d, stride %d, height %d ends past the %d-byte pool", offset, stride, height, p.size)
	}
	b := &buffer{res: res, refs: 1, width: int(width), height: int(height), format: f, opaque: !f.HasAlpha(),
		pool: p, offset: int(offset), stride: int(stride)}
	p.refs++
	res.Handler = b
	res.OnDestroy(b.destroyed)
	return nil
}

func supportedShm(f render.Format) bool {
	for _, s := range shmFormats {
		if s == f {
			return true
		}
	}
	return false
}

func (p *shmPool) Destroy(*wl.ShmPool) error { return nil }

func (p *shmPool) Resize(r *wl.ShmPool, size int32) error {
	if int(size) < p.size || size > maxPoolSize {
		return protocol.NewError(r, wl.ShmErrorInvalidStride, "pool can only grow: %d -> %d", p.size, size)
	}
	if int(size) == p.size {
		return nil
	}
	if p.isFile {
		var st unix.Stat_t
		if err := unix.Fstat(p.fd, &st); err == nil && st.Size < int64(size) {
			return protocol.NewError(r, wl.ShmErrorInvalidFd, "pool resized to %d but the file has %d bytes", size, st.Size)
		}
	}
	data, writable, err := mapPool(p.fd, int(size))
	if err != nil {
		return protocol.NewError(r, wl.ShmErrorInvalidFd, "mmap resized pool: %v", err)
	}
	unix.Munmap(p.data)
	p.data, p.size, p.writable = data, int(size), writable
	return nil
}

// --- wp_single_pixel_buffer_manager_v1 ---

type singlePixelManager struct{ c *Compositor }

func (singlePixelManager) Destroy(*singlepixel.SinglePixelBufferManagerV1) error { return nil }

func (m singlePixelManager) CreateU32RgbaBuffer(mgr *singlepixel.SinglePixelBufferManagerV1, res *wl.Buffer, r, g, b, a uint32) error {
	if err := m.c.checkBuffers(mgr, 0); err != nil {
		return err
	}
	img := render.NewImage(1, 1, render.ARGB8888)
	// The protocol's values are premultiplied and span the full uint32.
	px := a>>24<<24 | r>>24<<16 | g>>24<<8 | b>>24
	binary.LittleEndian.PutUint32(img.Pix, px)
	nb := &buffer{res: res, refs: 1, width: 1, height: 1, format: render.ARGB8888, opaque: a == 0xffffffff, solid: img}
	res.Handler = nb
	res.OnDestroy(nb.destroyed)
	return nil
}

// faultError is how a client's vanished shm memory shows up.
type faultError struct{ addr uintptr }

func (e faultError) Error() string { return fmt.Sprintf("buffer memory fault at %#x", e.addr) }
