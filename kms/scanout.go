package kms

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/vitrine-wm/vitrine/kms/dmabuf"
	"github.com/vitrine-wm/vitrine/scene/present"
)

// importedFB is a client dma-buf registered as a framebuffer on the
// output's device, cached per scene key so a client cycling through its
// buffers is imported once per buffer, not once per frame.
type importedFB struct {
	key uint64
	fb  uint32
	// serial names the import for the plane test memo (planeTests);
	// unlike fb ids, serials are never reused.
	serial        uint64
	handles       []uint32 // distinct GEM handles, each released once
	width, height int
	tested        bool // an atomic TEST_ONLY commit accepted it
	// forgotten: Forget came while the framebuffer was on screen or
	// pending; it is freed once a completed flip has replaced it, because
	// RmFB of the framebuffer being scanned out switches the plane off on
	// some drivers.
	forgotten bool
}

// errUnsupportedModifier refuses a modifier before any ioctl: a device
// without DRM_CAP_ADDFB2_MODIFIERS can only take implicit (linear) layouts.
var errUnsupportedModifier = errors.New("modifier not supported by the device")

// errNotListed refuses a format/modifier the plane does not list.
var errNotListed = errors.New("format/modifier not offered by the plane")

// scanoutFormatTable is what the primary plane can show of a client's
// buffer: IN_FORMATS when the driver has it, else every legacy format as
// LINEAR. DRM_FORMAT_MOD_INVALID is never listed (it is not a layout), and
// a device that cannot take explicit modifiers keeps LINEAR only, since
// its framebuffers are created without them.
func scanoutFormatTable(in []FormatModifiers, haveIn bool, legacy []uint32, modifiers bool) map[uint32][]uint64 {
	out := map[uint32][]uint64{}
	if !haveIn {
		for _, f := range legacy {
			out[f] = []uint64{ModifierLinear}
		}
		return out
	}
	for _, fm := range in {
		for _, m := range fm.Modifiers {
			if m == ModifierInvalid || (!modifiers && m != ModifierLinear) {
				continue
			}
			if !slices.Contains(out[fm.Format], m) {
				out[fm.Format] = append(out[fm.Format], m)
			}
		}
	}
	return out
}

// initScanout reads what the primary plane takes; called once the plane is
// picked.
func (o *Output) initScanout() {
	o.imports = map[uint64]*importedFB{}
	o.refused = map[uint64]error{}
	if v, err := o.dev.Cap(CapAddFB2Modifiers); err == nil && v != 0 {
		o.modifiers = true
	}
	if o.plane == nil {
		// Legacy without universal planes: only the format the CRTC
		// already shows is known to work.
		o.scanFormats = map[uint32][]uint64{uint32(o.format): {ModifierLinear}}
		return
	}
	in, ok, err := o.dev.InFormats(o.plane)
	if err != nil {
		o.log.Debug("IN_FORMATS unreadable; using the plane's format list", "err", err)
		ok = false
	}
	o.scanFormats = scanoutFormatTable(in, ok, o.plane.Formats, o.modifiers)
}

// DeviceID is the display device's dev_t (st_rdev of the card node).
func (o *Output) DeviceID() uint64 { return o.dev.DeviceID() }

// ScanoutFormats lists what the primary plane can scan out of a client
// buffer: format to modifiers. The caller may keep the map.
func (o *Output) ScanoutFormats() map[uint32][]uint64 {
	out := maps.Clone(o.scanFormats)
	for f, ms := range out {
		out[f] = slices.Clone(ms)
	}
	return out
}

// Scanouts is the number of frames shown by direct scanout.
func (o *Output) Scanouts() int64 { return o.scanouts }

// Scanout shows buf on the primary plane instead of the shadow image:
// Commit with only a ScanoutState. Its completion is reported through
// notify like a Present, with present.ZeroCopy set. ok is false, with a
// nil error, when the device cannot import buf or refuses to show it
// (ErrScanoutRefused); that is remembered for key until Forget, so a
// refused buffer costs nothing on later frames. Errors are for failures
// unrelated to the buffer. While a cursor-only commit is in flight the
// buffer is tested now and committed when that one lands.
func (o *Output) Scanout(key uint64, buf *dmabuf.Buffer) (ok bool, err error) {
	err = o.Commit(OutputState{Scanout: &ScanoutState{Key: key, Buffer: buf}})
	if errors.Is(err, ErrScanoutRefused) {
		return false, nil
	}
	return err == nil, err
}

