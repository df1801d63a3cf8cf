package kms

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// DumbBuffer is a CPU-mappable scanout buffer allocated by the display
// driver. The mapping may be write-combined or I/O memory: write to it in
// order, never read from it.
type DumbBuffer struct {
	Handle uint32
	Width  int
	Height int
	Bpp    int
	Pitch  int
	Size   int
	Map    []byte // nil until Map
}

// CreateDumb allocates a dumb buffer. Render nodes refuse (EACCES).
func (d *Device) CreateDumb(width, height, bpp int) (*DumbBuffer, error) {
	c := modeCreateDumb{Width: uint32(width), Height: uint32(height), Bpp: uint32(bpp)}
	if err := d.ioctl(ioctlModeCreateDumb, unsafe.Pointer(&c)); err != nil {
		return nil, fmt.Errorf("%s: DRM_IOCTL_MODE_CREATE_DUMB %dx%d@%dbpp: %w", d.path, width, height, bpp, err)
	}
	return &DumbBuffer{Handle: c.Handle, Width: width, Height: height, Bpp: bpp, Pitch: int(c.Pitch), Size: int(c.Size)}, nil
}

// MapDumb maps a dumb buffer into memory (once; later calls return the same
// mapping).
func (d *Device) MapDumb(b *DumbBuffer) ([]byte, error) {
	if b.Map != nil {
		return b.Map, nil
	}
	m := modeMapDumb{Handle: b.Handle}
	if err := d.ioctl(ioctlModeMapDumb, unsafe.Pointer(&m)); err != nil {
		return nil, fmt.Errorf("%s: DRM_IOCTL_MODE_MAP_DUMB %d: %w", d.path, b.Handle, err)
	}
	mem, err := unix.Mmap(d.fd, int64(m.Offset), b.Size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("%s: mmap dumb buffer %d (%d bytes): %w", d.path, b.Handle, b.Size, err)
	}
	b.Map = mem
	return mem, nil
}

// DestroyDumb unmaps and frees a dumb buffer (after RmFB of any framebuffer
// made from it).
func (d *Device) DestroyDumb(b *DumbBuffer) error {
	if b.Map != nil {
		if err := unix.Munmap(b.Map); err != nil {
			return fmt.Errorf("munmap dumb buffer %d: %w", b.Handle, err)
		}
		b.Map = nil
	}
	c := modeDestroyDumb{Handle: b.Handle}
	if err := d.ioctl(ioctlModeDestroyDumb, unsafe.Pointer(&c)); err != nil {
		return fmt.Errorf("%s: DRM_IOCTL_MODE_DESTROY_DUMB %d: %w", d.path, b.Handle, err)
	}
	return nil
}

// FBPlane is one memory plane of a framebuffer.
type FBPlane struct {
	Handle uint32
	Pitch  uint32
	Offset uint32
}

// ModifierInvalid is DRM_FORMAT_MOD_INVALID: "no explicit modifier".
const ModifierInvalid = 0x00ffffffffffffff

// ModifierLinear is DRM_FORMAT_MOD_LINEAR.
const ModifierLinear = 0

const fbModifiers = 1 << 1 // DRM_MODE_FB_MODIFIERS

// AddFB2 registers a framebuffer. A modifier other than ModifierInvalid is
// passed explicitly (DRM_MODE_FB_MODIFIERS), which drivers without
// DRM_CAP_ADDFB2_MODIFIERS reject.
func (d *Device) AddFB2(width, height int, format uint32, modifier uint64, planes []FBPlane) (uint32, error) {
	if len(planes) == 0 || len(planes) > 4 {
		return 0, fmt.Errorf("AddFB2: %d planes", len(planes))
	}
	c := modeFbCmd2{Width: uint32(width), Height: uint32(height), PixelFormat: format}
	for i, p := range planes {
		c.Handles[i], c.Pitches[i], c.Offsets[i] = p.Handle, p.Pitch, p.Offset
		if modifier != ModifierInvalid {
			c.Modifier[i] = modifier
		}
	}
	if modifier != ModifierInvalid {
		c.Flags |= fbModifiers
	}
	if err := d.ioctl(ioctlModeAddFB2, unsafe.Pointer(&c)); err != nil {
		return 0, fmt.Errorf("%s: DRM_IOCTL_MODE_ADDFB2 %dx%d %s: %w", d.path, width, height, FourCC(format), err)
	}
	return c.FbID, nil
}

// RmFB removes a framebuffer. If it is being scanned out, the kernel turns
// the CRTC off, so remove framebuffers only after flipping away from them.
func (d *Device) RmFB(id uint32) error {
	v := id
	if err := d.ioctl(ioctlModeRmFB, unsafe.Pointer(&v)); err != nil {
		return fmt.Errorf("%s: DRM_IOCTL_MODE_RMFB %d: %w", d.path, id, err)
	}
	return nil
}

