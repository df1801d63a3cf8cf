package kms

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Kernel uapi structs (include/uapi/drm/drm.h, drm_mode.h), transcribed
// field for field. Explicit padding is spelled out wherever the kernel's
// layout relies on 8-byte alignment of __u64, because 32-bit Go targets
// (armv7) align uint64 to 4 bytes only.

type drmVersion struct {
	Major, Minor, Patch int32
	NameLen             uint // __kernel_size_t: pointer-sized, like Go's uint
	Name                uintptr
	DateLen             uint
	Date                uintptr
	DescLen             uint
	Desc                uintptr
}

type drmGemClose struct {
	Handle uint32
	Pad    uint32
}

type drmGetCap struct {
	Capability uint64
	Value      uint64
}

type drmSetClientCap struct {
	Capability uint64
	Value      uint64
}

type drmAuth struct {
	Magic uint32
}

type drmPrimeHandle struct {
	Handle uint32
	Flags  uint32
	Fd     int32
}

type drmEventHeader struct {
	Type   uint32
	Length uint32
}

type drmEventVblank struct {
	drmEventHeader
	UserData uint64
	TvSec    uint32
	TvUsec   uint32
	Sequence uint32
	CrtcID   uint32
}

// modeInfo is struct drm_mode_modeinfo.
type modeInfo struct {
	Clock                                         uint32
	Hdisplay, HsyncStart, HsyncEnd, Htotal, Hskew uint16
	Vdisplay, VsyncStart, VsyncEnd, Vtotal, Vscan uint16
	Vrefresh                                      uint32
	Flags                                         uint32
	Type                                          uint32
	Name                                          [32]byte
}

type modeCardRes struct {
	FbIDPtr, CrtcIDPtr, ConnectorIDPtr, EncoderIDPtr uint64
	CountFbs, CountCrtcs, CountConnectors            uint32
	CountEncoders                                    uint32
	MinWidth, MaxWidth, MinHeight, MaxHeight         uint32
}

type modeCrtc struct {
	SetConnectorsPtr uint64
	CountConnectors  uint32
	CrtcID           uint32
	FbID             uint32
	X, Y             uint32
	GammaSize        uint32
	ModeValid        uint32
	Mode             modeInfo
}

type modeGetEncoder struct {
	EncoderID      uint32
	EncoderType    uint32
	CrtcID         uint32
	PossibleCrtcs  uint32
	PossibleClones uint32
}

type modeGetConnector struct {
	EncodersPtr     uint64
	ModesPtr        uint64
	PropsPtr        uint64
	PropValuesPtr   uint64
	CountModes      uint32
	CountProps      uint32
	CountEncoders   uint32
	EncoderID       uint32
	ConnectorID     uint32
	ConnectorType   uint32
	ConnectorTypeID uint32
	Connection      uint32
	MmWidth         uint32
	MmHeight        uint32
	Subpixel        uint32
	Pad             uint32
}

type modeGetProperty struct {
	ValuesPtr      uint64
	EnumBlobPtr    uint64
	PropID         uint32
	Flags          uint32
	Name           [32]byte
	CountValues    uint32
	CountEnumBlobs uint32
}

type modePropertyEnum struct {
	Value uint64
	Name  [32]byte
}

type modeGetBlob struct {
	BlobID uint32
	Length uint32
	Data   uint64
}

type modeFbCmd2 struct {
	FbID        uint32
	Width       uint32
	Height      uint32
	PixelFormat uint32
	Flags       uint32
	Handles     [4]uint32
	Pitches     [4]uint32
	Offsets     [4]uint32
	_           uint32
	Modifier    [4]uint64
}

type modeCrtcPageFlip struct {
	CrtcID   uint32
	FbID     uint32
	Flags    uint32
	Reserved uint32
	UserData uint64
}

type modeFbDirtyCmd struct {
	FbID     uint32
	Flags    uint32
	Color    uint32
	NumClips uint32
	ClipsPtr uint64
}

type modeCreateDumb struct {
	Height, Width, Bpp, Flags uint32
	Handle, Pitch             uint32
	Size                      uint64
}

type modeMapDumb struct {
	Handle uint32
	Pad    uint32
	Offset uint64
}

type modeDestroyDumb struct {
	Handle uint32
}

type modeGetPlaneRes struct {
	PlaneIDPtr  uint64
	CountPlanes uint32
	_           uint32
}

type modeGetPlane struct {
	PlaneID          uint32
	CrtcID           uint32
	FbID             uint32
	PossibleCrtcs    uint32
	GammaSize        uint32
	CountFormatTypes uint32
	FormatTypePtr    uint64
}

type modeObjGetProperties struct {
	PropsPtr      uint64
	PropValuesPtr uint64
	CountProps    uint32
	ObjID         uint32
	ObjType       uint32
	_             uint32
}

type modeAtomic struct {
	Flags         uint32
	CountObjs     uint32
	ObjsPtr       uint64
	CountPropsPtr uint64
	PropsPtr      uint64
	PropValuesPtr uint64
	Reserved      uint64
	UserData      uint64
}

type modeCreateBlob struct {
	Data   uint64
	Length uint32
	BlobID uint32
}

type modeDestroyBlob struct {
	BlobID uint32
}

// modeRect is struct drm_mode_rect, the element of an FB_DAMAGE_CLIPS blob.
type modeRect struct {
	X1, Y1, X2, Y2 int32
}

