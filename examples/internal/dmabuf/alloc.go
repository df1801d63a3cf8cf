package dmabuf

import (
	"errors"
	"fmt"
	kdmabuf "github.com/vitrine-wm/vitrine/kms/dmabuf"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Buf is one CPU-mapped linear XRGB8888 dma-buf.
type Buf struct {
	FD     int // the dma-buf
	Width  int
	Height int
	Stride int
	Size   int
	Pix    []byte // CPU mapping, Stride*Height bytes used

	release func() error
	sync    func(flags uint64) error // nil: DMA_BUF_IOCTL_SYNC on FD
}

// NewBuf wraps mapped memory allocated outside this package. sync, if not
// nil, replaces DMA_BUF_IOCTL_SYNC (for fakes whose fd is no dma-buf);
// release frees everything.
func NewBuf(fd, w, h, stride, size int, pix []byte, sync func(flags uint64) error, release func() error) *Buf {
	return &Buf{FD: fd, Width: w, Height: h, Stride: stride, Size: size, Pix: pix, sync: sync, release: release}
}

func (b *Buf) doSync(flags uint64) error {
	if b.sync != nil {
		return b.sync(flags)
	}
	return kdmabuf.Sync(b.FD, flags)
}

// BeginWrite starts a CPU write access (DMA_BUF_IOCTL_SYNC START|WRITE).
func (b *Buf) BeginWrite() error { return b.doSync(kdmabuf.SyncStart | kdmabuf.SyncWrite) }

// EndWrite ends it, flushing CPU caches towards the device.
func (b *Buf) EndWrite() error { return b.doSync(kdmabuf.SyncEnd | kdmabuf.SyncWrite) }

// BeginRead starts a CPU read access (START|READ); only checks read back.
func (b *Buf) BeginRead() error { return b.doSync(kdmabuf.SyncStart | kdmabuf.SyncRead) }

// EndRead ends it.
func (b *Buf) EndRead() error { return b.doSync(kdmabuf.SyncEnd | kdmabuf.SyncRead) }

// Close unmaps and frees the buffer.
func (b *Buf) Close() error { return b.release() }

// Source allocates dma-bufs from one kind of memory.
type Source interface {
	// Alloc returns a w×h linear XRGB8888 buffer.
	Alloc(w, h int) (*Buf, error)
	// Kind is the --alloc kind: vgem, dumb, udmabuf or dma-heap.
	Kind() string
	// Device is the device node the memory comes from.
	Device() string
	Close() error
}

// Open parses an --alloc value: vgem[:CARD], udmabuf, dma-heap[:NAME] or
// dumb:CARD.
func Open(spec string) (Source, error) {
	kind, arg, _ := strings.Cut(spec, ":")
	switch kind {
	case "vgem":
		path := arg
		if path == "" {
			var err error
			if path, err = findDriverCard("/dev/dri", "vgem"); err != nil {
				return nil, err
			}
		}
		return openDumb(path, "vgem")
	case "dumb":
		if arg == "" {
			return nil, errors.New("--alloc dumb needs a card node, e.g. dumb:/dev/dri/card0")
		}
		return openDumb(arg, "dumb")
	case "udmabuf":
		return openUdmabuf("/dev/udmabuf")
	case "dma-heap":
		if arg == "" {
			arg = "system"
		}
		return openHeap(filepath.Join("/dev/dma_heap", arg))
	}
	return nil, fmt.Errorf("unknown allocator %q (want vgem, udmabuf, dma-heap[:NAME] or dumb:/dev/dri/cardN)", spec)
}

// findDriverCard returns the first card node in dir whose driver is name.
func findDriverCard(dir, name string) (string, error) {
	cards, _ := filepath.Glob(filepath.Join(dir, "card*"))
	sort.Strings(cards)
	var seen []string
	for _, c := range cards {
		fd, err := unix.Open(c, unix.O_RDWR|unix.O_CLOEXEC, 0)
		if err != nil {
			seen = append(seen, fmt.Sprintf("%s: %v", c, err))
			continue
		}
		drv, err := driverName(fd)
		unix.Close(fd)
		if err != nil {
			seen = append(seen, fmt.Sprintf("%s: %v", c, err))
			continue
		}
		if drv == name {
			return c, nil
		}
		seen = append(seen, c+": "+drv)
	}
	if len(seen) == 0 {
		return "", fmt.Errorf("no %s device: no card nodes in %s (load the module: modprobe %s)", name, dir, name)
	}
	return "", fmt.Errorf("no %s device among %s (load the module: modprobe %s)", name, strings.Join(seen, ", "), name)
}

// alignStride keeps rows at 256-byte multiples, which every display
// controller the lab and the Pi use accepts for linear scanout.
func alignStride(w int) int { return (w*4 + 255) &^ 255 }

func pageAlign(n int) int {
	p := os.Getpagesize()
	return (n + p - 1) &^ (p - 1)
}

func checkSize(w, h int) error {
	if w <= 0 || h <= 0 || w > 16384 || h > 16384 {
		return fmt.Errorf("invalid buffer size %dx%d", w, h)
	}
	return nil
}

// dumbSource makes dumb buffers on a DRM card and exports them.
type dumbSource struct {
	path string
	kind string
	fd   int
}

func openDumb(path, kind string) (*dumbSource, error) {
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return &dumbSource{path: path, kind: kind, fd: fd}, nil
}

func (s *dumbSource) Kind() string   { return s.kind }
func (s *dumbSource) Device() string { return s.path }

func (s *dumbSource) Close() error { return unix.Close(s.fd) }

func (s *dumbSource) Alloc(w, h int) (*Buf, error) {
	if err := checkSize(w, h); err != nil {
		return nil, err
	}
	c := drmModeCreateDumb{Width: uint32(w), Height: uint32(h), BPP: dumbBitsPerPixelXRGB8}
	if _, err := ioctl(s.fd, ioctlModeCreateDumb, unsafe.Pointer(&c)); err != nil {
		hint := ""
		if errors.Is(err, unix.EACCES) {
			hint = " (render nodes cannot create dumb buffers: use the card node)"
		}
		return nil, fmt.Errorf("DRM_IOCTL_MODE_CREATE_DUMB %dx%d on %s: %w%s", w, h, s.path, err, hint)
	}
	destroy := func() {
		d := drmModeDestroyDumb{Handle: c.Handle}
		ioctl(s.fd, ioctlModeDestroyDumb, unsafe.Pointer(&d))
	}
	p := drmPrimeHandle{Handle: c.Handle, Flags: drmCloexec | drmRDWR}
	if _, err := ioctl(s.fd, ioctlPrimeHandleToFD, unsafe.Pointer(&p)); err != nil {
		// Kernels before 4.6 reject DRM_RDWR; the export still works,
		// only mmap of the dma-buf is then read-only.
		p = drmPrimeHandle{Handle: c.Handle, Flags: drmCloexec}
		if _, err2 := ioctl(s.fd, ioctlPrimeHandleToFD, unsafe.Pointer(&p)); err2 != nil {
			destroy()
			return nil, fmt.Errorf("DRM_IOCTL_PRIME_HANDLE_TO_FD on %s: %w", s.path, err)
		}
	}
	size := int(c.Size)
	pix, err := unix.Mmap(int(p.FD), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		// Not every exporter can mmap its dma-bufs; the dumb buffer
		// mapping of the card reaches the same memory.
		m := drmModeMapDumb{Handle: c.Handle}
		if _, err2 := ioctl(s.fd, ioctlModeMapDumb, unsafe.Pointer(&m)); err2 != nil {
			unix.Close(int(p.FD))
			destroy()
			return nil, fmt.Errorf("mmap dma-buf from %s: %w; DRM_IOCTL_MODE_MAP_DUMB: %w", s.path, err, err2)
		}
		var err2 error
		pix, err2 = unix.Mmap(s.fd, int64(m.Offset), size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		if err2 != nil {
			unix.Close(int(p.FD))
			destroy()
			return nil, fmt.Errorf("mmap dma-buf from %s: %w; mmap dumb buffer: %w", s.path, err, err2)
		}
	}
	// The exported dma-buf holds its own reference: the GEM handle is not
	// needed any more.
	destroy()
	fd := int(p.FD)
	return &Buf{
		FD: fd, Width: w, Height: h, Stride: int(c.Pitch), Size: size, Pix: pix,
		release: func() error {
			return errors.Join(unix.Munmap(pix), unix.Close(fd))
		},
	}, nil
}

// udmabufSource turns sealed memfds into dma-bufs.
type udmabufSource struct{ path string }

func openUdmabuf(path string) (*udmabufSource, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open %s: %w (kernel needs CONFIG_UDMABUF)", path, err)
	}
	return &udmabufSource{path: path}, nil
}

func (s *udmabufSource) Kind() string   { return "udmabuf" }
func (s *udmabufSource) Device() string { return s.path }

func (s *udmabufSource) Close() error { return nil }

func (s *udmabufSource) Alloc(w, h int) (*Buf, error) {
	if err := checkSize(w, h); err != nil {
		return nil, err
	}
	stride := alignStride(w)
	size := pageAlign(stride * h) // udmabuf works in whole pages
	fd, memfd, err := kdmabuf.Udmabuf(size)
	if err != nil {
		return nil, fmt.Errorf("udmabuf of %d bytes: %w", size, err)
	}
	defer unix.Close(memfd) // the dma-buf keeps the pages
	pix, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		// Same pages through the memfd.
		var err2 error
		if pix, err2 = unix.Mmap(memfd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED); err2 != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("mmap udmabuf: %w; mmap memfd: %w", err, err2)
		}
	}
	return &Buf{
		FD: fd, Width: w, Height: h, Stride: stride, Size: size, Pix: pix,
		release: func() error { return errors.Join(unix.Munmap(pix), unix.Close(fd)) },
	}, nil
}

