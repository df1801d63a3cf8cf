// Package shm allocates wl_shm buffers in sealed memfds.
package shm

import (
	"fmt"

	"github.com/neurlang/wayland/wl"
	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/examples/internal/pattern"
	"github.com/vitrine-wm/vitrine/examples/internal/window"
)

// FormatXRGB8888 is WL_SHM_FORMAT_XRGB8888, one of the two formats every
// compositor must support.
const FormatXRGB8888 = 1

// Allocator makes XRGB8888 wl_shm buffers.
type Allocator struct {
	Shm *wl.Shm
}

// Allocate creates a w×h buffer in its own memfd and pool. The pool is
// destroyed right away: the buffer keeps the memory alive on the server.
func (a *Allocator) Allocate(w, h int) (*window.Buffer, error) {
	stride := w * 4
	size := stride * h
	if w <= 0 || h <= 0 || size/h != stride || size > 1<<31-1 {
		return nil, fmt.Errorf("invalid buffer size %dx%d", w, h)
	}
	fd, err := unix.MemfdCreate("shm-client", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		return nil, fmt.Errorf("ftruncate memfd to %d bytes: %w", size, err)
	}
	// A compositor mapping the pool must never see it shrink under it
	// (it would get SIGBUS).
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, unix.F_SEAL_SHRINK|unix.F_SEAL_SEAL); err != nil {
		return nil, fmt.Errorf("seal memfd: %w", err)
	}
	pix, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mmap %d bytes: %w", size, err)
	}
	pool, err := a.Shm.CreatePool(uintptr(fd), int32(size))
	if err != nil {
		unix.Munmap(pix)
		return nil, fmt.Errorf("create shm pool: %w", err)
	}
	buf, err := pool.CreateBuffer(0, int32(w), int32(h), int32(stride), FormatXRGB8888)
	if err != nil {
		unix.Munmap(pix)
		return nil, fmt.Errorf("create shm buffer: %w", err)
	}
	if err := pool.Destroy(); err != nil {
		unix.Munmap(pix)
		return nil, fmt.Errorf("destroy shm pool: %w", err)
	}
	pool.Unregister()
	return &window.Buffer{
		WL:    buf,
		Image: &pattern.Image{Pix: pix, Stride: stride, Width: w, Height: h},
		Free:  func() error { return unix.Munmap(pix) },
	}, nil
}
