package kms

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/render"
	"github.com/vitrine-wm/vitrine/scene/present"
)

// Timer is a one-shot timer whose function runs on the goroutine that
// drives the outputs: the compositor's event loop (*eventloop.Timer is
// one). Outputs use timers to pace completions and to let a frame pick up
// a cursor move before it is committed alone; they never sleep.
type Timer interface {
	// Set arms the timer for the CLOCK_MONOTONIC time at (a deadline in
	// the past fires at the next iteration), replacing any earlier one.
	Set(at time.Duration)
	Stop()
}

// OutputConfig is the per-output part of Options.
type OutputConfig struct {
	Mode   string           // "WxH" or "WxH@Hz"; "" picks the preferred mode
	Rotate render.Transform // output transform; done by the plane if the driver can, else in the copy
}

// Options configure the outputs of a device.
type Options struct {
	OutputConfig                         // default for every output
	PerOutput    map[string]OutputConfig // by connector name ("HDMI-A-1"), replaces the default
	ForceLegacy  bool                    // use SETCRTC/PAGE_FLIP/DIRTYFB even if atomic works
	Buffers      int                     // scanout buffers per output; 0 picks per driver (see Output)
	Logger       *slog.Logger

	// NewTimer makes a timer on the loop that dispatches the device's
	// events (see Timer). Required.
	NewTimer func(fn func()) Timer

	// NoPlaneRotation turns the picture in the CPU copy even where the
	// plane's "rotation" property passes TEST_ONLY: for drivers whose
	// plane rotation is broken, and to compare both paths.
	NoPlaneRotation bool

	// NoOverlayPlanes leaves the overlay planes alone: client buffers
	// go on the primary plane or are composited (to compare the paths,
	// or for drivers whose overlays misbehave).
	NoOverlayPlanes bool
}

func (o *Options) configFor(name string) (OutputConfig, error) {
	c := o.OutputConfig
	if pc, ok := o.PerOutput[name]; ok {
		c = pc
	}
	if !c.Rotate.Valid() {
		return c, fmt.Errorf("output %s: invalid transform %d", name, c.Rotate)
	}
	return c, nil
}

func (o *Options) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.Default()
}

// scanoutBuffer is a mapped dumb buffer registered as a framebuffer.
type scanoutBuffer struct {
	dumb *DumbBuffer
	fb   uint32
	img  render.Image // view of dumb.Map: write-only
	seq  uint64       // DamageRing frame the contents match; 0: never drawn
}

// Output is one connected connector lit by a CRTC and its primary plane,
// showing a CPU-composited shadow image, or a client's dma-buf directly
// (Scanout, see scanout.go), with the pointer on a cursor plane when there
// is one (cursor.go).
//
// Every Present copies only damaged rectangles from the shadow into a
// scanout buffer (with the output transform when the plane cannot rotate)
// and sends the same rectangles to the driver (FB_DAMAGE_CLIPS or DIRTYFB).
// Buffers remember which frame they hold, so a buffer shown two frames ago
// receives the damage of both frames since.
//
// Drivers that upload each framebuffer to a host or a remote display on
// commit (virtio_gpu, vmwgfx) ignore damage clips when the plane changes
// framebuffers and then upload the whole screen; there the scanout memory is
// never read by a display while the CPU writes it, so one buffer
// re-committed with damage clips is both tear-free and cheapest. Other
// drivers get two buffers (Options.Buffers can ask for three).
//
// An Output is driven from one goroutine, the compositor's loop: its
// methods, the page-flip events (Device.DispatchEvents) and its timers all
// run there, so nothing in it is locked and nothing blocks. A CRTC takes
// one commit at a time, so what arrives while one is in flight (a frame
// presented during a cursor-only commit, a cursor move during a frame) is
// state for the next commit, made when the flip event comes.
type Output struct {
	dev    *Device
	log    *slog.Logger
	notify func(present.Info)
	now    func() time.Duration // CLOCK_MONOTONIC; a field so tests can drive it

	connID    uint32
	name      string
	desc      string
	mmW, mmH  int
	crtcID    uint32
	crtcIndex int
	plane     *Plane
	connProps Props
	crtcProps Props
	mode      Mode
	modes     []Mode // the connector's, for SetMode
	modeBlob  uint32
	format    render.Format

	transform    render.Transform
	copyTrans    render.Transform // transform applied in the copy (Normal when the plane rotates)
	planeRotated bool
	noPlaneRot   bool // Options.NoPlaneRotation
	atomic       bool
	dirtyFB      bool // legacy: driver wants DIRTYFB (it did not answer ENOSYS)
	maxBuffers   int

	// Completions are handed out no closer than a refresh apart (report).
	paceTimer Timer
	lastDone  time.Duration // when the previous completion was due
	paced     []pacedInfo   // completions waiting for their time, in order

	shadow *render.Image
	ring   *DamageRing
	copier render.Copier // keeps the rotation band buffer between frames

	bufs    []*scanoutBuffer
	front   *scanoutBuffer // on screen
	pending *scanoutBuffer // flip queued, not yet complete
	// queued is the damage of a frame presented while a commit was in
	// flight; it is copied and committed when that commit's event comes.
	queued render.Damage
	closed bool
	// off: SetPower switched the display off.
	off bool

	// Direct scanout (scanout.go). front/pending and frontImport/
	// pendingImport are exclusive: the plane shows a dumb buffer or a
	// client's framebuffer. queuedImport was accepted by Scanout while a
	// cursor-only commit was in flight and goes with the next commit.
	scanFormats   map[uint32][]uint64
	modifiers     bool // ADDFB2 takes explicit modifiers
	imports       map[uint64]*importedFB
	refused       map[uint64]error
	frontImport   *importedFB
	pendingImport *importedFB
	queuedImport  *importedFB

	cursor *cursorPlane // nil: the cursor is composited (cursor.go)

	// Overlay planes (overlay.go), bottom to top; checked is Commit's
	// scratch for the layers being tested; overlayRefused remembers
	// buffers no overlay plane can take; tests the TEST_ONLY answers per
	// plane configuration.
	overlays       []*overlayPlane
	overlayInfo    []present.PlaneInfo
	checked        []overlaySlot
	overlayRefused map[uint64]error
	tests          planeTests
	importSerial   uint64
	// queuedFrame: a frame with no primary damage but new overlays came
	// while a commit was in flight.
	queuedFrame bool

	saved      *CRTC
	unregister func()
	// epoch counts resumes. A commit's event carries it (flipTag), so
	// the event of a flip made before the session went away, read only
	// after it came back, is told apart from the flips made since.
	epoch uint32

	// Per-frame scratch, kept so a steady frame allocates nothing.
	clipped []image.Rectangle
	clips   []Rect

	// req and clipRects are reused by every commit of a frame (one at a
	// time, on the loop), so a steady frame allocates nothing.
	req       AtomicRequest
	clipRects []modeRect

	copiedBytes int64
	frames      int64
	scanouts    int64
}

