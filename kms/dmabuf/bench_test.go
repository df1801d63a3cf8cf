package dmabuf

import (
	"image"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/render"
)

// frame is a client buffer both ways: the memfd a wl_shm client would
// share, and a dma-buf made from the same pages with udmabuf.
type frame struct {
	shm    []byte
	dmabuf *Mapping
}

func newFrame(tb testing.TB, w, h int) *frame {
	tb.Helper()
	size := w * h * 4
	fd, memfd, err := Udmabuf(size)
	if err != nil {
		tb.Skipf("no udmabuf here (%v); run in the lab: vitrine-lab has /dev/udmabuf", err)
	}
	tb.Cleanup(func() { unix.Close(memfd); unix.Close(fd) })
	shm, err := unix.Mmap(memfd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { unix.Munmap(shm) })
	for i := range shm {
		shm[i] = byte(i * 7)
	}
	if !IsDMABuf(int(fd)) {
		tb.Fatal("udmabuf fd is not reported as a dma-buf")
	}
	m, err := Map(&Buffer{Width: w, Height: h, Format: uint32(render.XRGB8888), Planes: []Plane{{FD: int(fd), Stride: uint32(w * 4)}}}, 4)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close() })
	return &frame{shm: shm, dmabuf: m}
}

// BenchmarkCopyPath compares the copy path's source: the same damage
// drawn into the shadow from a wl_shm mapping and from a mapped dma-buf
// bracketed with DMA_BUF_IOCTL_SYNC.
func BenchmarkCopyPath(b *testing.B) {
	const w, h = 1920, 1080
	f := newFrame(b, w, h)
	shadow := render.NewImage(w, h, render.XRGB8888)
	for _, c := range []struct {
		name   string
		dw, dh int
	}{{"1pct", 192, 108}, {"10pct", 640, 324}, {"100pct", w, h}} {
		dw, dh := c.dw, c.dh
		damage := image.Rect(0, 0, dw, dh)
		layer := func(pix []byte) render.Layer {
			return render.Layer{Src: &render.Image{Pix: pix, Stride: w * 4, Width: w, Height: h, Format: render.XRGB8888},
				SrcRect: image.Rect(0, 0, w, h), Dst: image.Rect(0, 0, w, h), Opaque: true}
		}
		b.Run("shm/"+c.name, func(b *testing.B) {
			b.SetBytes(int64(dw * dh * 4))
			l := layer(f.shm)
			for i := 0; i < b.N; i++ {
				render.Draw(shadow, l, damage)
			}
		})
		b.Run("dmabuf/"+c.name, func(b *testing.B) {
			b.SetBytes(int64(dw * dh * 4))
			l := layer(f.dmabuf.Pix)
			for i := 0; i < b.N; i++ {
				if err := f.dmabuf.BeginRead(); err != nil {
					b.Fatal(err)
				}
				render.Draw(shadow, l, damage)
				if err := f.dmabuf.EndRead(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestUdmabufMapsTheSamePixels(t *testing.T) {
	f := newFrame(t, 64, 32)
	if err := f.dmabuf.BeginRead(); err != nil {
		t.Fatal(err)
	}
	defer f.dmabuf.EndRead()
	for i := range f.dmabuf.Pix {
		if f.dmabuf.Pix[i] != f.shm[i] {
			t.Fatalf("byte %d: dma-buf mapping has %d, memfd %d", i, f.dmabuf.Pix[i], f.shm[i])
		}
	}
}

func TestMapRejectsWhatTheCPUCannotRead(t *testing.T) {
	for _, b := range []Buffer{
		{Width: 4, Height: 4, Modifier: 0x0100000000000001, Planes: []Plane{{FD: -1, Stride: 16}}},
		{Width: 4, Height: 4, Planes: []Plane{{FD: -1, Stride: 16}, {FD: -1, Stride: 16}}},
	} {
		if _, err := Map(&b, 4); err != ErrNotMappable {
			t.Errorf("Map(%+v) = %v, want ErrNotMappable", b, err)
		}
	}
	fd, _ := unix.MemfdCreate("small", 0)
	defer unix.Close(fd)
	unix.Ftruncate(fd, 100)
	if _, err := Map(&Buffer{Width: 16, Height: 16, Planes: []Plane{{FD: fd, Stride: 64}}}, 4); err == nil {
		t.Error("mapping a 16x16 buffer from 100 bytes succeeded")
	}
	if IsDMABuf(fd) {
		t.Error("a memfd is reported as a dma-buf")
	}
}

// The request numbers and flags are the kernel's (linux/dma-buf.h,
// linux/udmabuf.h, linux/dma-heap.h).
func TestIoctlNumbers(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want uint64
	}{
		{"DMA_BUF_IOCTL_SYNC", ioctlSync, 0x40086200},
		{"UDMABUF_CREATE", ioctlUdmabufCreate, 0x40187542},
		{"DMA_HEAP_IOCTL_ALLOC", ioctlHeapAlloc, 0xc0184800},
		{"DMA_BUF_SYNC_START|WRITE", SyncStart | SyncWrite, 2},
		{"DMA_BUF_SYNC_END|WRITE", SyncEnd | SyncWrite, 6},
	} {
		if c.got != c.want {
			t.Errorf("%s = %#x, want %#x", c.name, c.got, c.want)
		}
	}
}
