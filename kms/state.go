package kms

import (
	"errors"
	"fmt"
	"image"

	"github.com/vitrine-wm/vitrine/kms/dmabuf"
	"github.com/vitrine-wm/vitrine/render"
)

// OutputState is what an output shows from one commit on, in one value,
// the way wlroots' wlr_output_state is: the primary plane's content (the
// shadow image with its damage, or a client buffer) and the cursor
// plane's. A nil part stays as it is. Commit checks the parts together
// and commits them in one atomic commit, so a frame and the cursor move
// that goes with it reach the screen in the same refresh.
type OutputState struct {
	// Damage shows the shadow image on the primary plane, these
	// rectangles (shadow coordinates) changed since the last frame. An
	// empty, non-nil list draws nothing and completes at once.
	Damage []image.Rectangle
	// Scanout shows a client's buffer on the primary plane instead.
	Scanout *ScanoutState
	// Cursor is the cursor plane's new state.
	Cursor *CursorState
}

// ScanoutState is a client buffer for the primary plane.
type ScanoutState struct {
	// Key names the buffer for the output's import cache (see Forget).
	Key    uint64
	Buffer *dmabuf.Buffer
}

// CursorState is what the cursor plane shows.
type CursorState struct {
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

// Errors of a part of a state that the output cannot show. The state is
// then not applied at all; the caller composites that part and commits
// again without it.
var (
	// ErrScanoutRefused: the device cannot import the buffer or its
	// plane refuses it (TEST_ONLY, or PAGE_FLIP on the legacy path).
	// Remembered for the key until Forget, so a refusal costs nothing on
	// later frames.
	ErrScanoutRefused = errors.New("kms: the primary plane cannot show this buffer")
	// ErrCursorRefused: no cursor plane, an image it cannot take (size,
	// format), no image to show, or a TEST_ONLY refusal.
	ErrCursorRefused = errors.New("kms: the cursor plane cannot show this cursor")
)

// Commit checks s and makes it what the output shows. It never blocks:
// with no commit in flight s is committed now (NONBLOCK, with a
// page-flip event); otherwise it is kept, merged with what already
// waits, and committed from the event of the one in flight. A state with
// a primary part completes through notify, once; a cursor-only state
// does not.
//
// A primary part while the previous one has not completed fails with
// ErrFlipPending, unless the commit in flight is a cursor-only one.
func (o *Output) Commit(s OutputState) error {
	if o.closed {
		return fmt.Errorf("output %s: closed", o.name)
	}
	if s.Damage != nil && s.Scanout != nil {
		return fmt.Errorf("output %s: a state shows the shadow or a client buffer, not both", o.name)
	}
	if s.Damage != nil && o.queuedImport != nil || s.Scanout != nil && (o.flipPending() || len(o.queued) > 0 || o.queuedImport != nil) {
		return fmt.Errorf("output %s: %w", o.name, ErrFlipPending)
	}
	// Every check comes before anything the next commit carries changes.
	if s.Cursor != nil {
		if err := o.precheckCursor(s.Cursor); err != nil {
			return fmt.Errorf("output %s: %w", o.name, err)
		}
	}
	var imp *importedFB
	if s.Scanout != nil {
		var err error
		if imp, err = o.checkScanout(s.Scanout.Key, s.Scanout.Buffer); err != nil {
			return err
		}
	}
	if s.Cursor != nil {
		if err := o.applyCursor(s.Cursor); err != nil {
			return fmt.Errorf("output %s: %w", o.name, err)
		}
	}
	switch {
	case imp != nil:
		return o.showScanout(s.Scanout.Key, imp)
	case s.Damage != nil:
		return o.showShadow(s.Damage)
	default:
		if err := o.flushCursor(); err != nil {
			return fmt.Errorf("output %s: cursor commit: %w", o.name, err)
		}
		return nil
	}
}
