package main

import (
	"fmt"

	"github.com/neurlang/wayland/wl"

	"github.com/vitrine-wm/vitrine/examples/internal/shm"
	"github.com/vitrine-wm/vitrine/examples/internal/window"
)

// cursorSize and cursorColor are --cursor's image: a solid square whose
// top-left corner is the hotspot, so a screendump shows it starting at
// the pointer position.
const (
	cursorSize  = 32
	cursorColor = 0x00ff00ff // XRGB8888 magenta
)

// cursor is a wl_pointer cursor surface with one committed buffer.
type cursor struct {
	surface *wl.Surface
}

// newCursor makes the cursor surface and commits its image once.
func newCursor(conn *window.Conn) (*cursor, error) {
	s, err := conn.Compositor.CreateSurface()
	if err != nil {
		return nil, fmt.Errorf("cursor surface: %w", err)
	}
	b, err := (&shm.Allocator{Shm: conn.Shm}).Allocate(cursorSize, cursorSize)
	if err != nil {
		return nil, fmt.Errorf("cursor buffer: %w", err)
	}
	b.Image.Fill(b.Image.Bounds(), cursorColor)
	wb, ok := b.WL.(*wl.Buffer)
	if !ok {
		return nil, fmt.Errorf("cursor buffer: %T is not a wl_buffer", b.WL)
	}
	if err := s.Attach(wb, 0, 0); err != nil {
		return nil, fmt.Errorf("cursor attach: %w", err)
	}
	if err := s.Damage(0, 0, cursorSize, cursorSize); err != nil {
		return nil, fmt.Errorf("cursor damage: %w", err)
	}
	if err := s.Commit(); err != nil {
		return nil, fmt.Errorf("cursor commit: %w", err)
	}
	return &cursor{surface: s}, nil
}
