package kms

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// NodeType tells primary (modesetting) nodes from render nodes.
type NodeType int

const (
	NodePrimary NodeType = iota // /dev/dri/cardN: KMS, dumb buffers, needs master for modesetting
	NodeRender                  // /dev/dri/renderDN: rendering and PRIME only
)

func (t NodeType) String() string {
	switch t {
	case NodePrimary:
		return "primary"
	case NodeRender:
		return "render"
	}
	return fmt.Sprintf("NodeType(%d)", int(t))
}

// DRM_CAP_* values from drm.h.
const (
	CapDumbBuffer          = 0x1
	CapVblankHighCrtc      = 0x2
	CapDumbPreferredDepth  = 0x3
	CapDumbPreferShadow    = 0x4
	CapPrime               = 0x5
	CapTimestampMonotonic  = 0x6
	CapAsyncPageFlip       = 0x7
	CapCursorWidth         = 0x8
	CapCursorHeight        = 0x9
	CapAddFB2Modifiers     = 0x10
	CapPageFlipTarget      = 0x11
	CapCrtcInVblankEvent   = 0x12
	CapSyncobj             = 0x13
	CapSyncobjTimeline     = 0x14
	CapAtomicAsyncPageFlip = 0x15

	PrimeCapImport = 0x1
	PrimeCapExport = 0x2
)

// DRM_CLIENT_CAP_* values from drm.h.
const (
	ClientCapStereo3D            = 1
	ClientCapUniversalPlanes     = 2
	ClientCapAtomic              = 3
	ClientCapAspectRatio         = 4
	ClientCapWritebackConnectors = 5
	ClientCapCursorPlaneHotspot  = 6
)

// capNames lists the caps Probe reports, in a stable order.
var capNames = []struct {
	Cap  uint64
	Name string
}{
	{CapDumbBuffer, "DUMB_BUFFER"},
	{CapVblankHighCrtc, "VBLANK_HIGH_CRTC"},
	{CapDumbPreferredDepth, "DUMB_PREFERRED_DEPTH"},
	{CapDumbPreferShadow, "DUMB_PREFER_SHADOW"},
	{CapPrime, "PRIME"},
	{CapTimestampMonotonic, "TIMESTAMP_MONOTONIC"},
	{CapAsyncPageFlip, "ASYNC_PAGE_FLIP"},
	{CapCursorWidth, "CURSOR_WIDTH"},
	{CapCursorHeight, "CURSOR_HEIGHT"},
	{CapAddFB2Modifiers, "ADDFB2_MODIFIERS"},
	{CapPageFlipTarget, "PAGE_FLIP_TARGET"},
	{CapCrtcInVblankEvent, "CRTC_IN_VBLANK_EVENT"},
	{CapSyncobj, "SYNCOBJ"},
	{CapSyncobjTimeline, "SYNCOBJ_TIMELINE"},
	{CapAtomicAsyncPageFlip, "ATOMIC_ASYNC_PAGE_FLIP"},
}

// Device is an open DRM device node. A Device and its Outputs are used
// from one goroutine, the compositor's loop: the device is an event
// source there (FD, DispatchEvents), so nothing in either is locked.
type Device struct {
	file *os.File
	fd   int
	path string
	node NodeType
	rdev uint64

	// primeRefs counts users of each imported GEM handle: importing the same
	// dma-buf twice on one file gives the same handle, which must be closed
	// only when the last user is done with it.
	primeRefs map[uint32]int
	// planeClaims are the overlay planes an output of the device took;
	// a plane shows one CRTC's layers at a time.
	planeClaims map[uint32]bool

	driver     string
	driverDesc string
	verMajor   int
	verMinor   int

	universalPlanes bool
	atomic          bool

	// Page-flip event handlers by user_data's low 32 bits, and DispatchEvents' buffer.
	handlers map[uint32]func(FlipEvent)
	evbuf    []byte

	// Scratch for the ioctls a frame makes (damage blobs, DIRTYFB), so a
	// steady frame allocates nothing; only the loop calls them.
	pins       runtime.Pinner
	dirtyRects []clipRect
	// The ioctl arguments of those calls: passed through d.ioctl (which
	// may call a fake), a local one would escape to the heap every time.
	atomicArg  modeAtomic
	blobArg    modeCreateBlob
	destroyArg modeDestroyBlob
	dirtyArg   modeFbDirtyCmd
	flipArg    modeCrtcPageFlip

	// fake, in tests, stands in for the kernel so the frame logic (flips,
	// scanout, deferred frees) can be checked without a DRM device.
	fake func(req uintptr, arg unsafe.Pointer) error

	closeOnce sync.Once
}

