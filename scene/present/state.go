package present

import (
	"errors"
	"fmt"
	"image"

	"github.com/vitrine-wm/vitrine/kms/dmabuf"
	"github.com/vitrine-wm/vitrine/render"
)

// State is what an output shows from one commit on, in one value, the
// way wlroots' wlr_output_state is: the primary plane's content (the
// shadow image with its damage, or a client buffer), the overlay planes'
// client buffers and the cursor plane's. The scene builds one per frame
// and the output checks its parts together and commits them as one, so
// everything a frame changes reaches the screen in the same refresh.
type State struct {
	// Damage shows the shadow image on the primary plane, these
	// rectangles (shadow coordinates) changed since the last frame. An
	// empty, non-nil list draws nothing new.
	Damage []image.Rectangle
	// Scanout shows a client's buffer on the primary plane instead.
	Scanout *Buffer
	// Overlays are the client buffers on overlay planes, bottom to top,
	// above the primary plane: Overlays[i] goes on the output's i-th
	// overlay plane (see PlaneInfo). A state with a primary part (Damage
	// or Scanout) replaces the whole overlay set: planes it does not use
	// are switched off in the same commit.
	Overlays []Layer
	// Cursor is the cursor plane's new state; nil leaves it as it is.
	Cursor *Cursor
}

// Buffer is a client buffer for a plane.
type Buffer struct {
	// Key names the buffer for the output's import cache (Forget).
	Key    uint64
	Buffer *dmabuf.Buffer
}

// Layer is a client buffer on an overlay plane.
type Layer struct {
	// Key names the buffer for the output's import cache (Forget).
	Key    uint64
	Buffer *dmabuf.Buffer
	// Src is the part of the buffer shown, in 16.16 fixed-point buffer
	// pixels (the planes' SRC_* properties).
	Src Fixed16Rect
	// Dst is where it shows, in CRTC pixels (CRTC_* properties). A Dst
	// of another size than Src asks the plane to scale.
	Dst image.Rectangle
	// Opaque: the buffer covers Dst with opaque pixels (no alpha, or an
	// opaque region over all of it).
	Opaque bool
}

// Fixed16Rect is a rectangle in 16.16 fixed point.
type Fixed16Rect struct{ X, Y, W, H uint32 }

// Fixed16 makes a Fixed16Rect of whole pixels.
func Fixed16(r image.Rectangle) Fixed16Rect {
	return Fixed16Rect{uint32(r.Min.X) << 16, uint32(r.Min.Y) << 16, uint32(r.Dx()) << 16, uint32(r.Dy()) << 16}
}

// Cursor is what the cursor plane shows.
type Cursor struct {
	Visible bool
	// Image, when not nil, replaces the image: premultiplied ARGB8888 in
	// the output's logical orientation (the output applies its
	// transform), with Hotspot in its coordinates.
	Image   *render.Image
	Hotspot image.Point
	// Pos is the image's top-left corner in the output's logical
	// coordinates; it may be negative or past the edge.
	Pos image.Point
}

// PlaneInfo describes an overlay plane a state may put a buffer on.
type PlaneInfo struct {
	// ID is the plane's object id (for logs).
	ID uint32
	// Formats lists what the plane takes: format to modifiers.
	Formats map[uint32][]uint64
}

// Errors of a part of a state that the output cannot show. The state is
// then not applied at all; the caller composites that part and commits
// again without it.
var (
	// ErrScanoutRefused: the device cannot import the primary buffer or
	// its plane refuses it.
	ErrScanoutRefused = errors.New("the primary plane cannot show this buffer")
	// ErrOverlayRefused: an overlay buffer cannot be imported, or the
	// planes refuse the set of overlays (TEST_ONLY); the caller drops one
	// and tries again.
	ErrOverlayRefused = errors.New("the overlay planes cannot show this set of buffers")
	// ErrCursorRefused: no cursor plane, an image it cannot take (size,
	// format), no image to show, or a TEST_ONLY refusal.
	ErrCursorRefused = errors.New("the cursor plane cannot show this cursor")
)

// OverlayError is an ErrOverlayRefused that says which layer of the
// state was refused: Layer is its index in State.Overlays, or -1 when
// the planes refuse the set as a whole (the caller then drops one, the
// one worth least, and tries again).
type OverlayError struct {
	Layer int
	Err   error
}

func (e *OverlayError) Error() string {
	if e.Layer < 0 {
		return ErrOverlayRefused.Error() + ": " + e.Err.Error()
	}
	return fmt.Sprintf("%s: layer %d: %v", ErrOverlayRefused, e.Layer, e.Err)
}

func (e *OverlayError) Unwrap() []error { return []error{ErrOverlayRefused, e.Err} }
