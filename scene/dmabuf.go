package scene

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/kms/dmabuf"
	"github.com/vitrine-wm/vitrine/protocol"
	linuxdmabuf "github.com/vitrine-wm/vitrine/protocol/dmabuf"
	"github.com/vitrine-wm/vitrine/protocol/wl"
	"github.com/vitrine-wm/vitrine/render"
	"github.com/vitrine-wm/vitrine/scene/present"
)

// Scanouter is what an output adds when it can show client dma-bufs
// directly on planes (the KMS output). The scene plans each frame
// (planes.go) and commits it as one state; the output imports, tests
// and commits.
type Scanouter interface {
	// DeviceID is the display device's dev_t.
	DeviceID() uint64
	// ScanoutFormats lists what the primary plane takes: format to
	// modifiers.
	ScanoutFormats() map[uint32][]uint64
	// OverlayPlanes describes the overlay planes a state's Overlays go
	// on, bottom to top (none: the primary plane only).
	OverlayPlanes() []present.PlaneInfo
	// Commit shows a frame, instead of Present: the shadow with its
	// damage or a client buffer on the primary plane, and the overlay
	// layers, completing like Present. A part the output cannot show
	// (present.ErrScanoutRefused, present.ErrOverlayRefused) applies
	// nothing; outputs remember refusals per key and per plane
	// configuration, so they cost nothing on later frames.
	Commit(present.State) error
	// Forget drops what the output cached for key; the buffer is gone.
	Forget(key uint64)
}

// ImageScanouter is what an output adds when its framebuffer is
// ordinary memory (the headless output): it can show a fullscreen
// opaque XRGB8888/ARGB8888 client image by reference instead of a copy
// in its shadow, completing like Present. The image stays valid until
// the frame that replaces it completes.
type ImageScanouter interface {
	ScanoutImage(img *render.Image) error
}

// copyFormats are what the copy path reads from a mapped linear dma-buf:
// the RGB formats of wl_shm, and the YUV 4:2:0 formats of video decoders,
// which the renderer converts.
var copyFormats = append(slices.Clip(shmFormats), render.NV12, render.NV21, render.YUV420, render.YVU420, render.P010)

const (
	modLinear  = 0
	modInvalid = 0x00ffffffffffffff
)

// dmaBuffer is the dma-buf storage of a buffer.
type dmaBuffer struct {
	// owner is charged for the planes' fds until close.
	owner   *protocol.Client
	desc    dmabuf.Buffer
	key     uint64
	mapping *dmabuf.Mapping
	mapErr  error
	// yuv is the mapping's view as the renderer reads YUV, for YUV
	// formats.
	yuv *render.YUVImage
}

func (d *dmaBuffer) close() {
	for _, p := range d.desc.Planes {
		unix.Close(p.FD)
	}
	d.owner.ReleaseFDs(len(d.desc.Planes))
	if d.mapping != nil {
		d.mapping.Close()
	}
}

// mapped gives the copy path its view of the pixels, mapping once.
func (d *dmaBuffer) mapped(f render.Format) (*dmabuf.Mapping, error) {
	if d.mapping == nil && d.mapErr == nil {
		d.mapping, d.mapErr = dmabuf.MapPlanes(&d.desc, func(i int) (int, int) { return f.PlaneSize(i, d.desc.Width, d.desc.Height) })
		if d.mapErr == nil && f.IsYUV() {
			pl := d.mapping.Planes
			// A client cannot say which matrix its video uses (no
			// color-representation protocol here): guess from the
			// size, as players do.
			d.yuv = &render.YUVImage{Format: f, Width: d.desc.Width, Height: d.desc.Height,
				Y: pl[0].Pix, YStride: pl[0].Stride, C: pl[1].Pix, CStride: pl[1].Stride,
				Color: render.DefaultColorimetry(d.desc.Width, d.desc.Height)}
			if len(pl) == 3 {
				d.yuv.C2, d.yuv.C2Stride = pl[2].Pix, pl[2].Stride
			}
		}
	}
	return d.mapping, d.mapErr
}

// mainDevice is the device clients should allocate for: what
// SetMainDevice set, else the first scanout-capable output's display
// device; 0 when there is none (headless without DRM devices).
func (c *Compositor) mainDevice() uint64 {
	if c.mainDev != 0 {
		return c.mainDev
	}
	for _, o := range c.outputs {
		if so, ok := o.dev.(Scanouter); ok {
			return so.DeviceID()
		}
	}
	return 0
}

type formatMod struct {
	format   uint32
	modifier uint64
}

