package render

import (
	"fmt"
	"image"
)

// Transform is a wl_output.transform value, with the same numbering.
//
// Applying a transform to a w×h image turns it counter-clockwise by the
// given angle; the flipped variants first mirror it around the vertical
// axis. That is the direction in which both users apply it:
//
//   - An output transform t maps the upright compositor image (the shadow)
//     to what is scanned out: CopyOut applies t, and t.Rect gives where a
//     damaged shadow rectangle lands in the framebuffer.
//   - A buffer transform t (wl_surface.set_buffer_transform) says the client
//     applied t to its surface content to produce the buffer; the compositor
//     applies t.Invert() to the buffer to get the surface back. So a
//     fullscreen buffer with buffer transform t on an output with transform
//     t is exactly the framebuffer content, and buffer damage maps to
//     surface damage with t.Invert().Rect.
type Transform int

// The wl_output.transform values.
const (
	Normal Transform = iota
	Rotate90
	Rotate180
	Rotate270
	Flipped
	Flipped90
	Flipped180
	Flipped270
)

// Valid reports whether t is one of the eight wl_output.transform values.
func (t Transform) Valid() bool {
	return t >= Normal && t <= Flipped270
}

// String returns the wl_output.transform entry name.
func (t Transform) String() string {
	switch t {
	case Normal:
		return "normal"
	case Rotate90:
		return "90"
	case Rotate180:
		return "180"
	case Rotate270:
		return "270"
	case Flipped:
		return "flipped"
	case Flipped90:
		return "flipped-90"
	case Flipped180:
		return "flipped-180"
	case Flipped270:
		return "flipped-270"
	}
	return fmt.Sprintf("Transform(%d)", int(t))
}

// Invert returns the transform that undoes t: the quarter turns swap,
// everything else (the flips included) is its own inverse.
func (t Transform) Invert() Transform {
	switch t {
	case Rotate90:
		return Rotate270
	case Rotate270:
		return Rotate90
	}
	return t
}

// swapsAxes reports whether t turns rows into columns.
func (t Transform) swapsAxes() bool {
	return t.Valid() && t&1 == 1
}

// TransformSize returns the size of a w×h image after t: swapped for the
// 90° and 270° variants.
func (t Transform) TransformSize(w, h int) (int, int) {
	if t.swapsAxes() {
		return h, w
	}
	return w, h
}

// Point maps pixel (x, y) of a w×h image to its position in the transformed
// image (of size t.TransformSize(w, h)). Invalid transforms act as Normal.
func (t Transform) Point(p image.Point, w, h int) image.Point {
	x, y := p.X, p.Y
	switch t {
	case Rotate90:
		return image.Point{y, w - 1 - x}
	case Rotate180:
		return image.Point{w - 1 - x, h - 1 - y}
	case Rotate270:
		return image.Point{h - 1 - y, x}
	case Flipped:
		return image.Point{w - 1 - x, y}
	case Flipped90:
		return image.Point{y, x}
	case Flipped180:
		return image.Point{x, h - 1 - y}
	case Flipped270:
		return image.Point{h - 1 - y, w - 1 - x}
	}
	return p
}

// Rect maps r, a rectangle in a w×h space, to the transformed space of size
// t.TransformSize(w, h). It is exact for any r, also one reaching outside
// the w×h space, so damage can be transformed before it is clipped.
func (t Transform) Rect(r image.Rectangle, w, h int) image.Rectangle {
	if r.Empty() {
		return image.Rectangle{}
	}
	a := t.Point(r.Min, w, h)
	b := t.Point(r.Max.Sub(image.Point{1, 1}), w, h)
	// a and b are the images of two opposite corner pixels; image.Rect
	// orders them, and Max becomes exclusive again.
	out := image.Rect(a.X, a.Y, b.X, b.Y)
	out.Max = out.Max.Add(image.Point{1, 1})
	return out
}
