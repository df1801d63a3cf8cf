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

// Mapping is a read-only CPU view of a buffer.
type Mapping struct {
	// fds are the distinct dma-bufs behind the planes, for the sync
	// brackets; data are their mappings.
	fds  []int
	data [][]byte
	// Pix is plane 0's image area: from the plane offset, Stride bytes
	// a row.
	Pix    []byte
	Stride int
	// Planes are every plane's image area (Planes[0] is Pix, Stride).
	Planes []PlaneView
}

// PlaneView is one mapped plane.
type PlaneView struct {
	Pix    []byte
	Stride int
}

// ErrNotMappable says the buffer has no linear layout the CPU can read.
var ErrNotMappable = errors.New("dma-buf is not a linear buffer")

// Map maps plane 0 of a single-plane b for reading. bpp is the bytes per
// pixel of the format. Only linear (modifier 0) buffers have a layout
// the CPU knows.
func Map(b *Buffer, bpp int) (*Mapping, error) {
	if len(b.Planes) != 1 || bpp <= 0 {
		return nil, ErrNotMappable
	}
	return MapPlanes(b, func(int) (int, int) { return b.Width * bpp, b.Height })
}

// MapPlanes maps every plane of b for reading; size gives plane i's bytes
// per row and rows. Planes in the same dma-buf (the same file, whatever
// the fd number) share one mapping; planes in different ones (disjoint
// planes) each get their own.
func MapPlanes(b *Buffer, size func(i int) (rowBytes, rows int)) (*Mapping, error) {
	if len(b.Planes) == 0 || (b.Modifier != 0 && b.Modifier != modifierInvalid) {
		return nil, ErrNotMappable
	}
	m := &Mapping{}
	type file struct{ dev, ino uint64 }
	seen := map[file][]byte{}
	for i, p := range b.Planes {
		row, rows := size(i)
		if row <= 0 || rows <= 0 {
			m.Close()
			return nil, ErrNotMappable
		}
		var st unix.Stat_t
		if err := unix.Fstat(p.FD, &st); err != nil {
			m.Close()
			return nil, fmt.Errorf("plane %d: fstat dma-buf: %w", i, err)
		}
		f := file{uint64(st.Dev), st.Ino}
		data, ok := seen[f]
		if !ok {
			n, err := Size(p.FD)
			if err != nil {
				m.Close()
				return nil, fmt.Errorf("plane %d: %w", i, err)
			}
			data, err = unix.Mmap(p.FD, 0, int(n), unix.PROT_READ, unix.MAP_SHARED)
			if err != nil {
				m.Close()
				return nil, fmt.Errorf("plane %d: mmap dma-buf: %w", i, err)
			}
			seen[f] = data
			m.fds = append(m.fds, p.FD)
			m.data = append(m.data, data)
		}
		need := int64(p.Offset) + int64(p.Stride)*int64(rows-1) + int64(row)
		if need > int64(len(data)) || int64(p.Stride) < int64(row) {
			m.Close()
			return nil, fmt.Errorf("plane %d: dma-buf of %d bytes is too small for %d rows of %d bytes at offset %d, stride %d", i, len(data), rows, row, p.Offset, p.Stride)
		}
		m.Planes = append(m.Planes, PlaneView{Pix: data[p.Offset:need], Stride: int(p.Stride)})
	}
	m.Pix, m.Stride = m.Planes[0].Pix, m.Planes[0].Stride
	return m, nil
}

// modifierInvalid is DRM_FORMAT_MOD_INVALID: "implicit", which for a
// mappable buffer from a simple allocator means linear.
const modifierInvalid = 0x00ffffffffffffff

// BeginRead starts a CPU read (DMA_BUF_IOCTL_SYNC START|READ) on every
// dma-buf of the mapping.
func (m *Mapping) BeginRead() error { return m.sync(SyncStart | SyncRead) }

// EndRead ends it.
func (m *Mapping) EndRead() error { return m.sync(SyncEnd | SyncRead) }

func (m *Mapping) sync(flags uint64) error {
	var first error
	for _, fd := range m.fds {
		if err := Sync(fd, flags); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Close unmaps the buffer.
func (m *Mapping) Close() error {
	var first error
	for _, d := range m.data {
		if err := unix.Munmap(d); err != nil && first == nil {
			first = err
		}
	}
	m.data, m.fds, m.Pix, m.Planes = nil, nil, nil, nil
	return first
}