// checkScanout imports buf (once per key) and, on the atomic path, asks
// the driver whether the plane shows it (TEST_ONLY, once per
// framebuffer; a test needs no idle CRTC).
func (o *Output) checkScanout(key uint64, buf *dmabuf.Buffer) (*importedFB, error) {
	if err, refused := o.refused[key]; refused {
		return nil, fmt.Errorf("output %s: %w: %w", o.name, ErrScanoutRefused, err)
	}
	if !o.atomic && (buf.Width != o.mode.Width || buf.Height != o.mode.Height) {
		// PAGE_FLIP cannot change the CRTC's viewport: only a framebuffer
		// of the mode's size shows what a composited frame would.
		return nil, o.refuse(key, nil, &scanoutRefusal{"size", fmt.Errorf("%dx%d buffer on a %dx%d mode", buf.Width, buf.Height, o.mode.Width, o.mode.Height)})
	}
	imp := o.imports[key]
	if imp == nil {
		var err error
		imp, err = o.importBuffer(buf, o.scanFormats)
		if err != nil {
			return nil, o.refuse(key, nil, &scanoutRefusal{"import", err})
		}
		imp.key = key
		o.imports[key] = imp
	}
	if o.atomic && !imp.tested {
		if err := o.dev.Commit(o.scanoutRequest(imp), AtomicTestOnly, 0); err != nil {
			if errors.Is(err, present.ErrRevoked) {
				// No verdict on the buffer: ask again once the display
				// is ours.
				return nil, fmt.Errorf("output %s: %w", o.name, err)
			}
			return nil, o.refuse(key, imp, &scanoutRefusal{"TEST_ONLY", err})
		}
		imp.tested = true
	}
	return imp, nil
}

// showScanout is the primary part of a state showing imp: committed now,
// or queued behind the cursor-only commit in flight.
func (o *Output) showScanout(key uint64, imp *importedFB) error {
	var err error
	switch {
	case !o.atomic:
		// No TEST_ONLY without atomic: the flip itself is the test.
		if err := o.dev.PageFlip(o.crtcID, imp.fb, PageFlipEvent, o.flipTag()); err != nil {
			if errors.Is(err, present.ErrRevoked) {
				return fmt.Errorf("output %s: direct scanout: %w", o.name, err)
			}
			return o.refuse(key, imp, &scanoutRefusal{"PAGE_FLIP", err})
		}
		o.pendingImport = imp
	case o.busy():
		o.queuedImport = imp
	default:
		err = o.commitScanout(imp)
	}
	if err != nil {
		return fmt.Errorf("output %s: direct scanout: %w", o.name, err)
	}
	o.scanouts++
	// The dumb buffers are off screen from now on and the shadow is not
	// drawn while a client buffer is shown: whatever is composited next
	// is copied whole, whatever damage comes with it.
	for _, b := range o.bufs {
		b.seq = 0
	}
	return nil
}

// scanoutRefusal is the driver saying no to this buffer (as opposed to
// the commit failing for reasons of its own).
type scanoutRefusal struct {
	step string
	err  error
}

func (r *scanoutRefusal) Error() string { return r.step + ": " + r.err.Error() }

// scanoutRequest is the primary plane showing imp over the whole mode.
func (o *Output) scanoutRequest(imp *importedFB) *AtomicRequest {
	req := &o.req
	req.Reset()
	// The client's buffer is in the framebuffer's own orientation (the
	// scene only offers buffers whose buffer transform equals the output
	// transform, at the mode's size), so the plane must not rotate it
	// again, even when it rotates the shadow's framebuffers.
	o.planeState(req, imp.fb, imp.width, imp.height, rotate0)
	req.Add(o.crtcID, o.crtcProps.ID("ACTIVE"), 1)
	return req
}

// commitScanout flips to imp, with any cursor change; no commit is in
// flight.
func (o *Output) commitScanout(imp *importedFB) error {
	req := o.scanoutRequest(imp)
	o.addOverlays(req)
	o.foldCursor(req)
	if err := o.dev.Commit(req, AtomicNonblock|PageFlipEvent, o.flipTag()); err != nil {
		return err
	}
	o.cursorCommitted()
	o.overlaysCommitted()
	o.pendingImport = imp
	return nil
}

// refuse remembers that key cannot be scanned out and drops its
// framebuffer, if it got one.
func (o *Output) refuse(key uint64, imp *importedFB, r *scanoutRefusal) error {
	o.refused[key] = r
	o.log.Debug("direct scanout refused; compositing this buffer", "key", key, "step", r.step, "errno", errnoName(r.err), "err", r.err, "event", "scanout.refused")
	if imp != nil {
		delete(o.imports, key)
		if o.inUse(imp) {
			// On an overlay plane: freed once it leaves it.
			imp.forgotten = true
		} else {
			o.freeImport(imp)
		}
	}
	return fmt.Errorf("output %s: %w: %w", o.name, ErrScanoutRefused, r)
}

// checkListed refuses a buffer whose format and modifier the plane's
// table does not list, before any ioctl.
func checkListed(buf *dmabuf.Buffer, formats map[uint32][]uint64, modifiers bool) error {
	mod := buf.Modifier
	if mod != ModifierInvalid && mod != ModifierLinear && !modifiers {
		return fmt.Errorf("%s: %w", ModifierName(mod), errUnsupportedModifier)
	}
	listed := formats[buf.Format]
	if len(listed) == 0 || (mod != ModifierInvalid && !slices.Contains(listed, mod)) {
		return fmt.Errorf("%s %s: %w", FourCC(buf.Format), ModifierName(mod), errNotListed)
	}
	return nil
}

