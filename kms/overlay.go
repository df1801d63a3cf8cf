package kms

import (
	"cmp"
	"errors"
	"fmt"
	"image"
	"slices"

	"github.com/vitrine-wm/vitrine/kms/dmabuf"
	"github.com/vitrine-wm/vitrine/scene/present"
)

// maxOverlaysPerOutput bounds the overlay planes one output claims, so
// a second output on the device still finds some (vkms offers eight,
// display controllers usually two to four).
const maxOverlaysPerOutput = 4

// overlayPlane is an overlay plane the output may put client buffers on.
// A plane belongs to one output at a time (Device.claimPlane).
//
// next is what the next frame commit shows on it (checked by Commit);
// pending what the commit in flight put there (while inFlight); front
// what is on screen. A framebuffer in any of them is not freed
// (importedFB.forgotten waits for inUse to end).
type overlayPlane struct {
	plane   *Plane
	formats map[uint32][]uint64
	// zpos is written with every enable when the plane's zpos is
	// mutable: above the primary, in the order the planes were sorted.
	zpos    uint64
	setZpos bool
	// blend is the "pixel blend mode" value for premultiplied alpha,
	// which is what Wayland buffers hold.
	blend    uint64
	setBlend bool

	next, pending, front overlaySlot
	inFlight             bool
}

// overlaySlot is one plane's content: a framebuffer and its rectangles,
// or nothing (the plane is off).
type overlaySlot struct {
	imp *importedFB
	src present.Fixed16Rect
	dst image.Rectangle
}

// committed is what the plane was last told to show.
func (ov *overlayPlane) committed() overlaySlot {
	if ov.inFlight {
		return ov.pending
	}
	return ov.front
}

// initOverlays claims the overlay planes the output's CRTC can use, in
// stacking order (zpos, then id), above the primary plane. Legacy
// outputs have none: PAGE_FLIP knows only the primary plane.
func (o *Output) initOverlays(disabled bool) {
	o.overlayRefused = map[uint64]error{}
	if !o.atomic || disabled || o.plane == nil {
		return
	}
	planes, err := o.dev.Planes()
	if err != nil {
		o.log.Debug("no overlay planes: planes unreadable", "err", err)
		return
	}
	primaryZ, primaryHasZ := o.plane.Props["zpos"]
	var found []*overlayPlane
	for _, p := range planes {
		if p.Type() != PlaneOverlay || p.PossibleCrtcs&(1<<o.crtcIndex) == 0 || o.dev.planeClaimed(p.ID) {
			continue
		}
		if p.CrtcID != 0 && p.CrtcID != o.crtcID {
			continue // another CRTC shows it
		}
		in, ok, err := o.dev.InFormats(p)
		if err != nil {
			ok = false
		}
		ov := &overlayPlane{plane: p, formats: scanoutFormatTable(in, ok, p.Formats, o.modifiers)}
		if z, ok := p.Props["zpos"]; ok {
			ov.zpos = z.Value
			ov.setZpos = z.Flags&PropFlagImmutable == 0
			if !ov.setZpos && primaryHasZ && z.Value <= primaryZ.Value {
				continue // fixed below the primary plane: it would be covered
			}
		}
		if b, ok := p.Props["pixel blend mode"]; ok {
			ov.blend, ov.setBlend = b.EnumValue("Pre-multiplied")
		}
		found = append(found, ov)
	}
	slices.SortStableFunc(found, func(a, b *overlayPlane) int {
		return cmp.Or(cmp.Compare(a.zpos, b.zpos), cmp.Compare(a.plane.ID, b.plane.ID))
	})
	if len(found) > maxOverlaysPerOutput {
		found = found[:maxOverlaysPerOutput]
	}
	for i, ov := range found {
		if ov.setZpos {
			// Mutable: stack them above the primary in this order,
			// whatever another master left.
			ov.zpos = uint64(i + 1)
			if primaryHasZ {
				ov.zpos += primaryZ.Value
			}
		}
		o.dev.claimPlane(ov.plane.ID)
		o.overlayInfo = append(o.overlayInfo, present.PlaneInfo{ID: ov.plane.ID, Formats: ov.formats})
		o.log.Debug("overlay plane", "plane", ov.plane.ID, "zpos", ov.zpos, "formats", len(ov.formats), "event", "overlay.plane")
	}
	o.overlays = found
	o.checked = make([]overlaySlot, len(found))
}