// heapSource allocates from a dma-heap such as /dev/dma_heap/system.
type heapSource struct {
	path string
	fd   int
}

func openHeap(path string) (*heapSource, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		var heaps []string
		if ents, err2 := os.ReadDir(filepath.Dir(path)); err2 == nil {
			for _, e := range ents {
				heaps = append(heaps, e.Name())
			}
		}
		if len(heaps) > 0 {
			return nil, fmt.Errorf("open %s: %w (heaps here: %s)", path, err, strings.Join(heaps, ", "))
		}
		return nil, fmt.Errorf("open %s: %w (kernel needs CONFIG_DMABUF_HEAPS_SYSTEM)", path, err)
	}
	return &heapSource{path: path, fd: fd}, nil
}

func (s *heapSource) Kind() string   { return "dma-heap" }
func (s *heapSource) Device() string { return s.path }

func (s *heapSource) Close() error { return unix.Close(s.fd) }

func (s *heapSource) Alloc(w, h int) (*Buf, error) {
	if err := checkSize(w, h); err != nil {
		return nil, err
	}
	stride := alignStride(w)
	size := pageAlign(stride * h)
	fd, err := kdmabuf.HeapAlloc(filepath.Base(s.path), size)
	if err != nil {
		return nil, fmt.Errorf("%d bytes from %s: %w", size, s.path, err)
	}
	pix, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("mmap dma-heap buffer: %w", err)
	}
	return &Buf{
		FD: fd, Width: w, Height: h, Stride: stride, Size: size, Pix: pix,
		release: func() error { return errors.Join(unix.Munmap(pix), unix.Close(fd)) },
	}, nil
}