// importBuffer turns buf's planes into GEM handles (PRIME) and a
// framebuffer, if formats (the plane's table) lists its format.
func (o *Output) importBuffer(buf *dmabuf.Buffer, formats map[uint32][]uint64) (_ *importedFB, err error) {
	if len(buf.Planes) == 0 || len(buf.Planes) > 4 || buf.Width <= 0 || buf.Height <= 0 {
		return nil, fmt.Errorf("%dx%d buffer with %d planes", buf.Width, buf.Height, len(buf.Planes))
	}
	if err := checkListed(buf, formats, o.modifiers); err != nil {
		return nil, err
	}
	mod := buf.Modifier
	o.importSerial++
	imp := &importedFB{width: buf.Width, height: buf.Height, serial: o.importSerial}
	defer func() {
		if err != nil {
			o.releaseHandles(imp)
		}
	}()
	byFD := map[int]uint32{}
	planes := make([]FBPlane, len(buf.Planes))
	for i, p := range buf.Planes {
		h, seen := byFD[p.FD]
		if !seen {
			if h, err = o.dev.importPrime(p.FD); err != nil {
				return nil, err
			}
			byFD[p.FD] = h
			if !slices.Contains(imp.handles, h) {
				imp.handles = append(imp.handles, h)
			} else {
				// Two fds of one dma-buf: one handle, one reference.
				o.dev.releasePrime(h)
			}
		}
		planes[i] = FBPlane{Handle: h, Pitch: p.Stride, Offset: p.Offset}
	}
	if !o.modifiers {
		// Without the cap an explicit modifier is refused; LINEAR is what
		// the implicit layout means for these drivers.
		mod = ModifierInvalid
	}
	if imp.fb, err = o.dev.AddFB2(buf.Width, buf.Height, buf.Format, mod, planes); err != nil {
		return nil, err
	}
	return imp, nil
}

// freeImport removes an imported framebuffer that is not on screen.
func (o *Output) freeImport(imp *importedFB) {
	if imp.fb != 0 {
		if err := o.dev.RmFB(imp.fb); err != nil {
			o.log.Warn("free client framebuffer", "err", err)
		}
		imp.fb = 0
	}
	o.releaseHandles(imp)
}

func (o *Output) releaseHandles(imp *importedFB) {
	for _, h := range imp.handles {
		if err := o.dev.releasePrime(h); err != nil {
			o.log.Warn("close imported buffer handle", "err", err)
		}
	}
	imp.handles = nil
}

// Forget drops the framebuffer and handles cached for key (the buffer is
// gone). A framebuffer still on screen or pending is freed once a
// completed flip has replaced it.
func (o *Output) Forget(key uint64) {
	delete(o.refused, key)
	delete(o.overlayRefused, key)
	imp := o.imports[key]
	if imp == nil {
		return
	}
	delete(o.imports, key)
	if o.inUse(imp) {
		imp.forgotten = true
		o.log.Debug("client framebuffer still on screen; freeing it after the next flip", "key", key, "fb", imp.fb)
		return
	}
	o.log.Debug("freeing client framebuffer", "key", key, "fb", imp.fb)
	o.freeImport(imp)
}

// leaveScreen is called when imp stopped being on screen (or pending):
// a forgotten framebuffer can go now.
func (o *Output) leaveScreen(imp *importedFB) {
	if imp != nil && imp.forgotten && !o.inUse(imp) {
		o.log.Debug("freeing replaced client framebuffer", "key", imp.key, "fb", imp.fb)
		o.freeImport(imp)
	}
}

// freeImports releases every imported framebuffer; the CRTC no longer
// shows any of them.
func (o *Output) freeImports() {
	seen := map[*importedFB]bool{}
	for _, imp := range []*importedFB{o.frontImport, o.pendingImport, o.queuedImport} {
		if imp != nil {
			seen[imp] = true
		}
	}
	for _, ov := range o.overlays {
		for _, s := range []overlaySlot{ov.next, ov.pending, ov.front} {
			if s.imp != nil {
				seen[s.imp] = true
			}
		}
		ov.next, ov.pending, ov.front, ov.inFlight = overlaySlot{}, overlaySlot{}, overlaySlot{}, false
	}
	for _, imp := range o.imports {
		seen[imp] = true
	}
	for imp := range seen {
		o.freeImport(imp)
	}
	o.frontImport, o.pendingImport, o.queuedImport = nil, nil, nil
	clear(o.imports)
	clear(o.refused)
	clear(o.overlayRefused)
}

// importPrime imports a dma-buf fd and counts the handle's users.
func (d *Device) importPrime(fd int) (uint32, error) {
	h, err := d.ImportDMABUF(fd)
	if err != nil {
		return 0, err
	}
	if d.primeRefs == nil {
		d.primeRefs = map[uint32]int{}
	}
	d.primeRefs[h]++
	return h, nil
}

// releasePrime drops one user of an imported handle and closes it after
// the last.
func (d *Device) releasePrime(h uint32) error {
	if d.primeRefs[h] > 1 {
		d.primeRefs[h]--
		return nil
	}
	delete(d.primeRefs, h)
	return d.CloseHandle(h)
}
