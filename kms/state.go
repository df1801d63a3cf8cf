package kms

import (
	"errors"
	"fmt"

	"github.com/vitrine-wm/vitrine/scene/present"
)

// OutputState is what an output shows from one commit on, in one value
// (present.State, shared with the scene, which builds one per frame): the
// primary plane's content (the shadow image with its damage, or a client
// buffer), the overlay planes' client buffers and the cursor plane's.
// Commit checks the parts together and commits them in one atomic
// commit, so a frame, its overlays and the cursor move that goes with it
// reach the screen in the same refresh.
type OutputState = present.State

// ScanoutState is a client buffer for the primary plane.
type ScanoutState = present.Buffer

// OverlayState is a client buffer on an overlay plane.
type OverlayState = present.Layer

// CursorState is what the cursor plane shows.
type CursorState = present.Cursor

// Errors of a part of a state that the output cannot show. The state is
// then not applied at all; the caller composites that part and commits
// again without it.
var (
	// ErrScanoutRefused: the device cannot import the buffer or its
	// plane refuses it (TEST_ONLY, or PAGE_FLIP on the legacy path).
	// Remembered for the key until Forget, so a refusal costs nothing on
	// later frames.
	ErrScanoutRefused = present.ErrScanoutRefused
	// ErrOverlayRefused: an overlay buffer the device cannot import or
	// its plane does not list (remembered per key, like scanout), or a
	// set of overlays TEST_ONLY refuses (remembered per set). The error
	// is a *present.OverlayError naming the layer when one is to blame.
	ErrOverlayRefused = present.ErrOverlayRefused
	// ErrCursorRefused: no cursor plane, an image it cannot take (size,
	// format), no image to show, or a TEST_ONLY refusal.
	ErrCursorRefused = present.ErrCursorRefused
)

// Commit checks s and makes it what the output shows. It never blocks:
// with no commit in flight s is committed now (NONBLOCK, with a
// page-flip event); otherwise it is kept, merged with what already
// waits, and committed from the event of the one in flight. A state with
// a primary part completes through notify, once; a cursor-only state
// does not. A state with a primary part also sets the overlay planes:
// those it lists show its layers, the others are switched off, in the
// same commit.
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
	primary := s.Damage != nil || s.Scanout != nil
	if !primary && len(s.Overlays) > 0 {
		return fmt.Errorf("output %s: overlays come with the primary plane's part of a state", o.name)
	}
	if s.Damage != nil && o.queuedImport != nil || s.Scanout != nil && (o.flipPending() || len(o.queued) > 0 || o.queuedFrame || o.queuedImport != nil) {
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
	if primary {
		if err := o.checkOverlays(s.Overlays, imp); err != nil {
			return err
		}
	}
	if s.Cursor != nil {
		if err := o.applyCursor(s.Cursor); err != nil {
			return fmt.Errorf("output %s: %w", o.name, err)
		}
	}
	if primary {
		o.takeCheckedOverlays()
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

// errLegacyOverlays refuses overlays on the legacy path: PAGE_FLIP and
// SETCRTC know only the primary plane.
var errLegacyOverlays = errors.New("overlay planes need atomic modesetting")