// pacedInfo is a completion held back until due.
type pacedInfo struct {
	info present.Info
	due  time.Duration
}

// Name is the connector name, e.g. "Virtual-1", "HDMI-A-1".
func (o *Output) Name() string { return o.name }

// Description is "driver connector (make model)".
func (o *Output) Description() string { return o.desc }

// Mode is the current mode in unrotated pixels.
func (o *Output) Mode() (width, height, refreshMilliHz int) {
	return o.mode.Width, o.mode.Height, o.mode.RefreshMilliHz
}

// PhysicalSize is the connector's reported size in millimetres.
func (o *Output) PhysicalSize() (mmWidth, mmHeight int) { return o.mmW, o.mmH }

// Transform is the output transform (wl_output numbering).
func (o *Output) Transform() render.Transform { return o.transform }

// Shadow is the system-memory image the compositor draws into, in logical
// (transformed) size. Its contents persist between frames.
func (o *Output) Shadow() *render.Image { return o.shadow }

// CopiedBytes is the total number of bytes written into scanout buffers.
func (o *Output) CopiedBytes() int64 { return o.copiedBytes }

// Frames is the number of frames presented (copied and committed).
func (o *Output) Frames() int64 { return o.frames }

// Atomic reports whether the output uses atomic commits (else legacy).
func (o *Output) Atomic() bool { return o.atomic }

// PlaneRotation reports whether the transform is done by the plane.
func (o *Output) PlaneRotation() bool { return o.planeRotated }

// ConnectorID is the KMS connector object id.
func (o *Output) ConnectorID() uint32 { return o.connID }

// CRTCID is the KMS CRTC object id.
func (o *Output) CRTCID() uint32 { return o.crtcID }

// perBufferUploadDrivers upload a whole framebuffer to their host when the
// plane switches framebuffers (damage clips are ignored then).
var perBufferUploadDrivers = map[string]bool{"virtio_gpu": true, "vmwgfx": true}