// ExportDMABUF exports a GEM handle as a dma-buf fd (PRIME).
func (d *Device) ExportDMABUF(handle uint32) (int, error) {
	p := drmPrimeHandle{Handle: handle, Flags: unix.O_CLOEXEC | unix.O_RDWR, Fd: -1}
	err := d.ioctl(ioctlPrimeHandleToFD, unsafe.Pointer(&p))
	if err == unix.EINVAL {
		// Some drivers refuse O_RDWR exports; a read-only dma-buf still
		// imports for scanout.
		p = drmPrimeHandle{Handle: handle, Flags: unix.O_CLOEXEC, Fd: -1}
		err = d.ioctl(ioctlPrimeHandleToFD, unsafe.Pointer(&p))
	}
	if err != nil {
		return -1, fmt.Errorf("%s: DRM_IOCTL_PRIME_HANDLE_TO_FD %d: %w", d.path, handle, err)
	}
	return int(p.Fd), nil
}

// ImportDMABUF turns a dma-buf fd into a GEM handle on this device. Release
// it with CloseHandle. The fd stays the caller's.
func (d *Device) ImportDMABUF(fd int) (uint32, error) {
	p := drmPrimeHandle{Fd: int32(fd)}
	if err := d.ioctl(ioctlPrimeFDToHandle, unsafe.Pointer(&p)); err != nil {
		return 0, fmt.Errorf("%s: DRM_IOCTL_PRIME_FD_TO_HANDLE fd %d: %w", d.path, fd, err)
	}
	return p.Handle, nil
}

// CloseHandle releases a GEM handle (from ImportDMABUF).
func (d *Device) CloseHandle(handle uint32) error {
	c := drmGemClose{Handle: handle}
	if err := d.ioctl(ioctlGemClose, unsafe.Pointer(&c)); err != nil {
		return fmt.Errorf("%s: DRM_IOCTL_GEM_CLOSE %d: %w", d.path, handle, err)
	}
	return nil
}

// DirtyFB tells a legacy driver which rectangles of a framebuffer changed;
// drivers that push pixels over a slow link transfer only those. ENOSYS
// means the driver scans out memory directly and needs no notice. At most
// 256 clips are sent, the kernel's limit; more are merged into their
// bounding box.
func (d *Device) DirtyFB(fbID uint32, clips []Rect) error {
	rects := d.dirtyRects[:0]
	if len(clips) > maxDirtyClips {
		clips = []Rect{boundingRect(clips)}
	}
	for _, r := range clips {
		rects = append(rects, clipRect{X1: uint16(r.X1), Y1: uint16(r.Y1), X2: uint16(r.X2), Y2: uint16(r.Y2)})
	}
	d.dirtyRects = rects
	c := &d.dirtyArg
	*c = modeFbDirtyCmd{FbID: fbID, NumClips: uint32(len(rects))}
	c.ClipsPtr = addr(&d.pins, rects)
	err := d.ioctl(ioctlModeDirtyFB, unsafe.Pointer(c))
	d.pins.Unpin()
	if err != nil {
		return fmt.Errorf("%s: DRM_IOCTL_MODE_DIRTYFB %d (%d clips): %w", d.path, fbID, len(rects), masterOnly(err))
	}
	return nil
}

const maxDirtyClips = 256

// Rect is a rectangle in framebuffer pixels, X2/Y2 exclusive, as the
// kernel's damage clips and DIRTYFB rectangles are.
type Rect struct {
	X1, Y1, X2, Y2 int32
}

func boundingRect(rs []Rect) Rect {
	b := rs[0]
	for _, r := range rs[1:] {
		b.X1, b.Y1 = min(b.X1, r.X1), min(b.Y1, r.Y1)
		b.X2, b.Y2 = max(b.X2, r.X2), max(b.Y2, r.Y2)
	}
	return b
}

// damageClipsBlob encodes rectangles as an FB_DAMAGE_CLIPS blob (an array of
// struct drm_mode_rect) in *scratch, which it grows as needed and keeps.
func damageClipsBlob(scratch *[]modeRect, clips []Rect) []byte {
	rects := (*scratch)[:0]
	for _, r := range clips {
		rects = append(rects, modeRect{X1: r.X1, Y1: r.Y1, X2: r.X2, Y2: r.Y2})
	}
	*scratch = rects
	if len(rects) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&rects[0])), len(rects)*int(unsafe.Sizeof(modeRect{})))
}

// FourCC renders a DRM fourcc code as its four characters, e.g. "XR24".
func FourCC(f uint32) string {
	b := []byte{byte(f), byte(f >> 8), byte(f >> 16), byte(f >> 24)}
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '?'
		}
	}
	return string(b)
}

// Format codes used here (drm_fourcc.h).
const (
	FormatXRGB8888 = 'X' | 'R'<<8 | '2'<<16 | '4'<<24
	FormatARGB8888 = 'A' | 'R'<<8 | '2'<<16 | '4'<<24
	FormatRGB565   = 'R' | 'G'<<8 | '1'<<16 | '6'<<24
)
