// Package dmabuf describes client dma-bufs and gives the CPU access to
// them: the real size of a dma-buf fd, whether an fd is a dma-buf at all,
// and mappings whose reads are bracketed with DMA_BUF_IOCTL_SYNC so CPU
// caches agree with what the device wrote.
package dmabuf

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Magic is the f_type fstatfs reports for dma-buf fds (DMA_BUF_MAGIC).
const Magic = 0x444d4142

// Sync flags (linux/dma-buf.h).
const (
	SyncRead  = 1 << 0
	SyncWrite = 2 << 0
	SyncStart = 0 << 2
	SyncEnd   = 1 << 2
)

// ioctlSync is DMA_BUF_IOCTL_SYNC: _IOW('b', 0, struct dma_buf_sync { __u64 flags; }).
const ioctlSync = 1<<30 | 8<<16 | 'b'<<8 | 0

// Plane is one plane of a buffer.
type Plane struct {
	FD     int
	Offset uint32
	Stride uint32
}

// Buffer is a client's dma-buf image as linux-dmabuf describes it.
type Buffer struct {
	Width, Height int
	Format        uint32 // DRM fourcc
	Modifier      uint64
	Planes        []Plane
}

// IsDMABuf reports whether fd refers to a dma-buf.
func IsDMABuf(fd int) bool {
	var st unix.Statfs_t
	return unix.Fstatfs(fd, &st) == nil && st.Type == Magic
}

// Size is the size of the dma-buf behind fd; dma-bufs report it through
// lseek(SEEK_END).
func Size(fd int) (int64, error) {
	n, err := unix.Seek(fd, 0, unix.SEEK_END)
	if err != nil {
		return 0, fmt.Errorf("lseek dma-buf: %w", err)
	}
	unix.Seek(fd, 0, unix.SEEK_SET)
	return n, nil
}

// Sync brackets CPU access to fd.
func Sync(fd int, flags uint64) error {
	for {
		_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), ioctlSync, uintptr(unsafe.Pointer(&flags)))
		switch e {
		case 0:
			return nil
		case unix.EINTR, unix.EAGAIN:
			continue
		}
		return fmt.Errorf("DMA_BUF_IOCTL_SYNC: %w", e)
	}
}

// Mapping is a read-only CPU view of a single-plane buffer.
type Mapping struct {
	fd   int
	data []byte
	// Pix is the image area: from the plane offset, Stride bytes a row.
	Pix    []byte
	Stride int
}

// ErrNotMappable says the buffer has no linear single-plane layout the
// CPU can read.
var ErrNotMappable = errors.New("dma-buf is not a linear single-plane buffer")

// Map maps plane 0 of b for reading. bpp is the bytes per pixel of the
// format. Only linear (modifier 0) buffers have a layout the CPU knows.
func Map(b *Buffer, bpp int) (*Mapping, error) {
	if len(b.Planes) != 1 || (b.Modifier != 0 && b.Modifier != modifierInvalid) || bpp <= 0 {
		return nil, ErrNotMappable
	}
	p := b.Planes[0]
	size, err := Size(p.FD)
	if err != nil {
		return nil, err
	}
	need := int64(p.Offset) + int64(p.Stride)*int64(b.Height-1) + int64(b.Width*bpp)
	if need > size || int64(p.Stride) < int64(b.Width*bpp) {
		return nil, fmt.Errorf("dma-buf of %d bytes is too small for %dx%d at offset %d, stride %d", size, b.Width, b.Height, p.Offset, p.Stride)
	}
	data, err := unix.Mmap(p.FD, 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mmap dma-buf: %w", err)
	}
	return &Mapping{fd: p.FD, data: data, Pix: data[p.Offset:need], Stride: int(p.Stride)}, nil
}

// modifierInvalid is DRM_FORMAT_MOD_INVALID: "implicit", which for a
// mappable buffer from a simple allocator means linear.
const modifierInvalid = 0x00ffffffffffffff

// BeginRead starts a CPU read (DMA_BUF_IOCTL_SYNC START|READ).
func (m *Mapping) BeginRead() error { return Sync(m.fd, SyncStart|SyncRead) }

// EndRead ends it.
func (m *Mapping) EndRead() error { return Sync(m.fd, SyncEnd|SyncRead) }

// Close unmaps the buffer.
func (m *Mapping) Close() error {
	if m.data == nil {
		return nil
	}
	err := unix.Munmap(m.data)
	m.data, m.Pix = nil, nil
	return err
}
