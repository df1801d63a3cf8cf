package lab

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"unsafe"

	"golang.org/x/sys/unix"
)

// drmVersion mirrors struct drm_version from <drm/drm.h> on 64-bit
// Linux.
type drmVersion struct {
	major, minor, patch int32
	_                   int32
	nameLen             uint64
	name                uintptr
	dateLen             uint64
	date                uintptr
	descLen             uint64
	desc                uintptr
}

// drmIoctlVersion is DRM_IOCTL_VERSION: _IOWR('d', 0x00, struct drm_version).
const drmIoctlVersion = 0xC0000000 | uintptr(unsafe.Sizeof(drmVersion{}))<<16 | 'd'<<8 | 0x00

// DRMDriver returns the kernel driver name of a DRM device node
// ("virtio_gpu", "bochs-drm", "cirrus", "vgem"), which is what the
// scenarios check the guest's cards against.
func DRMDriver(path string) (string, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return "", fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	return DRMDriverOf(f)
}

// DRMDriverOf returns the kernel driver name of an open DRM device.
func DRMDriverOf(f *os.File) (string, error) {
	name := make([]byte, 64)
	v := drmVersion{nameLen: uint64(len(name)), name: uintptr(unsafe.Pointer(&name[0]))}
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, f.Fd(), drmIoctlVersion, uintptr(unsafe.Pointer(&v)))
	// name is only reachable through a uintptr inside v during the call.
	runtime.KeepAlive(name)
	if errno != 0 {
		return "", fmt.Errorf("DRM_IOCTL_VERSION on %s: %w", f.Name(), errno)
	}
	n := v.nameLen
	if n > uint64(len(name)) {
		n = uint64(len(name))
	}
	return string(name[:n]), nil
}

// PrintDRMDevices writes one line per /dev/dri node: "card0 virtio_gpu".
func PrintDRMDevices(w io.Writer) error {
	nodes, _ := filepath.Glob("/dev/dri/*")
	sort.Strings(nodes)
	if len(nodes) == 0 {
		return fmt.Errorf("no nodes in /dev/dri")
	}
	for _, n := range nodes {
		if st, err := os.Stat(n); err != nil || st.IsDir() {
			continue
		}
		drv, err := DRMDriver(n)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s %s\n", filepath.Base(n), drv)
	}
	return nil
}