// formatTable is every pair any tranche may name, in a stable order.
func (c *Compositor) formatTable() []formatMod {
	var t []formatMod
	for _, f := range copyFormats {
		t = append(t, formatMod{uint32(f), modLinear})
	}
	for _, o := range c.outputs {
		so, ok := o.dev.(Scanouter)
		if !ok {
			continue
		}
		fmts := so.ScanoutFormats()
		keys := make([]uint32, 0, len(fmts))
		for f := range fmts {
			keys = append(keys, f)
		}
		slices.Sort(keys)
		for _, f := range keys {
			for _, m := range fmts[f] {
				if !slices.Contains(t, formatMod{f, m}) {
					t = append(t, formatMod{f, m})
				}
			}
		}
	}
	return t
}

// acceptable reports whether a buffer of format/modifier can be shown at
// all: by the copy path, or by some output's plane.
func (c *Compositor) acceptable(format uint32, modifier uint64) bool {
	if modifier == modLinear || modifier == modInvalid {
		if slices.Contains(copyFormats, render.Format(format)) {
			return true
		}
	}
	for _, o := range c.outputs {
		if so, ok := o.dev.(Scanouter); ok && slices.Contains(so.ScanoutFormats()[format], modifier) {
			return true
		}
	}
	return false
}

func devBytes(dev uint64) []byte { return binary.LittleEndian.AppendUint64(nil, dev) }

type dmabufGlobal struct{ c *Compositor }

func (c *Compositor) bindDmabuf(pc *protocol.Client, version, id uint32) error {
	res, err := linuxdmabuf.NewLinuxDmabufV1(pc, id, version)
	if err != nil {
		return err
	}
	res.Handler = dmabufGlobal{c}
	if version < 4 {
		for _, fm := range c.formatTable() {
			if version < 3 {
				res.SendFormat(fm.format)
			} else {
				res.SendModifier(fm.format, uint32(fm.modifier>>32), uint32(fm.modifier))
			}
		}
	}
	return nil
}

func (dmabufGlobal) Destroy(*linuxdmabuf.LinuxDmabufV1) error { return nil }

func (g dmabufGlobal) CreateParams(_ *linuxdmabuf.LinuxDmabufV1, res *linuxdmabuf.LinuxBufferParamsV1) error {
	p := &bufferParams{c: g.c, res: res}
	res.Handler = p
	res.OnDestroy(p.closeFDs)
	return nil
}

func (g dmabufGlobal) GetDefaultFeedback(_ *linuxdmabuf.LinuxDmabufV1, res *linuxdmabuf.LinuxDmabufFeedbackV1) error {
	res.Handler = feedbackHandler{}
	return g.c.sendFeedback(res, nil)
}

func (g dmabufGlobal) GetSurfaceFeedback(_ *linuxdmabuf.LinuxDmabufV1, res *linuxdmabuf.LinuxDmabufFeedbackV1, ws *wl.Surface) error {
	res.Handler = feedbackHandler{}
	s := surfaceOf(ws)
	s.dmabufFeedbacks = append(s.dmabufFeedbacks, res)
	res.OnDestroy(func() {
		s.dmabufFeedbacks = slices.DeleteFunc(s.dmabufFeedbacks, func(x *linuxdmabuf.LinuxDmabufFeedbackV1) bool { return x == res })
	})
	return g.c.sendFeedback(res, s)
}

type feedbackHandler struct{}

func (feedbackHandler) Destroy(*linuxdmabuf.LinuxDmabufFeedbackV1) error { return nil }

// scanoutTarget is the output whose plane s could be shown on: it is a
// toplevel that fills its output (every kiosk toplevel but a dialog).
func (c *Compositor) scanoutTarget(s *surface) Scanouter {
	if s == nil {
		return nil
	}
	xs, _ := s.role.(*xdgSurface)
	if xs == nil || xs.toplevel == nil || !xs.toplevel.fills() {
		return nil
	}
	o := c.outputForToplevel(xs.toplevel)
	if o == nil {
		return nil
	}
	so, _ := o.dev.(Scanouter)
	return so
}