// OverlayPlanes describes the overlay planes a state's Overlays go on,
// bottom to top; none on the legacy path or with
// Options.NoOverlayPlanes. The caller must not change the result.
func (o *Output) OverlayPlanes() []present.PlaneInfo { return o.overlayInfo }

// releaseOverlays gives the planes back to the device.
func (o *Output) releaseOverlays() {
	for _, ov := range o.overlays {
		o.dev.releasePlane(ov.plane.ID)
	}
}

// checkOverlays imports each layer's buffer (once per key) and asks the
// driver whether the planes show the set together with the primary
// part (TEST_ONLY, once per set: passed and refused sets are
// remembered). The result waits in o.checked for takeCheckedOverlays.
func (o *Output) checkOverlays(layers []OverlayState, primary *importedFB) error {
	if len(layers) > len(o.overlays) {
		err := fmt.Errorf("%d layers on %d overlay planes", len(layers), len(o.overlays))
		if !o.atomic {
			err = errLegacyOverlays
		}
		return fmt.Errorf("output %s: %w", o.name, &present.OverlayError{Layer: len(o.overlays), Err: err})
	}
	for i := range o.checked {
		o.checked[i] = overlaySlot{}
	}
	for i, l := range layers {
		imp, err := o.importOverlay(l.Key, l.Buffer, o.overlays[i].formats)
		if err != nil {
			return fmt.Errorf("output %s: %w", o.name, &present.OverlayError{Layer: i, Err: err})
		}
		o.checked[i] = overlaySlot{imp: imp, src: l.Src, dst: l.Dst}
	}
	if len(layers) == 0 {
		return nil
	}
	sig := o.planesSignature(primary)
	passed, known := o.tests.lookup(sig)
	if known && passed {
		return nil
	}
	var err error
	if known {
		err = errRefusedBefore
	} else {
		err = o.dev.Commit(o.overlayTestRequest(primary), AtomicTestOnly, 0)
		if errors.Is(err, present.ErrRevoked) {
			// Not master now (a session pausing): no verdict.
			return fmt.Errorf("output %s: %w", o.name, err)
		}
		o.tests.record(sig, err == nil)
		if err == nil {
			return nil
		}
		o.log.Debug("overlay planes refused; compositing one more layer", "layers", len(layers), "errno", errnoName(err), "err", err, "event", "overlay.refused")
	}
	return fmt.Errorf("output %s: %w", o.name, &present.OverlayError{Layer: -1, Err: err})
}

// errRefusedBefore is a set of overlays TEST_ONLY refused earlier.
var errRefusedBefore = fmt.Errorf("TEST_ONLY refused this set of planes before")

// importOverlay is checkScanout's import for an overlay plane that
// lists formats: refusals are remembered per key in overlayRefused.
func (o *Output) importOverlay(key uint64, buf *dmabuf.Buffer, formats map[uint32][]uint64) (*importedFB, error) {
	if err, refused := o.overlayRefused[key]; refused {
		return nil, err
	}
	if err := checkListed(buf, formats, o.modifiers); err != nil {
		o.overlayRefused[key] = err
		return nil, err
	}
	imp := o.imports[key]
	if imp == nil {
		var err error
		if imp, err = o.importBuffer(buf, formats); err != nil {
			o.overlayRefused[key] = err
			o.log.Debug("overlay import refused; compositing this buffer", "key", key, "errno", errnoName(err), "err", err, "event", "overlay.refused")
			return nil, err
		}
		imp.key = key
		o.imports[key] = imp
	}
	return imp, nil
}

