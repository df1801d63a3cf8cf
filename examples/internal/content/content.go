// Package content holds the window.Painters of the example clients: the
// patterns the tests and the lab compare screenshots against.
package content

import (
	"fmt"
	"image"

	"github.com/vitrine-wm/vitrine/examples/internal/pattern"
	"github.com/vitrine-wm/vitrine/examples/internal/window"
)

// Names of the patterns, as given to --pattern.
const (
	NameQuadrants = "quadrants"
	NameMovingBox = "moving-box"
)

// ByName returns the painter for a --pattern value.
func ByName(name string) (window.Painter, error) {
	switch name {
	case NameQuadrants:
		return Quadrants{}, nil
	case NameMovingBox:
		return MovingBox{}, nil
	}
	return nil, fmt.Errorf("unknown pattern %q (want %s or %s)", name, NameQuadrants, NameMovingBox)
}

// Quadrants is the static four-colour pattern.
type Quadrants struct{}

// Paint draws the pattern only into buffers that do not hold it yet, but
// reports the whole surface as damaged: it runs more than one frame only
// when asked to present N frames, and then every frame is a full one.
func (Quadrants) Paint(buf *window.Buffer, n int) []image.Rectangle {
	if buf.Frame < 0 {
		pattern.DrawQuadrants(buf.Image)
	}
	return []image.Rectangle{buf.Image.Bounds()}
}

// Animated is false: one frame is enough.
func (Quadrants) Animated() bool { return false }

// DoneLine reports how many frames were shown.
func (Quadrants) DoneLine(frames int, size image.Point) string {
	return fmt.Sprintf("done frames=%d size=%dx%d", frames, size.X, size.Y)
}

// MovingBox is pattern.Box animated one step per frame.
type MovingBox struct{}

// Paint repairs only the pixels that differ between the frame the buffer
// holds and frame n, and damages only the old and the new box.
func (MovingBox) Paint(buf *window.Buffer, n int) []image.Rectangle {
	b := pattern.NewBox(buf.Image.Width, buf.Image.Height)
	if buf.Frame < 0 {
		b.Draw(buf.Image, n)
	} else {
		b.Update(buf.Image, buf.Frame, n)
	}
	return b.Damage(n)
}

// Animated is true: every frame moves the box.
func (MovingBox) Animated() bool { return true }

// DoneLine gives the final box position so a test can compute the image.
func (MovingBox) DoneLine(frames int, size image.Point) string {
	return pattern.NewBox(size.X, size.Y).FinalLine(frames)
}

// Solid fills the surface with one colour.
type Solid struct {
	Color uint32 // 0xRRGGBB
}

// Paint fills buffers that do not hold the colour yet; a static surface
// only draws more than once after a resize, when all of it is new anyway.
func (s Solid) Paint(buf *window.Buffer, n int) []image.Rectangle {
	if buf.Frame < 0 {
		buf.Image.Fill(buf.Image.Bounds(), s.Color)
	}
	return []image.Rectangle{buf.Image.Bounds()}
}

// Animated is false.
func (Solid) Animated() bool { return false }

// DoneLine reports how many frames were shown.
func (Solid) DoneLine(frames int, size image.Point) string {
	return fmt.Sprintf("done frames=%d size=%dx%d", frames, size.X, size.Y)
}