// sendFeedback sends the format table and tranches: first what the
// display's plane takes (for a surface that could be scanned out), then
// what the copy path reads.
func (c *Compositor) sendFeedback(res *linuxdmabuf.LinuxDmabufFeedbackV1, s *surface) error {
	table := c.formatTable()
	buf := make([]byte, 16*len(table))
	for i, fm := range table {
		binary.LittleEndian.PutUint32(buf[16*i:], fm.format)
		binary.LittleEndian.PutUint64(buf[16*i+8:], fm.modifier)
	}
	fd, err := unix.MemfdCreate("vitrine-dmabuf-formats", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return protocol.NewError(res, protocol.ErrNoMemory, "format table: %v", err)
	}
	defer unix.Close(fd)
	if _, err := unix.Write(fd, buf); err != nil {
		return protocol.NewError(res, protocol.ErrNoMemory, "format table: %v", err)
	}
	// Clients map it read-only; sealing makes sure nobody can change it.
	unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_WRITE|unix.F_SEAL_SEAL)
	res.SendFormatTable(fd, uint32(len(buf)))
	main := c.mainDevice()
	res.SendMainDevice(devBytes(main))
	if so, idx := c.scanoutTranche(s, table); len(idx) > 0 {
		// The display device's own tranche: what its plane takes and
		// has not refused for this surface.
		res.SendTrancheTargetDevice(devBytes(so.DeviceID()))
		res.SendTrancheFlags(linuxdmabuf.LinuxDmabufFeedbackV1TrancheFlagsScanout)
		res.SendTrancheFormats(idx)
		res.SendTrancheDone()
		s.feedbackScanout = string(idx)
	} else if s != nil {
		s.feedbackScanout = ""
	}
	var idx []byte
	for i := range copyFormats {
		idx = binary.LittleEndian.AppendUint16(idx, uint16(i))
	}
	res.SendTrancheTargetDevice(devBytes(main))
	res.SendTrancheFlags(0)
	res.SendTrancheFormats(idx)
	res.SendTrancheDone()
	res.SendDone()
	return nil
}

// scanoutTranche is the format table indices (little-endian uint16s)
// of s's scanout tranche and the output it is for: the pairs the plane
// takes, less those refused for s since the displays last changed.
func (c *Compositor) scanoutTranche(s *surface, table []formatMod) (Scanouter, []byte) {
	so := c.scanoutTarget(s)
	if so == nil {
		return nil, nil
	}
	if s.refusedEpoch != c.displayEpoch {
		s.refused = s.refused[:0]
	}
	var idx []byte
	fmts := so.ScanoutFormats()
	for i, fm := range table {
		if slices.Contains(fmts[fm.format], fm.modifier) && !slices.Contains(s.refused, fm) {
			idx = binary.LittleEndian.AppendUint16(idx, uint16(i))
		}
	}
	return so, idx
}

// refuseScanout records that the display would not scan out s's buffer
// of format/modifier, and tells s's client to allocate otherwise.
func (c *Compositor) refuseScanout(s *surface, format uint32, modifier uint64) {
	if s.refusedEpoch != c.displayEpoch {
		s.refused, s.refusedEpoch = s.refused[:0], c.displayEpoch
	}
	if fm := (formatMod{format, modifier}); !slices.Contains(s.refused, fm) {
		s.refused = append(s.refused, fm)
		c.refreshFeedback(s)
	}
}

// displaysChanged follows an output added or removed or a mode change:
// scanout refusals no longer hold, and every surface's scanout tranche
// is worked out again.
func (c *Compositor) displaysChanged() {
	c.displayEpoch++
	for _, t := range c.toplevels {
		c.refreshFeedback(t.xs.surface)
	}
}

// refreshFeedback re-sends surface feedback when its scanout tranche
// changed.
func (c *Compositor) refreshFeedback(s *surface) {
	if len(s.dmabufFeedbacks) == 0 {
		return
	}
	if _, idx := c.scanoutTranche(s, c.formatTable()); string(idx) == s.feedbackScanout {
		return
	}
	for _, res := range s.dmabufFeedbacks {
		if err := c.sendFeedback(res, s); err != nil {
			c.log.Warn("resend dma-buf feedback", "err", err)
		}
	}
}

// --- zwp_linux_buffer_params_v1 ---

const maxPlanes = 4

type bufferParams struct {
	c      *Compositor
	res    *linuxdmabuf.LinuxBufferParamsV1
	planes [maxPlanes]*dmabuf.Plane
	mods   [maxPlanes]uint64
	used   bool
}

func (p *bufferParams) closeFDs() {
	for i, pl := range p.planes {
		if pl != nil {
			unix.Close(pl.FD)
			p.res.Client().ReleaseFDs(1)
			p.planes[i] = nil
		}
	}
}

func (p *bufferParams) Destroy(*linuxdmabuf.LinuxBufferParamsV1) error { return nil }

