package kms

import (
	"fmt"

	"github.com/vitrine-wm/vitrine/render"
	"github.com/vitrine-wm/vitrine/scene/present"
)

// Modes lists the connector's modes as the compositor offers them to
// clients (wlr-output-management), the preferred one first and each size
// and refresh once: connectors often list the same timing twice (once
// from the EDID, once as a standard mode).
func (o *Output) Modes() []present.Mode {
	var out []present.Mode
	add := func(m Mode) {
		pm := present.Mode{Width: m.Width, Height: m.Height, RefreshMilliHz: m.RefreshMilliHz}
		for _, have := range out {
			if have == pm {
				return
			}
		}
		out = append(out, pm)
	}
	if m, err := PickMode(o.modes, nil); err == nil {
		add(m)
	}
	for _, m := range o.modes {
		add(m)
	}
	return out
}

// SetMode switches the display to one of the connector's modes (a
// refresh of 0 takes the preferred, else the first, of that size): a
// blocking modeset with a new black buffer of the new size, after which
// Shadow has the new size. A CRTC cannot take custom timings safely
// from a size alone, so a size the connector does not list is refused.
// On failure the output keeps its mode and picture.
func (o *Output) SetMode(m present.Mode) error {
	spec := ModeSpec{Width: m.Width, Height: m.Height, RefreshMilliHz: m.RefreshMilliHz}
	mode, err := PickMode(o.modes, &spec)
	if err != nil {
		return fmt.Errorf("output %s: %w", o.name, err)
	}
	if m.RefreshMilliHz != 0 && mode.RefreshMilliHz != m.RefreshMilliHz {
		return fmt.Errorf("output %s: no %v mode (the nearest is %s)", o.name, m, mode)
	}
	return o.reconfigure(mode, o.transform)
}

// SetTransform rotates the display: by the plane where the driver can
// (tested as at start), else in the copy. It relights the output with a
// black buffer of the new framebuffer size, after which Shadow has the
// rotated size. On failure the output keeps its transform and picture.
func (o *Output) SetTransform(t render.Transform) error {
	if !t.Valid() {
		return fmt.Errorf("output %s: transform %d is not a wl_output transform", o.name, t)
	}
	return o.reconfigure(o.mode, t)
}

// reconfigure lights the output at mode and transform t. The new
// configuration is committed (ALLOW_MODESET, blocking: the kernel waits
// for a flip still in flight) before anything of the old one is freed,
// so a refusal leaves the old picture on screen, untouched.
//
// What was in flight is superseded: its page-flip event, if any, carries
// the old epoch and is ignored; the compositor's frame in flight is
// reported complete (at once, through the pace timer) since the new
// picture replaced it.
func (o *Output) reconfigure(mode Mode, t render.Transform) error {
	if o.closed {
		return fmt.Errorf("output %s: closed", o.name)
	}
	type config struct {
		mode         Mode
		modeBlob     uint32
		transform    render.Transform
		copyTrans    render.Transform
		planeRotated bool
		shadow       *render.Image
		ring         *DamageRing
		copiedBytes  int64
	}
	prev := config{o.mode, o.modeBlob, o.transform, o.copyTrans, o.planeRotated, o.shadow, o.ring, o.copiedBytes}
	restore := func() {
		o.mode, o.modeBlob, o.transform, o.copyTrans, o.planeRotated = prev.mode, prev.modeBlob, prev.transform, prev.copyTrans, prev.planeRotated
		o.shadow, o.ring, o.copiedBytes = prev.shadow, prev.ring, prev.copiedBytes
	}
	o.mode, o.transform, o.modeBlob = mode, t, 0
	o.decideRotation()
	buf, err := o.blackBuffer()
	if err == nil {
		if err = o.modeset(buf); err != nil {
			o.destroyBuffer(buf)
		}
	}
	if err != nil {
		if o.modeBlob != 0 {
			o.dev.DestroyBlob(o.modeBlob)
		}
		restore()
		return fmt.Errorf("output %s: %s %s: %w", o.name, mode, t, err)
	}
	if prev.modeBlob != 0 {
		if err := o.dev.DestroyBlob(prev.modeBlob); err != nil {
			o.warnUnlessGone("free mode blob", err)
		}
	}

	frameInFlight := o.flipPending() || len(o.paced) > 0 || len(o.queued) > 0 || o.queuedFrame || o.queuedImport != nil
	o.forgetInFlight()
	o.epoch++
	o.freeBuffers()
	o.bufs = append(o.bufs, buf)
	o.front, o.pending = buf, nil
	imps := [...]*importedFB{o.frontImport, o.pendingImport}
	o.frontImport, o.pendingImport = nil, nil
	for _, imp := range imps {
		o.leaveScreen(imp)
	}
	// The modeset switched the overlay planes off; a buffer a plane
	// refused at the old size may fit the new one.
	o.resetOverlays()
	clear(o.refused)
	// The cursor plane keeps its image, turned for the old transform:
	// the compositor hides and loads it again after any change
	// (scene's outputResized).
	o.off = false
	if frameInFlight {
		o.report(o.nowInfo(0), false)
	}
	o.log.Info("output configured", "mode", o.mode.String(), "transform", o.transform.String(),
		"plane_rotation", o.planeRotated, "size", fmt.Sprintf("%dx%d", o.shadow.Width, o.shadow.Height), "event", "output.modeset")
	return nil
}