// overlayTestRequest is the whole plane configuration o.checked makes,
// with the primary showing primary or, for nil, a shadow framebuffer
// (all of them have one geometry; their contents do not matter to a
// test).
func (o *Output) overlayTestRequest(primary *importedFB) *AtomicRequest {
	req := &o.req
	req.Reset()
	if primary != nil {
		o.planeState(req, primary.fb, primary.width, primary.height, rotate0)
	} else {
		b := o.bufs[0]
		o.planeState(req, b.fb, b.img.Width, b.img.Height, o.shadowRotation())
	}
	req.Add(o.crtcID, o.crtcProps.ID("ACTIVE"), 1)
	for i, ov := range o.overlays {
		o.overlayState(req, ov, o.checked[i])
	}
	return req
}

// overlayState adds ov showing slot, or off for an empty slot.
func (o *Output) overlayState(req *AtomicRequest, ov *overlayPlane, slot overlaySlot) {
	p, id := ov.plane.Props, ov.plane.ID
	if slot.imp == nil {
		req.Add(id, p.ID("FB_ID"), 0)
		req.Add(id, p.ID("CRTC_ID"), 0)
		return
	}
	req.Add(id, p.ID("FB_ID"), uint64(slot.imp.fb))
	req.Add(id, p.ID("CRTC_ID"), uint64(o.crtcID))
	req.Add(id, p.ID("SRC_X"), uint64(slot.src.X))
	req.Add(id, p.ID("SRC_Y"), uint64(slot.src.Y))
	req.Add(id, p.ID("SRC_W"), uint64(slot.src.W))
	req.Add(id, p.ID("SRC_H"), uint64(slot.src.H))
	req.Add(id, p.ID("CRTC_X"), uint64(int64(slot.dst.Min.X)))
	req.Add(id, p.ID("CRTC_Y"), uint64(int64(slot.dst.Min.Y)))
	req.Add(id, p.ID("CRTC_W"), uint64(slot.dst.Dx()))
	req.Add(id, p.ID("CRTC_H"), uint64(slot.dst.Dy()))
	if p.Has("rotation") {
		req.Add(id, p.ID("rotation"), rotate0)
	}
	if p.Has("alpha") {
		req.Add(id, p.ID("alpha"), 0xffff)
	}
	if ov.setBlend {
		req.Add(id, p.ID("pixel blend mode"), ov.blend)
	}
	if ov.setZpos {
		req.Add(id, p.ID("zpos"), ov.zpos)
	}
}

// takeCheckedOverlays makes the checked layers what the next frame
// commit shows.
func (o *Output) takeCheckedOverlays() {
	for i, ov := range o.overlays {
		old := ov.next
		ov.next = o.checked[i]
		o.checked[i] = overlaySlot{}
		if old.imp != ov.next.imp {
			o.leaveScreen(old.imp)
		}
	}
}

// overlaysChanged reports whether the next frame changes an overlay
// plane, so it must be committed even with no damage on the primary.
func (o *Output) overlaysChanged() bool {
	for _, ov := range o.overlays {
		if ov.next != ov.committed() {
			return true
		}
	}
	return false
}

// addOverlays adds every overlay plane whose content the next frame
// changes to req, a frame commit: new layers, moved ones, and planes
// switched off because the frame does not use them.
func (o *Output) addOverlays(req *AtomicRequest) {
	for _, ov := range o.overlays {
		if ov.next != ov.committed() {
			o.overlayState(req, ov, ov.next)
		}
	}
}

// overlaysCommitted records that a frame commit carrying o's next
// overlays went through.
func (o *Output) overlaysCommitted() {
	for _, ov := range o.overlays {
		ov.pending, ov.inFlight = ov.next, true
	}
}

// overlaysLanded is the flip of a frame commit: what it put on the
// overlay planes is on screen, and what it replaced may go.
func (o *Output) overlaysLanded() {
	for _, ov := range o.overlays {
		if !ov.inFlight {
			continue
		}
		old := ov.front
		ov.front, ov.pending, ov.inFlight = ov.pending, overlaySlot{}, false
		if old.imp != ov.front.imp {
			o.leaveScreen(old.imp)
		}
	}
}