// NewOutput lights connector conn on CRTC crtcID and shows a black frame.
// notify receives the completion of every Present and Scanout, on the
// loop: from DispatchEvents or a timer, never from inside the call that
// started the frame.
func NewOutput(dev *Device, conn *Connector, crtcID uint32, crtcIndex int, opts Options, notify func(present.Info)) (_ *Output, err error) {
	cfg, err := opts.configFor(conn.Name)
	if err != nil {
		return nil, err
	}
	if opts.NewTimer == nil {
		return nil, fmt.Errorf("output %s: kms.Options.NewTimer is nil: outputs need timers on the loop that dispatches %s's events", conn.Name, dev.Path())
	}
	o := &Output{
		dev: dev, log: opts.logger().With("output", conn.Name), notify: notify, now: monotonicNow,
		connID: conn.ID, name: conn.Name, mmW: conn.MmWidth, mmH: conn.MmHeight,
		crtcID: crtcID, crtcIndex: crtcIndex, connProps: conn.Props,
		transform: cfg.Rotate, copyTrans: cfg.Rotate, noPlaneRot: opts.NoPlaneRotation,
		modes:  conn.Modes,
		atomic: dev.Atomic() && !opts.ForceLegacy,
		format: render.XRGB8888,
	}
	var spec *ModeSpec
	if cfg.Mode != "" {
		s, err := ParseModeSpec(cfg.Mode)
		if err != nil {
			return nil, fmt.Errorf("output %s: %w", conn.Name, err)
		}
		spec = &s
	}
	if o.mode, err = PickMode(conn.Modes, spec); err != nil {
		return nil, fmt.Errorf("output %s: %w", conn.Name, err)
	}
	o.desc = dev.Driver() + " " + conn.Name
	if edid, err := dev.ConnectorEDID(conn); err == nil && edid != nil {
		if info, err := ParseEDID(edid); err == nil {
			o.desc += fmt.Sprintf(" (%s %s)", info.Make, info.Model)
		}
	}
	if o.saved, err = dev.CRTC(crtcID); err != nil {
		return nil, err
	}
	if o.crtcProps, err = dev.ObjectProps(crtcID, ObjectCRTC); err != nil && o.atomic {
		return nil, err
	}
	if err := o.pickPlane(); err != nil {
		if o.atomic {
			return nil, err
		}
		o.log.Debug("no primary plane found; legacy modeset only", "err", err)
	}
	o.initScanout()
	o.initCursor()
	o.initOverlays(opts.NoOverlayPlanes)
	o.paceTimer = opts.NewTimer(o.deliverDue)
	if o.cursor != nil {
		o.cursor.timer = opts.NewTimer(o.flushCursorLater)
	}
	o.maxBuffers = opts.Buffers
	if o.maxBuffers <= 0 {
		o.maxBuffers = 2
		if perBufferUploadDrivers[dev.Driver()] {
			o.maxBuffers = 1
		}
	}

	defer func() {
		if err != nil {
			o.releaseOverlays()
			o.freeBuffers()
			if o.modeBlob != 0 {
				dev.DestroyBlob(o.modeBlob)
			}
		}
	}()
	// The plane scans out a framebuffer of the logical size when it
	// rotates, the mode's size otherwise; decide before allocating.
	o.decideRotation()
	first, err := o.blackBuffer()
	if err != nil {
		return nil, err
	}
	o.bufs = append(o.bufs, first)
	if err := o.modeset(first); err != nil {
		return nil, err
	}
	o.front = first
	if !o.atomic {
		// Drivers that copy or upload on DIRTYFB (cirrus, udl, virtio_gpu,
		// SPI panels) answer it; those scanning the buffer directly say
		// ENOSYS. For the former one buffer updated with DIRTYFB clips is
		// tear-free and avoids the full upload a PAGE_FLIP (which carries no
		// clips) would cause.
		err := dev.DirtyFB(first.fb, []Rect{{X2: int32(first.img.Width), Y2: int32(first.img.Height)}})
		o.dirtyFB = !errors.Is(err, unix.ENOSYS)
		if o.dirtyFB && opts.Buffers <= 0 {
			o.maxBuffers = 1
		}
	}
	o.unregister = dev.HandleEvents(crtcID, o.handleFlip)
	o.log.Info("output on", "description", o.desc, "mode", o.mode.String(), "crtc", crtcID,
		"atomic", o.atomic, "transform", o.transform.String(), "plane_rotation", o.planeRotated,
		"buffers", o.maxBuffers, "format", o.format.String(), "event", "output.on")
	return o, nil
}

// decideRotation decides, for the current mode and transform, whether
// the plane turns the picture or the copy does. The plane scans out a
// framebuffer of the logical size when it rotates, the mode's size
// otherwise, so this comes before any buffer is allocated.
func (o *Output) decideRotation() {
	o.planeRotated = o.atomic && o.transform != render.Normal && !o.noPlaneRot && o.tryPlaneRotation()
	o.copyTrans = o.transform
	if o.planeRotated {
		o.copyTrans = render.Normal
	}
}

// blackBuffer starts a new picture at the current mode and transform: a
// black shadow of the logical size (the mode size turned back by the
// transform; TransformSize is symmetric for quarter turns), a fresh
// damage ring, and a scanout buffer holding that black frame. Dumb
// buffers in VRAM (bochs, ast) are not cleared by the kernel, so the
// black is written once and recorded as frame 1: the buffer is known to
// match the shadow. The buffer is the caller's to add to bufs.
func (o *Output) blackBuffer() (*scanoutBuffer, error) {
	lw, lh := o.transform.TransformSize(o.mode.Width, o.mode.Height)
	w, h := o.fbSize()
	buf, err := o.allocBuffer(w, h)
	if err != nil {
		return nil, err
	}
	o.shadow = render.NewImage(lw, lh, render.XRGB8888)
	o.ring = NewDamageRing(8)
	full := []image.Rectangle{o.shadow.Bounds()}
	o.ring.Add(full)
	o.copiedBytes += int64(render.CopyOut(&buf.img, o.shadow, full, o.copyTrans))
	buf.seq = o.ring.Seq()
	return buf, nil
}

