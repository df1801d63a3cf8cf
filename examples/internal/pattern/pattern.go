// Package pattern draws the test images of the example clients into
// XRGB8888 pixel memory. The images are deterministic so that a test can
// compute, from a client's printed output alone, every pixel the
// compositor should show.
package pattern

import (
	"encoding/binary"
	"fmt"
	"image"
)

// Colours of the patterns, as XRGB8888 values (the X byte is written as
// 0xff).
const (
	Red     uint32 = 0xff0000
	Green   uint32 = 0x00ff00
	Blue    uint32 = 0x0000ff
	White   uint32 = 0xffffff
	Black   uint32 = 0x000000
	Magenta uint32 = 0xff00ff
)

// Image is XRGB8888 pixel memory: Width×Height pixels, Stride bytes per row,
// each pixel a little-endian uint32 (byte order B, G, R, X), which is what
// both WL_SHM_FORMAT_XRGB8888 and DRM_FORMAT_XRGB8888 mean.
type Image struct {
	Pix    []byte
	Stride int
	Width  int
	Height int
}

// NewImage allocates a tightly packed image.
func NewImage(w, h int) *Image {
	return &Image{Pix: make([]byte, w*h*4), Stride: w * 4, Width: w, Height: h}
}

// Bounds is the rectangle of the whole image.
func (m *Image) Bounds() image.Rectangle { return image.Rect(0, 0, m.Width, m.Height) }

// At returns the pixel at (x, y) without its X byte.
func (m *Image) At(x, y int) uint32 {
	o := y*m.Stride + x*4
	return binary.LittleEndian.Uint32(m.Pix[o:o+4]) & 0xffffff
}

// Fill paints r (clipped to the image) with colour c.
func (m *Image) Fill(r image.Rectangle, c uint32) {
	r = r.Intersect(m.Bounds())
	if r.Empty() {
		return
	}
	// Build one row once and copy it: the memory may be a write-combined
	// dma-buf mapping, where a few large sequential writes beat many small
	// ones and reads must be avoided entirely.
	row := make([]byte, r.Dx()*4)
	for i := 0; i < len(row); i += 4 {
		// The X byte is "don't care", but screenshot paths that treat it
		// as alpha (weston's pixman screenshooter does) turn X=0 into
		// transparent black, so write it opaque.
		binary.LittleEndian.PutUint32(row[i:], c|0xff000000)
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		o := y*m.Stride + r.Min.X*4
		copy(m.Pix[o:o+len(row)], row)
	}
}

// Quadrants returns the four quadrant rectangles of a w×h surface and their
// colours: top-left red, top-right green, bottom-left blue, bottom-right
// white, split at floor(w/2), floor(h/2).
func Quadrants(w, h int) ([4]image.Rectangle, [4]uint32) {
	mx, my := w/2, h/2
	return [4]image.Rectangle{
			image.Rect(0, 0, mx, my),
			image.Rect(mx, 0, w, my),
			image.Rect(0, my, mx, h),
			image.Rect(mx, my, w, h),
		},
		[4]uint32{Red, Green, Blue, White}
}

// QuadrantColor is the colour the quadrants pattern has at (x, y).
func QuadrantColor(w, h, x, y int) uint32 {
	rects, colors := Quadrants(w, h)
	p := image.Pt(x, y)
	for i, r := range rects {
		if p.In(r) {
			return colors[i]
		}
	}
	return Black
}

// DrawQuadrants paints the whole image with the quadrants pattern.
func DrawQuadrants(m *Image) {
	rects, colors := Quadrants(m.Width, m.Height)
	for i, r := range rects {
		m.Fill(r, colors[i])
	}
}

// Box describes the moving-box animation: a Size×Size square of colour
// Magenta on black, stepping Step pixels to the right every frame; at the
// right edge it wraps to the start of the next row of boxes (Size pixels
// lower) and at the bottom back to the top-left corner.
type Box struct {
	Width, Height int // surface size
	Size          int // edge of the square
	Step          int // horizontal advance per frame
}

// Default geometry of the moving box.
const (
	DefaultBoxSize = 64
	DefaultBoxStep = 8
)

// NewBox returns the default animation on a w×h surface.
func NewBox(w, h int) Box {
	return Box{Width: w, Height: h, Size: DefaultBoxSize, Step: DefaultBoxStep}
}

// edge is the box edge actually used: a box larger than the surface is
// shrunk so the path stays well defined on tiny surfaces.
func (b Box) edge() int {
	s := b.Size
	s = min(s, b.Width, b.Height)
	return max(s, 0)
}

// Rect is the box's rectangle in frame n (n ≥ 0). The path is a closed-form
// function of n so tests need nothing but the frame count to reproduce it.
func (b Box) Rect(n int) image.Rectangle {
	s := b.edge()
	if s == 0 {
		return image.Rectangle{}
	}
	step := max(b.Step, 1)
	perRow := (b.Width-s)/step + 1
	rows := b.Height / s
	i := n % (perRow * rows)
	x := (i % perRow) * step
	y := (i / perRow) * s
	return image.Rect(x, y, x+s, y+s)
}

// Draw paints the complete image of frame n.
func (b Box) Draw(m *Image, n int) {
	m.Fill(m.Bounds(), Black)
	m.Fill(b.Rect(n), Magenta)
}

// Update turns an image that shows frame from into the image of frame to,
// touching only the two box rectangles.
func (b Box) Update(m *Image, from, to int) {
	m.Fill(b.Rect(from), Black)
	m.Fill(b.Rect(to), Magenta)
}

// Damage is what changed on screen between frame n-1 and frame n: the old
// and the new box rectangle (frame 0 changes everything).
func (b Box) Damage(n int) []image.Rectangle {
	if n == 0 {
		return []image.Rectangle{image.Rect(0, 0, b.Width, b.Height)}
	}
	return []image.Rectangle{b.Rect(n - 1), b.Rect(n)}
}

// FinalLine is the line moving-box clients print when they stop after
// frames frames; the last frame shown is frames-1.
func (b Box) FinalLine(frames int) string {
	r := b.Rect(max(frames-1, 0))
	return fmt.Sprintf("final-box x=%d y=%d w=%d h=%d frames=%d", r.Min.X, r.Min.Y, r.Dx(), r.Dy(), frames)
}