// OverlaysShown is how many overlay planes show a client buffer from
// the last frame commit on.
func (o *Output) OverlaysShown() int {
	n := 0
	for _, ov := range o.overlays {
		if ov.committed().imp != nil {
			n++
		}
	}
	return n
}

// resetOverlays forgets what the overlay planes show: a modeset (which
// switches them off, see modesetRequest) replaced it, or the output is
// closing.
func (o *Output) resetOverlays() {
	for _, ov := range o.overlays {
		slots := [...]*importedFB{ov.next.imp, ov.pending.imp, ov.front.imp}
		ov.next, ov.pending, ov.front, ov.inFlight = overlaySlot{}, overlaySlot{}, overlaySlot{}, false
		for _, imp := range slots {
			o.leaveScreen(imp)
		}
	}
	o.tests.reset()
}

// switchOverlaysOff takes our overlay planes off the CRTC in a blocking
// commit, before Close restores the console with the legacy SETCRTC,
// which leaves planes other than the primary alone.
func (o *Output) switchOverlaysOff() {
	if o.OverlaysShown() == 0 {
		return
	}
	req := &AtomicRequest{}
	for _, ov := range o.overlays {
		o.overlayState(req, ov, overlaySlot{})
	}
	if err := o.dev.Commit(req, 0, 0); err != nil {
		o.warnUnlessGone("switch the overlay planes off", err)
	}
}

// inUse reports whether imp is on screen, pending, or waiting to be
// committed, on the primary or an overlay plane: then it must not be
// freed yet.
func (o *Output) inUse(imp *importedFB) bool {
	if imp == o.frontImport || imp == o.pendingImport || imp == o.queuedImport {
		return true
	}
	for _, ov := range o.overlays {
		if imp == ov.next.imp || imp == ov.front.imp || ov.inFlight && imp == ov.pending.imp {
			return true
		}
	}
	for _, s := range o.checked {
		if imp == s.imp {
			return true
		}
	}
	return false
}

// planesSignature names the plane configuration o.checked makes with
// primary (nil: a shadow framebuffer) for the test memo: import serials
// and rectangles, FNV-1a style.
func (o *Output) planesSignature(primary *importedFB) uint64 {
	h := uint64(14695981039346656037)
	mix := func(v uint64) { h = (h ^ v) * 1099511628211 }
	if primary != nil {
		mix(primary.serial)
	}
	for _, s := range o.checked {
		if s.imp == nil {
			mix(0)
			continue
		}
		mix(s.imp.serial)
		mix(uint64(s.src.X)<<32 | uint64(s.src.Y))
		mix(uint64(s.src.W)<<32 | uint64(s.src.H))
		mix(uint64(uint32(s.dst.Min.X))<<32 | uint64(uint32(s.dst.Min.Y)))
		mix(uint64(uint32(s.dst.Max.X))<<32 | uint64(uint32(s.dst.Max.Y)))
	}
	return h
}

// planeTests remembers the last TEST_ONLY answers per plane
// configuration, so a steady scene (a video cycling through a few
// buffers at one place) tests each configuration once.
type planeTests struct {
	sig  [16]uint64
	ok   [16]bool
	n    int
	next int
}

func (t *planeTests) lookup(sig uint64) (passed, known bool) {
	for i := range t.n {
		if t.sig[i] == sig {
			return t.ok[i], true
		}
	}
	return false, false
}

func (t *planeTests) record(sig uint64, ok bool) {
	t.sig[t.next], t.ok[t.next] = sig, ok
	t.next = (t.next + 1) % len(t.sig)
	t.n = min(t.n+1, len(t.sig))
}

func (t *planeTests) reset() { t.n, t.next = 0, 0 }

// claimPlane marks an overlay plane as one output's.
func (d *Device) claimPlane(id uint32) {
	if d.planeClaims == nil {
		d.planeClaims = map[uint32]bool{}
	}
	d.planeClaims[id] = true
}

func (d *Device) releasePlane(id uint32) { delete(d.planeClaims, id) }

func (d *Device) planeClaimed(id uint32) bool { return d.planeClaims[id] }