// pickPlane finds the primary plane for the CRTC (the one already on it if
// any) and a scanout format it takes.
func (o *Output) pickPlane() error {
	planes, err := o.dev.Planes()
	if err != nil {
		return err
	}
	var best *Plane
	for _, p := range planes {
		if p.Type() != PlanePrimary || p.PossibleCrtcs&(1<<o.crtcIndex) == 0 {
			continue
		}
		if best == nil || p.CrtcID == o.crtcID {
			best = p
		}
	}
	if best == nil {
		return fmt.Errorf("output %s: no primary plane for CRTC %d", o.name, o.crtcID)
	}
	o.plane = best
	has := func(f uint32) bool {
		for _, x := range best.Formats {
			if x == f {
				return true
			}
		}
		return false
	}
	switch {
	case has(uint32(render.XRGB8888)) || len(best.Formats) == 0:
		o.format = render.XRGB8888
	case has(uint32(render.RGB565)):
		o.format = render.RGB565 // small panels; render converts in the copy
	default:
		return fmt.Errorf("output %s: plane %d takes neither XRGB8888 nor RGB565", o.name, best.ID)
	}
	return nil
}

// rotationBits maps a wl_output transform to the plane "rotation" bitmask.
// Both turn counter-clockwise; the flipped variants mirror the x axis
// first, which the kernel spells REFLECT_X.
func rotationBits(t render.Transform) uint64 {
	const rot0, rot90, rot180, rot270, reflectX = 1 << 0, 1 << 1, 1 << 2, 1 << 3, 1 << 4
	bits := []uint64{rot0, rot90, rot180, rot270}[int(t)&3]
	if t >= render.Flipped {
		bits |= reflectX
	}
	return bits
}

// tryPlaneRotation asks the driver (TEST_ONLY) whether the plane can apply
// the transform, using a scratch framebuffer of the logical size.
func (o *Output) tryPlaneRotation() bool {
	prop, ok := o.plane.Props["rotation"]
	if !ok {
		return false
	}
	bits := rotationBits(o.transform)
	// A bitmask property lists the bit numbers it supports.
	for b := uint64(0); b < 6; b++ {
		if bits&(1<<b) == 0 {
			continue
		}
		supported := false
		for _, e := range prop.Enums {
			if e.Value == b {
				supported = true
			}
		}
		if !supported {
			return false
		}
	}
	lw, lh := o.transform.TransformSize(o.mode.Width, o.mode.Height)
	buf, err := o.allocBuffer(lw, lh)
	if err != nil {
		return false
	}
	defer o.destroyBuffer(buf)
	req, err := o.modesetRequest(buf, bits)
	if err != nil {
		return false
	}
	err = o.dev.Commit(req, AtomicTestOnly|AtomicAllowModeset, 0)
	if o.modeBlob != 0 {
		o.dev.DestroyBlob(o.modeBlob)
		o.modeBlob = 0
	}
	o.log.Debug("plane rotation TEST_ONLY", "transform", o.transform.String(), "err", err)
	return err == nil
}

// fbSize is the framebuffer size: logical when the plane rotates, the
// mode's otherwise.
func (o *Output) fbSize() (int, int) {
	if o.planeRotated {
		return o.transform.TransformSize(o.mode.Width, o.mode.Height)
	}
	return o.mode.Width, o.mode.Height
}

func (o *Output) allocBuffer(w, h int) (*scanoutBuffer, error) {
	bpp := o.format.BytesPerPixel() * 8
	dumb, err := o.dev.CreateDumb(w, h, bpp)
	if err != nil {
		return nil, fmt.Errorf("output %s: %w", o.name, err)
	}
	mem, err := o.dev.MapDumb(dumb)
	if err != nil {
		o.dev.DestroyDumb(dumb)
		return nil, fmt.Errorf("output %s: %w", o.name, err)
	}
	fb, err := o.dev.AddFB2(w, h, uint32(o.format), ModifierInvalid, []FBPlane{{Handle: dumb.Handle, Pitch: uint32(dumb.Pitch)}})
	if err != nil {
		o.dev.DestroyDumb(dumb)
		return nil, fmt.Errorf("output %s: %w", o.name, err)
	}
	return &scanoutBuffer{
		dumb: dumb, fb: fb,
		img: render.Image{Pix: mem, Stride: dumb.Pitch, Width: w, Height: h, Format: o.format},
	}, nil
}

// warnUnlessGone logs a failed clean-up; on a device that went away
// (ENODEV: driver unbound) every clean-up fails and the kernel frees it
// all with the file anyway, so that is only worth a debug line.
func (o *Output) warnUnlessGone(msg string, err error) {
	if errors.Is(err, unix.ENODEV) {
		o.log.Debug(msg+": the device is gone", "err", err)
		return
	}
	o.log.Warn(msg, "err", err)
}

func (o *Output) destroyBuffer(b *scanoutBuffer) {
	if err := o.dev.RmFB(b.fb); err != nil {
		o.warnUnlessGone("free framebuffer", err)
	}
	if err := o.dev.DestroyDumb(b.dumb); err != nil {
		o.warnUnlessGone("free dumb buffer", err)
	}
}

func (o *Output) newBuffer() (*scanoutBuffer, error) {
	w, h := o.fbSize()
	b, err := o.allocBuffer(w, h)
	if err != nil {
		return nil, err
	}
	o.bufs = append(o.bufs, b)
	return b, nil
}

func (o *Output) freeBuffers() {
	for _, b := range o.bufs {
		o.destroyBuffer(b)
	}
	o.bufs = nil
}

