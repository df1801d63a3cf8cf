package render

import (
	"encoding/binary"
	"fmt"
	"image"
)

// Image is pixels in memory. Pix may be a slice of an mmap'd wl_shm pool,
// a dma-buf mapping or a dumb buffer; render never keeps a reference to it
// beyond a call.
type Image struct {
	Pix           []byte
	Stride        int // bytes per row
	Width, Height int
	Format        Format
}

// NewImage allocates a tightly packed, zeroed w×h image. Non-positive sizes
// and unknown formats give an image with no pixels.
func NewImage(w, h int, f Format) *Image {
	bpp := f.BytesPerPixel()
	if w <= 0 || h <= 0 || bpp == 0 {
		return &Image{Format: f}
	}
	return &Image{
		Pix:    make([]byte, w*h*bpp),
		Stride: w * bpp,
		Width:  w,
		Height: h,
		Format: f,
	}
}

// Bounds returns (0,0)-(Width,Height).
func (m *Image) Bounds() image.Rectangle {
	return image.Rect(0, 0, m.Width, m.Height)
}

// Validate reports why m cannot be used: an unknown format, a stride shorter
// than a row, or Pix shorter than the last row needs. Callers wrapping
// client memory should check it once per buffer; the drawing functions
// quietly skip invalid images.
func (m *Image) Validate() error {
	if m == nil {
		return fmt.Errorf("nil image")
	}
	bpp := m.Format.BytesPerPixel()
	if bpp == 0 {
		return fmt.Errorf("unsupported pixel format %v", m.Format)
	}
	if m.Width <= 0 || m.Height <= 0 {
		return fmt.Errorf("empty image %dx%d", m.Width, m.Height)
	}
	if m.Width > maxDim || m.Height > maxDim {
		return fmt.Errorf("image %dx%d larger than %d pixels on a side", m.Width, m.Height, maxDim)
	}
	row := m.Width * bpp
	if m.Stride < row {
		return fmt.Errorf("stride %d shorter than a %d-pixel %v row (%d bytes)", m.Stride, m.Width, m.Format, row)
	}
	if m.Stride > maxStride {
		return fmt.Errorf("stride %d larger than %d", m.Stride, maxStride)
	}
	// 64-bit so the check itself cannot overflow on 32-bit platforms; once
	// it passes, every pixel offset is below len(Pix) and fits in an int.
	if need := int64(m.Height-1)*int64(m.Stride) + int64(row); int64(len(m.Pix)) < need {
		return fmt.Errorf("%dx%d %v image with stride %d needs %d bytes, have %d", m.Width, m.Height, m.Format, m.Stride, need, len(m.Pix))
	}
	return nil
}

// Bounds on sizes keep every offset computation far from integer overflow,
// whatever a client claims its buffer is.
const (
	maxDim    = 1 << 16
	maxStride = 1 << 20
)

func (m *Image) valid() bool {
	return m.Validate() == nil
}

// PixelARGB returns the pixel at (x, y) as premultiplied 0xAARRGGBB, with
// alpha 0xff for formats without alpha. Outside the image, or for an invalid
// image, it returns 0.
func (m *Image) PixelARGB(x, y int) uint32 {
	if !m.valid() || !(image.Point{x, y}).In(m.Bounds()) {
		return 0
	}
	bpp := m.Format.BytesPerPixel()
	return loadARGB(m.Pix[y*m.Stride+x*bpp:], m.Format)
}

// SetPixelARGB stores the premultiplied colour argb at (x, y), converting to
// m's format. Outside the image, or for an invalid image, it does nothing.
func (m *Image) SetPixelARGB(x, y int, argb uint32) {
	if !m.valid() || !(image.Point{x, y}).In(m.Bounds()) {
		return
	}
	bpp := m.Format.BytesPerPixel()
	storeARGB(m.Pix[y*m.Stride+x*bpp:], m.Format, argb)
}

// loadARGB reads one pixel of format f from the start of b as premultiplied
// 0xAARRGGBB.
func loadARGB(b []byte, f Format) uint32 {
	switch f {
	case XRGB8888:
		return binary.LittleEndian.Uint32(b) | 0xff000000
	case ARGB8888:
		return binary.LittleEndian.Uint32(b)
	case XBGR8888:
		return swapRB(binary.LittleEndian.Uint32(b)) | 0xff000000
	case ABGR8888:
		return swapRB(binary.LittleEndian.Uint32(b))
	case RGB565:
		return expand565(binary.LittleEndian.Uint16(b))
	}
	return 0
}

// storeARGB writes premultiplied 0xAARRGGBB to the start of b in format f.
// X channels are written as 0xff so a buffer read back as the A variant is
// opaque.
func storeARGB(b []byte, f Format, v uint32) {
	switch f {
	case XRGB8888:
		binary.LittleEndian.PutUint32(b, v|0xff000000)
	case ARGB8888:
		binary.LittleEndian.PutUint32(b, v)
	case XBGR8888:
		binary.LittleEndian.PutUint32(b, swapRB(v)|0xff000000)
	case ABGR8888:
		binary.LittleEndian.PutUint32(b, swapRB(v))
	case RGB565:
		binary.LittleEndian.PutUint16(b, pack565(v))
	}
}

// swapRB exchanges bytes 0 and 2: ARGB <-> ABGR.
func swapRB(v uint32) uint32 {
	return v&0xff00ff00 | v>>16&0xff | v&0xff<<16
}

// expand565 widens RGB565 to opaque ARGB by replicating the top bits into
// the low ones, so 0 stays 0x00 and full scale becomes 0xff.
func expand565(p uint16) uint32 {
	r := uint32(p >> 11)
	g := uint32(p>>5) & 0x3f
	b := uint32(p) & 0x1f
	r = r<<3 | r>>2
	g = g<<2 | g>>4
	b = b<<3 | b>>2
	return 0xff000000 | r<<16 | g<<8 | b
}

// pack565 truncates ARGB to RGB565, dropping alpha; this is what scanout
// hardware does with the top bits and keeps expand565(pack565(x)) stable.
func pack565(v uint32) uint16 {
	return uint16(v>>8&0xf800 | v>>5&0x07e0 | v>>3&0x001f)
}