// clipRect is struct drm_clip_rect, the element of a DIRTYFB clip list.
type clipRect struct {
	X1, Y1, X2, Y2 uint16
}

// ioctl request encoding from include/uapi/asm-generic/ioctl.h, which every
// architecture Go supports for Linux except mips/ppc/sparc uses.
const (
	iocNone  = 0
	iocWrite = 1
	iocRead  = 2

	drmIoctlBase = 'd'
)

func ioc(dir, nr, size uintptr) uintptr {
	return dir<<30 | size<<16 | drmIoctlBase<<8 | nr
}

// modeConnectorSetProperty is struct drm_mode_connector_set_property.
type modeConnectorSetProperty struct {
	Value       uint64
	PropID      uint32
	ConnectorID uint32
}

func iowr(nr, size uintptr) uintptr { return ioc(iocRead|iocWrite, nr, size) }
func iow(nr, size uintptr) uintptr  { return ioc(iocWrite, nr, size) }
func ioNone(nr uintptr) uintptr     { return ioc(iocNone, nr, 0) }

var (
	ioctlVersion            = iowr(0x00, unsafe.Sizeof(drmVersion{}))
	ioctlGemClose           = iow(0x09, unsafe.Sizeof(drmGemClose{}))
	ioctlGetCap             = iowr(0x0c, unsafe.Sizeof(drmGetCap{}))
	ioctlSetClientCap       = iow(0x0d, unsafe.Sizeof(drmSetClientCap{}))
	ioctlAuthMagic          = iow(0x11, unsafe.Sizeof(drmAuth{}))
	ioctlSetMaster          = ioNone(0x1e)
	ioctlDropMaster         = ioNone(0x1f)
	ioctlPrimeHandleToFD    = iowr(0x2d, unsafe.Sizeof(drmPrimeHandle{}))
	ioctlPrimeFDToHandle    = iowr(0x2e, unsafe.Sizeof(drmPrimeHandle{}))
	ioctlModeGetResources   = iowr(0xa0, unsafe.Sizeof(modeCardRes{}))
	ioctlModeGetCrtc        = iowr(0xa1, unsafe.Sizeof(modeCrtc{}))
	ioctlModeSetCrtc        = iowr(0xa2, unsafe.Sizeof(modeCrtc{}))
	ioctlModeGetEncoder     = iowr(0xa6, unsafe.Sizeof(modeGetEncoder{}))
	ioctlModeGetConnector   = iowr(0xa7, unsafe.Sizeof(modeGetConnector{}))
	ioctlModeGetProperty    = iowr(0xaa, unsafe.Sizeof(modeGetProperty{}))
	ioctlModeSetProperty    = iowr(0xab, unsafe.Sizeof(modeConnectorSetProperty{}))
	ioctlModeGetPropBlob    = iowr(0xac, unsafe.Sizeof(modeGetBlob{}))
	ioctlModeRmFB           = iowr(0xaf, unsafe.Sizeof(uint32(0)))
	ioctlModePageFlip       = iowr(0xb0, unsafe.Sizeof(modeCrtcPageFlip{}))
	ioctlModeDirtyFB        = iowr(0xb1, unsafe.Sizeof(modeFbDirtyCmd{}))
	ioctlModeCreateDumb     = iowr(0xb2, unsafe.Sizeof(modeCreateDumb{}))
	ioctlModeMapDumb        = iowr(0xb3, unsafe.Sizeof(modeMapDumb{}))
	ioctlModeDestroyDumb    = iowr(0xb4, unsafe.Sizeof(modeDestroyDumb{}))
	ioctlModeGetPlaneRes    = iowr(0xb5, unsafe.Sizeof(modeGetPlaneRes{}))
	ioctlModeGetPlane       = iowr(0xb6, unsafe.Sizeof(modeGetPlane{}))
	ioctlModeAddFB2         = iowr(0xb8, unsafe.Sizeof(modeFbCmd2{}))
	ioctlModeObjGetProps    = iowr(0xb9, unsafe.Sizeof(modeObjGetProperties{}))
	ioctlModeAtomic         = iowr(0xbc, unsafe.Sizeof(modeAtomic{}))
	ioctlModeCreatePropBlob = iowr(0xbd, unsafe.Sizeof(modeCreateBlob{}))
	ioctlModeDestroyBlob    = iowr(0xbe, unsafe.Sizeof(modeDestroyBlob{}))
)

// ioctl issues one DRM ioctl, retrying on EINTR and EAGAIN as libdrm's
// drmIoctl does: the DRM core restarts interrupted requests safely.
func ioctl(fd int, req uintptr, arg unsafe.Pointer) error {
	for {
		_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, uintptr(arg))
		if e == 0 {
			return nil
		}
		if e == unix.EINTR || e == unix.EAGAIN {
			continue
		}
		return e
	}
}

// addr returns the address of the first element of s as the __u64 the
// kernel wants in its *_ptr fields, 0 for an empty slice. The element is
// pinned: that forces it onto the heap (a uintptr is invisible to the
// stack copier) and keeps it alive until pins.Unpin.
func addr[T any](pins *runtime.Pinner, s []T) uint64 {
	if len(s) == 0 {
		return 0
	}
	pins.Pin(&s[0])
	return uint64(uintptr(unsafe.Pointer(&s[0])))
}
