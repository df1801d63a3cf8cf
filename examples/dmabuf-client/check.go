package main

import (
	"errors"
	"fmt"
	"image"

	"github.com/vitrine-wm/vitrine/examples/internal/content"
	"github.com/vitrine-wm/vitrine/examples/internal/dmabuf"
	"github.com/vitrine-wm/vitrine/examples/internal/pattern"
	"github.com/vitrine-wm/vitrine/examples/internal/report"
	"github.com/vitrine-wm/vitrine/examples/internal/window"
)

// checkAlloc allocates one buffer, draws frame 0 of the pattern into it the
// way the window would and reads it back, proving allocation, mapping and
// CPU access syncs work on this kernel without a compositor.
func checkAlloc(src dmabuf.Source, size image.Point, patternName string, out *report.Lines) (err error) {
	painter, err := content.ByName(patternName)
	if err != nil {
		return err
	}
	d, err := src.Alloc(size.X, size.Y)
	if err != nil {
		return fmt.Errorf("%s on %s: %w", src.Kind(), src.Device(), err)
	}
	defer func() { err = errors.Join(err, d.Close()) }()
	buf := &window.Buffer{
		Image: &pattern.Image{Pix: d.Pix, Stride: d.Stride, Width: size.X, Height: size.Y},
		Frame: -1,
	}
	if err := d.BeginWrite(); err != nil {
		return err
	}
	painter.Paint(buf, 0)
	if err := d.EndWrite(); err != nil {
		return err
	}
	want := pattern.NewImage(size.X, size.Y)
	painter.Paint(&window.Buffer{Image: want, Frame: -1}, 0)
	// Reading back is slow on write-combined memory, which is why only
	// this check does it.
	if err := d.BeginRead(); err != nil {
		return err
	}
	defer func() { err = errors.Join(err, d.EndRead()) }()
	for y := 0; y < size.Y; y++ {
		for x := 0; x < size.X; x++ {
			if got, exp := buf.Image.At(x, y), want.At(x, y); got != exp {
				return fmt.Errorf("read back pixel (%d,%d) = %06x, want %06x", x, y, got, exp)
			}
		}
	}
	out.Printf("alloc-ok source=%s width=%d height=%d stride=%d bytes=%d pattern=%s", src.Kind(), size.X, size.Y, d.Stride, d.Size, patternName)
	return nil
}