// modesetRequest builds the full atomic state lighting the output with buf.
func (o *Output) modesetRequest(buf *scanoutBuffer, rotation uint64) (*AtomicRequest, error) {
	if o.modeBlob == 0 {
		id, err := o.dev.CreateBlob(o.mode.blob())
		if err != nil {
			return nil, err
		}
		o.modeBlob = id
	}
	req := &AtomicRequest{}
	req.Add(o.connID, o.connProps.ID("CRTC_ID"), uint64(o.crtcID))
	req.Add(o.crtcID, o.crtcProps.ID("MODE_ID"), uint64(o.modeBlob))
	req.Add(o.crtcID, o.crtcProps.ID("ACTIVE"), 1)
	o.planeState(req, buf.fb, buf.img.Width, buf.img.Height, rotation)
	for _, ov := range o.overlays {
		// Whatever another master left there goes off.
		o.overlayState(req, ov, overlaySlot{})
	}
	return req, nil
}

// rotate0 is the plane "rotation" bitmask for no transform.
const rotate0 = 1

// planeState adds the primary plane showing all of a w×h framebuffer
// over the whole mode.
func (o *Output) planeState(req *AtomicRequest, fb uint32, w, h int, rotation uint64) {
	p := o.plane.Props
	req.Add(o.plane.ID, p.ID("FB_ID"), uint64(fb))
	req.Add(o.plane.ID, p.ID("CRTC_ID"), uint64(o.crtcID))
	req.Add(o.plane.ID, p.ID("SRC_X"), 0)
	req.Add(o.plane.ID, p.ID("SRC_Y"), 0)
	req.Add(o.plane.ID, p.ID("SRC_W"), uint64(w)<<16)
	req.Add(o.plane.ID, p.ID("SRC_H"), uint64(h)<<16)
	req.Add(o.plane.ID, p.ID("CRTC_X"), 0)
	req.Add(o.plane.ID, p.ID("CRTC_Y"), 0)
	req.Add(o.plane.ID, p.ID("CRTC_W"), uint64(o.mode.Width))
	req.Add(o.plane.ID, p.ID("CRTC_H"), uint64(o.mode.Height))
	if p.Has("rotation") {
		req.Add(o.plane.ID, p.ID("rotation"), rotation)
	}
}

// shadowRotation is the plane rotation for the output's own framebuffers.
func (o *Output) shadowRotation() uint64 {
	if o.planeRotated {
		return rotationBits(o.transform)
	}
	return rotate0
}

// flipPending reports whether a frame or scanout flip has not completed
// yet.
func (o *Output) flipPending() bool {
	return o.pending != nil || o.pendingImport != nil
}

// busy reports whether any commit is in flight: the CRTC takes the next
// one only after its event (a second NONBLOCK commit gets EBUSY).
func (o *Output) busy() bool {
	return o.flipPending() || o.cursor != nil && o.cursor.inFlight
}

// modeset lights the output with buf (black), blocking.
func (o *Output) modeset(buf *scanoutBuffer) error {
	if !o.atomic {
		return o.dev.SetCRTC(o.crtcID, buf.fb, 0, 0, []uint32{o.connID}, &o.mode)
	}
	req, err := o.modesetRequest(buf, o.shadowRotation())
	if err != nil {
		return err
	}
	if err := o.dev.Commit(req, AtomicTestOnly|AtomicAllowModeset, 0); err != nil {
		return fmt.Errorf("output %s: mode %s rejected: %w", o.name, o.mode, err)
	}
	return o.dev.Commit(req, AtomicAllowModeset, 0)
}

// ErrFlipPending is returned when a frame comes while the previous one has
// not completed and cannot wait for it (every buffer busy, or a scanout
// already waiting): the caller did not wait for the completion.
var ErrFlipPending = errors.New("kms: previous frame still pending")

// Present shows the shadow: Commit with only Damage. damage is in shadow
// coordinates; an empty damage list draws nothing and completes at once
// (with Flags 0). It does not block: completion is reported through
// notify when the flip has happened. While another commit is in flight (a
// cursor move) the frame is kept, copied and committed when that
// commit's event comes.
func (o *Output) Present(damage []image.Rectangle) error {
	if damage == nil {
		damage = []image.Rectangle{}
	}
	return o.Commit(OutputState{Damage: damage})
}

// showShadow is the primary part of a state showing the shadow.
func (o *Output) showShadow(damage []image.Rectangle) error {
	bounds := o.shadow.Bounds()
	clipped := o.clipped[:0]
	for _, r := range damage {
		if r = r.Intersect(bounds); !r.Empty() {
			clipped = append(clipped, r)
		}
	}
	o.clipped = clipped
	if len(clipped) == 0 && !o.overlaysChanged() {
		o.report(o.nowInfo(0), false)
		return nil
	}
	if o.busy() {
		for _, r := range clipped {
			o.queued.Add(r)
		}
		o.queuedFrame = true
		return nil
	}
	return o.presentNow(clipped)
}