func (p *bufferParams) Add(r *linuxdmabuf.LinuxBufferParamsV1, fd int, idx, offset, stride, modHi, modLo uint32) error {
	if p.used {
		unix.Close(fd)
		return protocol.NewError(r, linuxdmabuf.LinuxBufferParamsV1ErrorAlreadyUsed, "params already used to create a buffer")
	}
	if idx >= maxPlanes {
		unix.Close(fd)
		return protocol.NewError(r, linuxdmabuf.LinuxBufferParamsV1ErrorPlaneIdx, "plane index %d out of range (max %d)", idx, maxPlanes-1)
	}
	if p.planes[idx] != nil {
		unix.Close(fd)
		return protocol.NewError(r, linuxdmabuf.LinuxBufferParamsV1ErrorPlaneSet, "plane %d already set", idx)
	}
	if err := r.Client().HoldFDs(1); err != nil {
		unix.Close(fd)
		return err
	}
	p.planes[idx] = &dmabuf.Plane{FD: fd, Offset: offset, Stride: stride}
	p.mods[idx] = uint64(modHi)<<32 | uint64(modLo)
	return nil
}

// planeCount is how many planes format has: render knows the YUV
// formats; anything else (accepted only for direct scanout) is taken as
// single-plane.
func planeCount(format uint32) int { return render.Format(format).Planes() }

// maxPlaneStride bounds a plane's stride: the renderer refuses longer
// rows (a 16384-pixel 32-bit row is 64 KiB), so a larger one can only be
// a mistake or an attack.
const maxPlaneStride = 1 << 20

// validate checks the params against the protocol and the fds' real
// sizes, returning a protocol error or the buffer description.
func (p *bufferParams) validate(w, h int32, format uint32) (*dmabuf.Buffer, error) {
	r := p.res
	if p.used {
		return nil, protocol.NewError(r, linuxdmabuf.LinuxBufferParamsV1ErrorAlreadyUsed, "params already used")
	}
	p.used = true
	n := planeCount(format)
	for i := 0; i < maxPlanes; i++ {
		if (i < n) != (p.planes[i] != nil) {
			if i < n {
				return nil, protocol.NewError(r, linuxdmabuf.LinuxBufferParamsV1ErrorIncomplete, "format %s needs %d planes, plane %d missing", render.Format(format), n, i)
			}
			return nil, protocol.NewError(r, linuxdmabuf.LinuxBufferParamsV1ErrorIncomplete, "format %s has %d planes, plane %d given", render.Format(format), n, i)
		}
	}
	if w <= 0 || h <= 0 || w > 16384 || h > 16384 {
		return nil, protocol.NewError(r, linuxdmabuf.LinuxBufferParamsV1ErrorInvalidDimensions, "invalid size %dx%d", w, h)
	}
	mod := p.mods[0]
	for i := 1; i < n; i++ {
		if p.mods[i] != mod {
			return nil, protocol.NewError(r, linuxdmabuf.LinuxBufferParamsV1ErrorInvalidFormat, "planes have different modifiers")
		}
	}
	if !p.c.acceptable(format, mod) {
		return nil, protocol.NewError(r, linuxdmabuf.LinuxBufferParamsV1ErrorInvalidFormat, "format %s with modifier 0x%016x is not supported", render.Format(format), mod)
	}
	b := &dmabuf.Buffer{Width: int(w), Height: int(h), Format: format, Modifier: mod}
	f := render.Format(format)
	linear := mod == modLinear || mod == modInvalid
	for i := 0; i < n; i++ {
		pl := p.planes[i]
		size, err := dmabuf.Size(pl.FD)
		if err != nil && !dmabuf.IsDMABuf(pl.FD) {
			// A pipe or socket cannot be sized: it is not what the
			// request says, which is not a bounds error.
			return nil, fmt.Errorf("plane %d: %w", i, errNotDMABuf)
		}
		if err != nil {
			return nil, protocol.NewError(r, linuxdmabuf.LinuxBufferParamsV1ErrorOutOfBounds, "plane %d: cannot size fd: %v", i, err)
		}
		if int64(pl.Offset) >= size {
			return nil, protocol.NewError(r, linuxdmabuf.LinuxBufferParamsV1ErrorOutOfBounds, "plane %d: offset %d is past the %d-byte buffer", i, pl.Offset, size)
		}
		if pl.Stride == 0 || pl.Stride > maxPlaneStride {
			return nil, protocol.NewError(r, linuxdmabuf.LinuxBufferParamsV1ErrorOutOfBounds, "plane %d: stride %d is not between 1 and %d", i, pl.Stride, maxPlaneStride)
		}
		// Linear layouts the renderer knows are checked exactly, each
		// plane against its own dma-buf (planes may be disjoint); tiled
		// ones only as far as the stride and height go.
		if row, rows := f.PlaneSize(i, int(w), int(h)); linear && row > 0 {
			if int64(pl.Stride) < int64(row) {
				return nil, protocol.NewError(r, linuxdmabuf.LinuxBufferParamsV1ErrorOutOfBounds, "plane %d: stride %d is shorter than a row of %d pixels (%d bytes)", i, pl.Stride, w, row)
			}
			if int64(pl.Offset)+int64(pl.Stride)*int64(rows-1)+int64(row) > size {
				return nil, protocol.NewError(r, linuxdmabuf.LinuxBufferParamsV1ErrorOutOfBounds, "plane %d: %d rows of %d bytes at offset %d, stride %d need more than the %d-byte buffer", i, rows, row, pl.Offset, pl.Stride, size)
			}
		} else if int64(pl.Offset)+int64(pl.Stride)*int64(h) > size*2 {
			return nil, protocol.NewError(r, linuxdmabuf.LinuxBufferParamsV1ErrorOutOfBounds, "plane %d: stride %d × height %d is far past the %d-byte buffer", i, pl.Stride, h, size)
		}
		b.Planes = append(b.Planes, *pl)
	}
	return b, nil
}