// ioctl issues one DRM ioctl on the device.
func (d *Device) ioctl(req uintptr, arg unsafe.Pointer) error {
	if d.fake != nil {
		return d.fake(req, arg)
	}
	return ioctl(d.fd, req, arg)
}

// Open opens a DRM device node read-write. Modesetting requires DRM master,
// which the first opener of a primary node gets when no one else holds it.
func Open(path string) (*Device, error) {
	f, err := os.OpenFile(path, os.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open DRM device: %w", err)
	}
	d, err := NewDevice(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return d, nil
}

// NewDevice wraps an already open DRM device, for example a file
// descriptor handed out by logind's TakeDevice or by seatd. The Device owns f
// from now on and closes it in Close.
func NewDevice(f *os.File) (*Device, error) {
	d := &Device{file: f, path: f.Name(), fd: -1}
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d.path, err)
	}
	// The raw fd is kept rather than calling f.Fd(), which would switch the
	// file to blocking mode; f stays open (and the number valid) until Close.
	if err := rc.Control(func(fd uintptr) { d.fd = int(fd) }); err != nil {
		return nil, fmt.Errorf("%s: %w", d.path, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(d.fd, &st); err != nil {
		return nil, fmt.Errorf("stat %s: %w", d.path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR {
		return nil, fmt.Errorf("%s: not a character device", d.path)
	}
	d.rdev = uint64(st.Rdev)
	d.node = nodeTypeOf(unix.Major(d.rdev), unix.Minor(d.rdev))
	if err := d.readVersion(); err != nil {
		return nil, fmt.Errorf("%s: not a DRM device: %w", d.path, err)
	}
	// DispatchEvents reads the fd and must never block: a file opened here
	// is non-blocking already (Go's poller), one handed over by a session
	// manager need not be.
	if err := unix.SetNonblock(d.fd, true); err != nil {
		return nil, fmt.Errorf("%s: set O_NONBLOCK: %w", d.path, err)
	}
	return d, nil
}

// nodeTypeOf asks sysfs for the node's name (renderD* or card*) and falls
// back to the classic minor ranges (render nodes start at 128).
func nodeTypeOf(major, minor uint32) NodeType {
	link, err := os.Readlink(fmt.Sprintf("/sys/dev/char/%d:%d", major, minor))
	if err == nil {
		if strings.HasPrefix(filepath.Base(link), "renderD") {
			return NodeRender
		}
		return NodePrimary
	}
	if minor >= 128 && minor < 192 {
		return NodeRender
	}
	return NodePrimary
}

func (d *Device) readVersion() error {
	var v drmVersion
	if err := d.ioctl(ioctlVersion, unsafe.Pointer(&v)); err != nil {
		return fmt.Errorf("DRM_IOCTL_VERSION: %w", err)
	}
	name := make([]byte, v.NameLen+1)
	desc := make([]byte, v.DescLen+1)
	date := make([]byte, v.DateLen+1)
	var pins runtime.Pinner
	defer pins.Unpin()
	v.Name = uintptr(addr(&pins, name))
	v.Desc = uintptr(addr(&pins, desc))
	v.Date = uintptr(addr(&pins, date))
	if err := d.ioctl(ioctlVersion, unsafe.Pointer(&v)); err != nil {
		return fmt.Errorf("DRM_IOCTL_VERSION: %w", err)
	}
	d.driver = cString(name[:v.NameLen])
	d.driverDesc = cString(desc[:v.DescLen])
	d.verMajor, d.verMinor = int(v.Major), int(v.Minor)
	return nil
}

func cString(b []byte) string {
	if i := strings.IndexByte(string(b), 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// Path is the device node path (or the name of the file handed to NewDevice).
func (d *Device) Path() string { return d.path }

// FD is the raw file descriptor, valid until Close. It is readable when
// page-flip events are queued: register it with the event loop and call
// DispatchEvents then.
func (d *Device) FD() int { return d.fd }

// File is the underlying file, for passing the node to a child process.
func (d *Device) File() *os.File { return d.file }

// DeviceID is the node's dev_t (st_rdev), as linux-dmabuf feedback names
// devices.
func (d *Device) DeviceID() uint64 { return d.rdev }

// Node tells a primary node from a render node.
func (d *Device) Node() NodeType { return d.node }

// Driver is the kernel driver name, e.g. "virtio_gpu", "bochs-drm", "vgem".
func (d *Device) Driver() string { return d.driver }

// DriverDescription is the driver's one-line description.
func (d *Device) DriverDescription() string { return d.driverDesc }

// Cap queries one DRM_CAP_* value.
func (d *Device) Cap(c uint64) (uint64, error) {
	gc := drmGetCap{Capability: c}
	if err := d.ioctl(ioctlGetCap, unsafe.Pointer(&gc)); err != nil {
		return 0, fmt.Errorf("%s: DRM_IOCTL_GET_CAP %#x: %w", d.path, c, err)
	}
	return gc.Value, nil
}

// SetClientCap sets one DRM_CLIENT_CAP_* value.
func (d *Device) SetClientCap(c, v uint64) error {
	sc := drmSetClientCap{Capability: c, Value: v}
	if err := d.ioctl(ioctlSetClientCap, unsafe.Pointer(&sc)); err != nil {
		return fmt.Errorf("%s: DRM_IOCTL_SET_CLIENT_CAP %d=%d: %w", d.path, c, v, err)
	}
	return nil
}

// EnableAtomic asks for universal planes (so primary and cursor planes are
// listed) and then atomic modesetting. It reports whether atomic was granted;
// universal planes alone are kept when it was not.
func (d *Device) EnableAtomic() bool {
	if d.SetClientCap(ClientCapUniversalPlanes, 1) == nil {
		d.universalPlanes = true
	}
	if d.SetClientCap(ClientCapAtomic, 1) == nil {
		d.atomic = true
		d.universalPlanes = true
		// Paravirtualized drivers (virtio-gpu, vmwgfx, qxl) list their
		// cursor plane to atomic clients only if they promise to set its
		// HOTSPOT_X/Y, which the Output does; older kernels say EINVAL and
		// show no such plane anyway.
		d.SetClientCap(ClientCapCursorPlaneHotspot, 1)
	}
	return d.atomic
}

// EnableUniversalPlanes asks for universal planes only (legacy modesetting
// still needs them to see the primary plane's properties).
func (d *Device) EnableUniversalPlanes() bool {
	if d.SetClientCap(ClientCapUniversalPlanes, 1) == nil {
		d.universalPlanes = true
	}
	return d.universalPlanes
}

// Atomic reports whether the atomic client cap was granted.
func (d *Device) Atomic() bool { return d.atomic }

// IsMaster reports whether this file description is DRM master. AUTH_MAGIC
// with a bogus magic fails with EINVAL for a master and EACCES otherwise;
// unlike SET_MASTER it also works for non-root holders of a logind fd.
func (d *Device) IsMaster() bool {
	a := drmAuth{}
	err := d.ioctl(ioctlAuthMagic, unsafe.Pointer(&a))
	return !errors.Is(err, unix.EACCES)
}

// SetMaster becomes DRM master (root, or the session manager's fd).
func (d *Device) SetMaster() error {
	if err := d.ioctl(ioctlSetMaster, nil); err != nil {
		return fmt.Errorf("%s: DRM_IOCTL_SET_MASTER: %w", d.path, err)
	}
	return nil
}

// DropMaster gives up DRM master, for VT switches.
func (d *Device) DropMaster() error {
	if err := d.ioctl(ioctlDropMaster, nil); err != nil {
		return fmt.Errorf("%s: DRM_IOCTL_DROP_MASTER: %w", d.path, err)
	}
	return nil
}

// Close closes the device; remove FD from the event loop first. Buffers
// and framebuffers still registered are released by the kernel with the
// file.
func (d *Device) Close() error {
	var err error
	d.closeOnce.Do(func() { err = d.file.Close() })
	return err
}