// presentNow copies and commits one frame; no commit is in flight.
func (o *Output) presentNow(clipped []image.Rectangle) error {
	bounds := o.shadow.Bounds()
	if len(clipped) == 0 {
		if o.atomic && o.front != nil && o.frontImport == nil {
			return o.flipOverlays()
		}
		// Back from a client buffer on the primary: the shadow's
		// framebuffer must be shown whole.
		clipped = append(o.clipped[:0], bounds)
		o.clipped = clipped
	}
	buf, err := o.backBuffer()
	if err != nil {
		return fmt.Errorf("output %s: %w", o.name, err)
	}
	o.ring.Add(clipped)
	prevSeq := buf.seq
	rects, _ := o.ring.Since(buf.seq, bounds)
	n := o.copier.CopyOut(&buf.img, o.shadow, rects, o.copyTrans)
	if o.log.Enabled(context.Background(), slog.LevelDebug) {
		age := uint64(0) // unknown: never drawn, or off screen during direct scanout
		if prevSeq != 0 {
			age = o.ring.Seq() - prevSeq
		}
		o.log.Debug("frame", "damage", clipped, "copied", rects, "bytes", n, "buffer_age", age, "event", "frame")
	}
	buf.seq = o.ring.Seq()
	o.copiedBytes += int64(n)
	o.frames++

	clips := o.clips[:0]
	for _, r := range rects {
		fr := r
		if !o.planeRotated {
			fr = o.transform.Rect(r, bounds.Dx(), bounds.Dy())
		}
		clips = append(clips, Rect{X1: int32(fr.Min.X), Y1: int32(fr.Min.Y), X2: int32(fr.Max.X), Y2: int32(fr.Max.Y)})
	}
	o.clips = clips
	if o.atomic {
		err = o.flipAtomic(buf, clips)
	} else {
		err = o.flipLegacy(buf, clips)
	}
	if err != nil {
		// Not shown (or not uploaded, for a single buffer): have the next
		// frame send these rectangles again.
		buf.seq = prevSeq
		return fmt.Errorf("output %s: %w", o.name, err)
	}
	return nil
}

// backBuffer picks a buffer that is neither on screen nor pending, growing
// the set up to maxBuffers.
func (o *Output) backBuffer() (*scanoutBuffer, error) {
	if o.maxBuffers == 1 {
		// The one buffer, on screen unless a client buffer is.
		return o.bufs[0], nil
	}
	for _, b := range o.bufs {
		if b != o.front && b != o.pending {
			return b, nil
		}
	}
	if len(o.bufs) < o.maxBuffers {
		return o.newBuffer()
	}
	return nil, ErrFlipPending
}

func (o *Output) flipAtomic(buf *scanoutBuffer, clips []Rect) error {
	req := &o.req
	req.Reset()
	if o.frontImport != nil {
		// Back from direct scanout: the client's framebuffer may have had
		// another size and no rotation.
		o.planeState(req, buf.fb, buf.img.Width, buf.img.Height, o.shadowRotation())
	} else {
		req.Add(o.plane.ID, o.plane.Props.ID("FB_ID"), uint64(buf.fb))
	}
	// ACTIVE (unchanged, so no modeset) puts the CRTC in the commit, which
	// the page-flip event needs.
	req.Add(o.crtcID, o.crtcProps.ID("ACTIVE"), 1)
	var blob uint32
	if o.plane.Props.Has("FB_DAMAGE_CLIPS") && len(clips) > 0 {
		id, err := o.dev.CreateBlob(damageClipsBlob(&o.clipRects, clips))
		if err != nil {
			return err
		}
		blob = id
		req.Add(o.plane.ID, o.plane.Props.ID("FB_DAMAGE_CLIPS"), uint64(blob))
	}
	o.addOverlays(req)
	o.foldCursor(req)
	err := o.dev.Commit(req, AtomicNonblock|PageFlipEvent, o.flipTag())
	if blob != 0 {
		// The committed state holds its own reference to the blob.
		o.dev.DestroyBlob(blob)
	}
	if err != nil {
		return err
	}
	o.cursorCommitted()
	o.overlaysCommitted()
	o.pending = buf
	return nil
}

// flipOverlays commits a frame that changes only overlay planes (a
// video's new buffer, all the primary's damage under it): the primary
// keeps its framebuffer, nothing is copied.
func (o *Output) flipOverlays() error {
	req := &o.req
	req.Reset()
	req.Add(o.plane.ID, o.plane.Props.ID("FB_ID"), uint64(o.front.fb))
	req.Add(o.crtcID, o.crtcProps.ID("ACTIVE"), 1)
	o.addOverlays(req)
	o.foldCursor(req)
	if err := o.dev.Commit(req, AtomicNonblock|PageFlipEvent, uint64(o.crtcID)); err != nil {
		return fmt.Errorf("output %s: %w", o.name, err)
	}
	o.frames++
	o.cursorCommitted()
	o.overlaysCommitted()
	o.pending = o.front
	return nil
}