// errNotDMABuf is an import failure (a failed event, or invalid_wl_buffer
// for create_immed), not a malformed request.
var errNotDMABuf = errors.New("fd is not a dma-buf")

// build turns validated params into buffer storage, taking the fds.
func (p *bufferParams) build(b *dmabuf.Buffer, res *wl.Buffer) (*buffer, error) {
	for i, pl := range b.Planes {
		if !dmabuf.IsDMABuf(pl.FD) {
			return nil, fmt.Errorf("plane %d: %w", i, errNotDMABuf)
		}
	}
	p.c.nextBufferKey++
	f := render.Format(b.Format)
	nb := &buffer{res: res, refs: 1, width: b.Width, height: b.Height, format: f, opaque: !f.HasAlpha(),
		dma: &dmaBuffer{owner: p.res.Client(), desc: *b, key: p.c.nextBufferKey}}
	// The buffer owns the fds now.
	p.planes = [maxPlanes]*dmabuf.Plane{}
	return nb, nil
}

func (p *bufferParams) Create(r *linuxdmabuf.LinuxBufferParamsV1, w, h int32, format, flags uint32) error {
	res := &wl.Buffer{}
	nb, importErr, err := p.importBuffer(res, w, h, format, 1)
	if err != nil {
		return err
	}
	if importErr != nil {
		p.c.log.Info("dma-buf import failed", "pid", r.Client().PID, "err", importErr)
		r.SendFailed()
		return nil
	}
	protocol.RegisterServer(r.Client(), res, wl.BufferInterface, 1)
	p.c.adoptBuffer(nb, res)
	r.SendCreated(res)
	return nil
}

func (p *bufferParams) CreateImmed(r *linuxdmabuf.LinuxBufferParamsV1, res *wl.Buffer, w, h int32, format, flags uint32) error {
	nb, importErr, err := p.importBuffer(res, w, h, format, 0)
	if err != nil {
		return err
	}
	if importErr != nil {
		return protocol.NewError(r, linuxdmabuf.LinuxBufferParamsV1ErrorInvalidWlBuffer, "%v", importErr)
	}
	p.c.adoptBuffer(nb, res)
	return nil
}

// importBuffer validates the params and builds the buffer for res. A
// protocol error (err) ends the client; an import error is the client's
// to handle: create reports it with failed, create_immed with
// invalid_wl_buffer. extra counts a wl_buffer not registered yet.
func (p *bufferParams) importBuffer(res *wl.Buffer, w, h int32, format uint32, extra int) (nb *buffer, importErr, err error) {
	if err := p.c.checkBuffers(p.res, extra); err != nil {
		return nil, nil, err
	}
	b, err := p.validate(w, h, format)
	if errors.Is(err, errNotDMABuf) {
		return nil, err, nil
	}
	if err != nil {
		return nil, nil, err
	}
	nb, importErr = p.build(b, res)
	return nb, importErr, nil
}

// adoptBuffer attaches dma-buf storage to its wl_buffer.
func (c *Compositor) adoptBuffer(nb *buffer, res *wl.Buffer) {
	res.Handler = nb
	res.OnDestroy(nb.destroyed)
	nb.onFree = func() {
		for _, o := range c.outputs {
			if so, ok := o.dev.(Scanouter); ok {
				so.Forget(nb.dma.key)
			}
		}
		nb.dma.close()
	}
}
