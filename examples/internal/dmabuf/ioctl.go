// Package dmabuf allocates linear XRGB8888 dma-bufs for a Wayland client
// (from a DRM device's dumb buffers, udmabuf or a dma-heap), reads the
// compositor's zwp_linux_dmabuf_v1 feedback and turns the buffers into
// wl_buffers.
package dmabuf

import (
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Linux _IOC encoding: dir<<30 | size<<16 | type<<8 | nr.
const (
	iocWrite = 1
	iocRead  = 2
)

// Kernel uapi structs, transcribed from linux/dma-buf.h, linux/dma-heap.h,
// linux/udmabuf.h and drm/drm.h, drm/drm_mode.h. Every field is naturally
// aligned, so Go lays them out as C does on all architectures.

type drmModeCreateDumb struct {
	Height uint32
	Width  uint32
	BPP    uint32
	Flags  uint32
	Handle uint32
	Pitch  uint32
	Size   uint64
}

type drmModeMapDumb struct {
	Handle uint32
	Pad    uint32
	Offset uint64
}

type drmModeDestroyDumb struct {
	Handle uint32
}

type drmPrimeHandle struct {
	Handle uint32
	Flags  uint32
	FD     int32
}

// drmVersion has size_t and pointer fields: uintptr gives them the
// platform's width and alignment, so its size (and the ioctl number) is
// right on 32-bit ARM too.
type drmVersion struct {
	Major   int32
	Minor   int32
	Patch   int32
	NameLen uintptr
	Name    uintptr
	DateLen uintptr
	Date    uintptr
	DescLen uintptr
	Desc    uintptr
}

// ioctl request numbers.
const (
	ioctlDRMVersion       = (iocRead|iocWrite)<<30 | unsafe.Sizeof(drmVersion{})<<16 | 'd'<<8 | 0x00
	ioctlPrimeHandleToFD  = (iocRead|iocWrite)<<30 | unsafe.Sizeof(drmPrimeHandle{})<<16 | 'd'<<8 | 0x2d
	ioctlModeCreateDumb   = (iocRead|iocWrite)<<30 | unsafe.Sizeof(drmModeCreateDumb{})<<16 | 'd'<<8 | 0xb2
	ioctlModeMapDumb      = (iocRead|iocWrite)<<30 | unsafe.Sizeof(drmModeMapDumb{})<<16 | 'd'<<8 | 0xb3
	ioctlModeDestroyDumb  = (iocRead|iocWrite)<<30 | unsafe.Sizeof(drmModeDestroyDumb{})<<16 | 'd'<<8 | 0xb4
	drmCloexec            = unix.O_CLOEXEC
	drmRDWR               = unix.O_RDWR
	dumbBitsPerPixelXRGB8 = 32
)

// DRM format and modifier codes (drm_fourcc.h).
const (
	FormatXRGB8888 = 0x34325258 // fourcc "XR24"
	ModLinear      = 0
	// ModInvalid means "implicit modifier": the layout the driver picks
	// by itself, linear for the memory this package allocates.
	ModInvalid = 0x00ffffffffffffff
)

// ioctl issues a request whose argument is a pointer to arg, retrying on
// EINTR as libdrm does (large allocations can be interrupted).
func ioctl(fd int, req uintptr, arg unsafe.Pointer) (uintptr, error) {
	for {
		r, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, uintptr(arg))
		if errno == unix.EINTR || errno == unix.EAGAIN {
			continue
		}
		if errno != 0 {
			return 0, errno
		}
		return r, nil
	}
}

// driverName asks a DRM device for its driver's name (DRM_IOCTL_VERSION).
func driverName(fd int) (string, error) {
	var v drmVersion
	if _, err := ioctl(fd, ioctlDRMVersion, unsafe.Pointer(&v)); err != nil {
		return "", fmt.Errorf("DRM_IOCTL_VERSION: %w", err)
	}
	if v.NameLen == 0 || v.NameLen > 256 {
		return "", nil
	}
	name := make([]byte, v.NameLen)
	v = drmVersion{NameLen: uintptr(len(name)), Name: uintptr(unsafe.Pointer(&name[0]))}
	_, err := ioctl(fd, ioctlDRMVersion, unsafe.Pointer(&v))
	// v only holds name's address as an integer.
	runtime.KeepAlive(name)
	if err != nil {
		return "", fmt.Errorf("DRM_IOCTL_VERSION: %w", err)
	}
	return string(name[:min(int(v.NameLen), len(name))]), nil
}