func (o *Output) flipLegacy(buf *scanoutBuffer, clips []Rect) error {
	if o.maxBuffers == 1 && o.frontImport == nil {
		// One buffer, always on screen: DIRTYFB is the whole update and
		// returns once the driver has taken it. (After direct scanout it
		// is flipped back to below.)
		if err := o.dev.DirtyFB(buf.fb, clips); err != nil && !errors.Is(err, unix.ENOSYS) {
			return err
		}
		o.report(o.nowInfo(present.HWCompletion), false)
		return nil
	}
	if o.dirtyFB && o.frontImport == nil {
		if err := o.dev.DirtyFB(buf.fb, clips); err != nil {
			return err
		}
	}
	if err := o.dev.PageFlip(o.crtcID, buf.fb, PageFlipEvent, o.flipTag()); err != nil {
		return err
	}
	o.pending = buf
	return nil
}

// flipTag is the user_data of the output's commits: the CRTC, which
// Device.DispatchEvents routes by, and the resume epoch.
func (o *Output) flipTag() uint64 { return uint64(o.crtcID) | uint64(o.epoch)<<32 }

// handleFlip is the page-flip event of the commit in flight, dispatched
// on the loop. It makes what waited for it the next commit, then reports
// the frame that landed, so the compositor's next frame (drawn when the
// loop iteration ends) finds that commit in flight and is queued behind
// it only if something really was waiting.
func (o *Output) handleFlip(ev FlipEvent) {
	if o.closed {
		return
	}
	if uint32(ev.UserData>>32) != o.epoch {
		// A flip from before the last Resume, whose event was still
		// queued: Resume forgot it and the compositor completed its
		// frame itself. Taken for the flip in flight now, it would
		// complete that frame early and let the next one be committed
		// while the CRTC is still busy with it.
		return
	}
	flags := present.VSync | present.HWClock | present.HWCompletion
	switch {
	case o.pendingImport != nil:
		old := o.frontImport
		o.frontImport, o.front, o.pendingImport = o.pendingImport, nil, nil
		o.leaveScreen(old)
		o.overlaysLanded()
		flags |= present.ZeroCopy
	case o.pending != nil:
		old := o.frontImport
		o.front, o.frontImport, o.pending = o.pending, nil, nil
		o.leaveScreen(old)
		o.overlaysLanded()
	case o.cursor != nil && o.cursor.inFlight:
		// A cursor-only commit landed: no frame to report.
		o.cursor.inFlight = false
		o.commitWaiting(false)
		return
	default:
		// Nothing in flight (a stray event): no frame to report.
		return
	}
	o.commitWaiting(true)
	o.report(present.Info{
		Time:    ev.Monotonic(),
		Seq:     uint64(ev.Sequence),
		Refresh: o.refresh(),
		Flags:   flags,
	}, true)
}

// commitWaiting commits what arrived while a commit was in flight: a
// queued scanout or frame (carrying any cursor change), else the cursor
// change alone. After a frame's flip the cursor waits for the end of the
// loop iteration, when the compositor draws its next frame: that frame
// takes the cursor along instead of queueing behind a cursor commit.
func (o *Output) commitWaiting(frameLanded bool) {
	switch {
	case o.queuedImport != nil:
		imp := o.queuedImport
		o.queuedImport = nil
		if err := o.commitScanout(imp); err != nil {
			o.logCommitError("direct scanout after the cursor commit", err)
			// Scanout promised a completion; the compositor waits for it.
			o.report(o.nowInfo(0), false)
		}
	case len(o.queued) > 0 || o.queuedFrame:
		o.queuedFrame = false
		err := o.presentNow(o.queued)
		o.queued = o.queued[:0]
		if err != nil {
			o.logCommitError("frame after the cursor commit", err)
			o.report(o.nowInfo(0), false)
		}
	case frameLanded:
		o.flushCursorSoon()
	default:
		if err := o.flushCursor(); err != nil {
			o.log.Debug("cursor commit", "err", err)
		}
	}
}

// logCommitError logs a commit made from an event that failed: an error,
// unless the display was taken away (the session is pausing), which the
// compositor hears of from the session and repaints in full after.
func (o *Output) logCommitError(what string, err error) {
	if errors.Is(err, present.ErrRevoked) {
		o.log.Debug(what, "err", err)
		return
	}
	o.log.Error(what, "err", err)
}

// report hands a completion to the compositor, but no sooner than one
// refresh period after the previous one. Drivers without vblank
// interrupts (virtio_gpu, DIRTYFB uploads) complete as soon as the upload
// is queued; without this a client animating as fast as its frame
// callbacks arrive would spin a core. Real vblank events are already a
// period apart and are reported inline, from the event. A completion
// decided inside Present (inline false) goes through the timer too, so
// the compositor never hears of a frame from inside its own call.
func (o *Output) report(info present.Info, inline bool) {
	period := o.refresh()
	if period == 0 {
		period = time.Second / 60
	}
	const slack = 2 * time.Millisecond // event jitter on real vblank
	now := o.now()
	due := max(o.lastDone+period-slack, now)
	o.lastDone = due
	if inline && due <= now && len(o.paced) == 0 {
		o.notify(info)
		return
	}
	o.paced = append(o.paced, pacedInfo{info, due})
	if len(o.paced) == 1 {
		o.paceTimer.Set(due)
	}
}

