package dmabuf

import (
	"fmt"
	"os"
	"path/filepath"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The two system-memory allocators a client without a GPU can use to
// hand the display a dma-buf (linux/udmabuf.h, linux/dma-heap.h).
const (
	// UDMABUF_CREATE: _IOW('u', 0x42, struct udmabuf_create).
	ioctlUdmabufCreate = 1<<30 | 24<<16 | 'u'<<8 | 0x42
	// DMA_HEAP_IOCTL_ALLOC: _IOWR('H', 0, struct dma_heap_allocation_data).
	ioctlHeapAlloc = 3<<30 | 24<<16 | 'H'<<8 | 0
)

// Udmabuf turns size bytes of a fresh memfd into a dma-buf through
// /dev/udmabuf. It returns the dma-buf fd and the memfd backing it.
func Udmabuf(size int) (dmabufFD, memfd int, err error) {
	dev, err := os.OpenFile("/dev/udmabuf", os.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, -1, err
	}
	defer dev.Close()
	memfd, err = unix.MemfdCreate("vitrine-udmabuf", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return -1, -1, fmt.Errorf("memfd: %w", err)
	}
	// udmabuf insists the memfd cannot shrink under the dma-buf.
	if err := unix.Ftruncate(memfd, int64(size)); err != nil {
		unix.Close(memfd)
		return -1, -1, fmt.Errorf("memfd size: %w", err)
	}
	if _, err := unix.FcntlInt(uintptr(memfd), unix.F_ADD_SEALS, unix.F_SEAL_SHRINK); err != nil {
		unix.Close(memfd)
		return -1, -1, fmt.Errorf("memfd seal: %w", err)
	}
	args := struct {
		memfd, flags uint32
		offset, size uint64
	}{memfd: uint32(memfd), flags: 1 /* UDMABUF_FLAGS_CLOEXEC */, size: uint64(size)}
	fd, _, errno := unix.Syscall(unix.SYS_IOCTL, dev.Fd(), ioctlUdmabufCreate, uintptr(unsafe.Pointer(&args)))
	if errno != 0 {
		unix.Close(memfd)
		return -1, -1, fmt.Errorf("UDMABUF_CREATE: %w", errno)
	}
	return int(fd), memfd, nil
}

// Heaps lists the dma-buf heaps (/dev/dma_heap/NAME).
func Heaps() []string {
	paths, _ := filepath.Glob("/dev/dma_heap/*")
	var names []string
	for _, p := range paths {
		names = append(names, filepath.Base(p))
	}
	return names
}

// HeapAlloc allocates size bytes from the dma-buf heap NAME.
func HeapAlloc(name string, size int) (int, error) {
	heap, err := os.OpenFile(filepath.Join("/dev/dma_heap", name), os.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	defer heap.Close()
	data := struct {
		len       uint64
		fd        uint32
		fdFlags   uint32
		heapFlags uint64
	}{len: uint64(size), fdFlags: unix.O_RDWR | unix.O_CLOEXEC}
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, heap.Fd(), ioctlHeapAlloc, uintptr(unsafe.Pointer(&data)))
	if errno != 0 {
		return -1, fmt.Errorf("DMA_HEAP_IOCTL_ALLOC on %s: %w", name, errno)
	}
	return int(data.fd), nil
}