// deliverDue is the pace timer: it reports the completions that are due.
func (o *Output) deliverDue() {
	now := o.now()
	for len(o.paced) > 0 && o.paced[0].due <= now && !o.closed {
		p := o.paced[0]
		o.paced = o.paced[:copy(o.paced, o.paced[1:])]
		o.notify(p.info)
	}
	if len(o.paced) > 0 && !o.closed {
		o.paceTimer.Set(o.paced[0].due)
	}
}

func (o *Output) refresh() time.Duration {
	if o.mode.RefreshMilliHz <= 0 {
		return 0
	}
	return time.Duration(int64(time.Second) * 1000 / int64(o.mode.RefreshMilliHz))
}

// monotonicNow is CLOCK_MONOTONIC, the clock of page-flip events.
func monotonicNow() time.Duration {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return time.Duration(ts.Nano())
}

// nowInfo is a completion stamped with the current time, for frames that
// did not wait for a flip event.
func (o *Output) nowInfo(flags present.Flags) present.Info {
	return present.Info{Time: o.now(), Refresh: o.refresh(), Flags: flags}
}

// FrameInFlight says where the output's unfinished commit is, for the
// log when the session pauses: "flip" (committed, its page-flip event
// not read yet), "cursor" (a cursor-only commit likewise), "paced"
// (landed, its completion held until due, see report), or "" when
// nothing is in flight.
func (o *Output) FrameInFlight() string {
	switch {
	case o.flipPending():
		return "flip"
	case o.cursor != nil && o.cursor.inFlight:
		return "cursor"
	case len(o.paced) > 0:
		return "paced"
	}
	return ""
}

// forgetInFlight drops every commit in flight and everything waiting for
// one: their events will not come (the session was away) or no longer
// matter (the output is closing).
func (o *Output) forgetInFlight() {
	if c := o.cursor; c != nil {
		c.inFlight = false
		c.timer.Stop()
	}
	o.queued = o.queued[:0]
	o.queuedFrame = false
	if imp := o.queuedImport; imp != nil {
		o.queuedImport = nil
		o.leaveScreen(imp)
	}
	o.paced = o.paced[:0]
	o.paceTimer.Stop()
}

// Resume lights the output again after the session was away (VT switch):
// another DRM master may have changed the CRTC in between. The buffer last
// shown is shown again; it still holds the last frame. Call it once DRM
// master is back, before the next Present. Completions not reported yet
// are dropped: the compositor completes its frames in flight itself when
// it resumes.
func (o *Output) Resume() error {
	if o.closed {
		return fmt.Errorf("output %s: closed", o.name)
	}
	o.forgetInFlight()
	o.epoch++
	if c := o.cursor; c != nil {
		// The other master may have changed the plane; the compositor
		// loads the cursor again.
		c.on, c.dirty, c.shown = false, false, -1
	}
	if o.pending != nil {
		o.front = o.pending
		o.pending = nil
	}
	if o.front == nil {
		// A client's framebuffer was on screen: light the output with a
		// dumb buffer; the compositor repaints everything on resume.
		o.front = o.bufs[0]
		o.front.seq = 0
	}
	if err := o.modeset(o.front); err != nil {
		return fmt.Errorf("output %s: resume: %w", o.name, err)
	}
	// Lit again, whatever SetPower did before.
	o.off = false
	imps := [...]*importedFB{o.frontImport, o.pendingImport}
	o.frontImport, o.pendingImport = nil, nil
	for _, imp := range imps {
		o.leaveScreen(imp)
	}
	// The modeset switched the overlay planes off.
	o.resetOverlays()
	return nil
}

// Close restores the CRTC configuration found at start (so the text
// console comes back) and frees the buffers. It is safe to call twice.
func (o *Output) Close() error {
	if o.closed {
		return nil
	}
	o.closed = true
	if o.unregister != nil {
		o.unregister()
	}
	o.forgetInFlight()
	o.switchOverlaysOff()
	err := o.restore()
	o.freeImports()
	o.releaseOverlays()
	if o.cursor != nil {
		o.freeCursorBuffers(o.cursor)
	}
	o.freeBuffers()
	if o.modeBlob != 0 {
		o.dev.DestroyBlob(o.modeBlob)
	}
	o.log.Info("output off", "frames", o.Frames(), "scanouts", o.Scanouts(), "copied_bytes", o.CopiedBytes(), "event", "output.off")
	return err
}

// restore puts back the saved CRTC with a legacy SETCRTC, which atomic
// drivers accept too and which waits for any pending flip.
func (o *Output) restore() error {
	s := o.saved
	if s == nil {
		return nil
	}
	var err error
	if s.FbID != 0 && s.ModeValid {
		err = o.dev.SetCRTC(o.crtcID, s.FbID, s.X, s.Y, []uint32{o.connID}, &s.Mode)
		if err == nil {
			return nil
		}
		o.warnUnlessGone("restore previous CRTC configuration", err)
	}
	// Nothing to restore (or it is gone): switch the CRTC off rather than
	// leave our framebuffer, which is about to be freed, on it.
	if err2 := o.dev.SetCRTC(o.crtcID, 0, 0, 0, nil, nil); err2 != nil {
		return fmt.Errorf("output %s: restore: %w", o.name, errors.Join(err, err2))
	}
	return err
}
