package kms

import (
	"errors"
	"fmt"
	"image"

	"github.com/vitrine-wm/vitrine/render"
	"github.com/vitrine-wm/vitrine/scene/present"
)

// cursorPlane is the output's hardware cursor: a CURSOR-type plane on
// the output's CRTC and two ARGB8888 dumb buffers of the driver's
// cursor size. Only the atomic path uses it; legacy outputs composite
// the cursor.
//
// What the plane should show is state (image, position, on), marked
// dirty until a commit carries it: the next frame's commit when one is
// made, else a cursor-only commit. A change while any commit is in flight
// never waits; it goes with the commit made when that one's event comes.
type cursorPlane struct {
	plane *Plane
	w, h  int               // buffer size (DRM_CAP_CURSOR_WIDTH/HEIGHT)
	bufs  [2]*scanoutBuffer // allocated on first use
	cur   int               // buffer with the image wanted
	shown int               // buffer last committed on the plane; -1: none
	size  image.Point       // logical size of the loaded image
	pos   image.Point       // image top-left, CRTC (framebuffer) coordinates
	hot   image.Point       // hotspot in the turned image
	on    bool              // wanted on screen
	dirty bool              // wanted state not committed yet
	// inFlight: a cursor-only commit waits for its event.
	inFlight bool
	// timer commits a change left over after a frame's flip, unless the
	// next frame took it along first (flushCursorSoon).
	timer Timer
}

// initCursor finds a cursor plane for the output's CRTC.
func (o *Output) initCursor() {
	if !o.atomic {
		return
	}
	planes, err := o.dev.Planes()
	if err != nil {
		return
	}
	var found *Plane
	for _, p := range planes {
		if p.Type() == PlaneCursor && p.PossibleCrtcs&(1<<o.crtcIndex) != 0 {
			found = p
			break
		}
	}
	if found == nil {
		o.log.Debug("no cursor plane; the cursor is composited", "event", "cursor.composited")
		return
	}
	c := &cursorPlane{plane: found, w: 64, h: 64, shown: -1}
	if v, err := o.dev.Cap(CapCursorWidth); err == nil && v > 0 && v <= 512 {
		c.w = int(v)
	}
	if v, err := o.dev.Cap(CapCursorHeight); err == nil && v > 0 && v <= 512 {
		c.h = int(v)
	}
	o.cursor = c
	o.log.Debug("cursor plane", "plane", found.ID, "size", image.Pt(c.w, c.h))
}

func (o *Output) allocCursorBuffer(w, h int) (*scanoutBuffer, error) {
	dumb, err := o.dev.CreateDumb(w, h, 32)
	if err != nil {
		return nil, fmt.Errorf("output %s: cursor: %w", o.name, err)
	}
	mem, err := o.dev.MapDumb(dumb)
	if err != nil {
		o.dev.DestroyDumb(dumb)
		return nil, fmt.Errorf("output %s: cursor: %w", o.name, err)
	}
	fb, err := o.dev.AddFB2(w, h, uint32(render.ARGB8888), ModifierInvalid, []FBPlane{{Handle: dumb.Handle, Pitch: uint32(dumb.Pitch)}})
	if err != nil {
		o.dev.DestroyDumb(dumb)
		return nil, fmt.Errorf("output %s: cursor: %w", o.name, err)
	}
	return &scanoutBuffer{dumb: dumb, fb: fb,
		img: render.Image{Pix: mem, Stride: dumb.Pitch, Width: w, Height: h, Format: render.ARGB8888}}, nil
}

// SetCursor loads img (premultiplied ARGB8888, logical orientation) into
// the cursor plane's back buffer, turned by the output transform, and
// asks the driver (TEST_ONLY) whether the plane takes it. The image
// shows from the next commit on: at once if the cursor is on, else from
// the next MoveCursor.
func (o *Output) SetCursor(img *render.Image, hotspot image.Point) bool {
	if o.closed {
		return false
	}
	err := o.precheckCursor(&CursorState{Image: img})
	if err == nil {
		err = o.loadCursor(img, hotspot)
	}
	if err != nil {
		o.log.Debug("cursor not on the cursor plane", "err", err)
		return false
	}
	o.cursor.dirty = o.cursor.dirty || o.cursor.on
	return true
}

// precheckCursor refuses what the cursor plane cannot show without
// touching it.
func (o *Output) precheckCursor(cs *CursorState) error {
	c := o.cursor
	if c == nil {
		return fmt.Errorf("%w: no cursor plane", ErrCursorRefused)
	}
	if img := cs.Image; img != nil {
		if img.Format != render.ARGB8888 {
			return fmt.Errorf("%w: %s image", ErrCursorRefused, img.Format)
		}
		tw, th := o.transform.TransformSize(img.Width, img.Height)
		if tw > c.w || th > c.h || tw <= 0 || th <= 0 {
			return fmt.Errorf("%w: %dx%d image on a %dx%d plane", ErrCursorRefused, img.Width, img.Height, c.w, c.h)
		}
	} else if cs.Visible && c.bufs[c.cur] == nil {
		return fmt.Errorf("%w: no image loaded", ErrCursorRefused)
	}
	return nil
}

// applyCursor makes cs the wanted cursor state: a new image is loaded
// and tested first; nothing changes if it is refused.
func (o *Output) applyCursor(cs *CursorState) error {
	c := o.cursor
	if cs.Image != nil {
		if err := o.loadCursor(cs.Image, cs.Hotspot); err != nil {
			return err
		}
		c.dirty = c.dirty || c.on
	}
	if !cs.Visible {
		if c.on {
			c.on, c.dirty = false, true
		}
		return nil
	}
	lw, lh := o.shadow.Bounds().Dx(), o.shadow.Bounds().Dy()
	r := o.transform.Rect(image.Rectangle{Min: cs.Pos, Max: cs.Pos.Add(c.size)}, lw, lh)
	c.pos, c.on, c.dirty = r.Min, true, true
	return nil
}

// loadCursor writes img into the buffer not on the plane and tests it
// there (TEST_ONLY); it becomes the wanted image only if the plane takes
// it.
func (o *Output) loadCursor(img *render.Image, hotspot image.Point) error {
	c := o.cursor
	for i := range c.bufs {
		if c.bufs[i] == nil {
			b, err := o.allocCursorBuffer(c.w, c.h)
			if err != nil {
				o.log.Warn("cursor plane off", "err", err)
				o.cursor = nil
				o.freeCursorBuffers(c)
				return fmt.Errorf("%w: %w", ErrCursorRefused, err)
			}
			c.bufs[i] = b
		}
	}
	back := 0
	if c.shown >= 0 {
		// Not the buffer last committed: the plane shows it, or will
		// once the commit in flight lands.
		back = 1 - c.shown
	}
	o.fillCursor(&c.bufs[back].img, img)
	hot := o.transform.Point(hotspot, img.Width, img.Height)
	req := &AtomicRequest{}
	o.cursorState(req, c, c.bufs[back].fb, c.pos, hot)
	if err := o.dev.Commit(req, AtomicTestOnly, 0); err != nil {
		return fmt.Errorf("%w: TEST_ONLY: %w", ErrCursorRefused, err)
	}
	c.cur, c.hot = back, hot
	c.size = image.Pt(img.Width, img.Height)
	return nil
}

// fillCursor writes img, turned by the output transform, into the
// top-left corner of dst and clears the rest. The image is turned in
// system memory first: dst is written once, in address order, never
// read.
func (o *Output) fillCursor(dst, img *render.Image) {
	row := make([]byte, dst.Width*4)
	stage := make([][]byte, dst.Height)
	tw, th := o.transform.TransformSize(img.Width, img.Height)
	for y := range stage {
		stage[y] = make([]byte, len(row))
	}
	for y := range img.Height {
		for x := range img.Width {
			p := o.transform.Point(image.Pt(x, y), img.Width, img.Height)
			if p.X < 0 || p.Y < 0 || p.X >= tw || p.Y >= th {
				continue
			}
			i := y*img.Stride + x*4
			copy(stage[p.Y][p.X*4:p.X*4+4], img.Pix[i:i+4])
		}
	}
	for y := range dst.Height {
		copy(dst.Pix[y*dst.Stride:y*dst.Stride+len(row)], stage[y])
	}
}

// MoveCursor shows the loaded image with its top-left corner at x, y in
// the output's logical coordinates: Commit with only a CursorState. With
// no commit in flight it is a cursor-only NONBLOCK commit; otherwise the
// position goes with the next commit (frame or cursor), made when the one
// in flight has landed.
func (o *Output) MoveCursor(x, y int) bool {
	if err := o.Commit(OutputState{Cursor: &CursorState{Visible: true, Pos: image.Pt(x, y)}}); err != nil {
		o.log.Debug("cursor not on the cursor plane", "err", err)
		return false
	}
	return true
}

// HideCursor takes the cursor plane off the CRTC.
func (o *Output) HideCursor() {
	if o.cursor == nil || !o.cursor.on {
		return
	}
	if err := o.Commit(OutputState{Cursor: &CursorState{}}); err != nil {
		o.log.Debug("cursor commit", "err", err)
	}
}

// cursorState adds the cursor plane showing framebuffer fb at pos with
// hotspot hot, or off when fb is 0.
func (o *Output) cursorState(req *AtomicRequest, c *cursorPlane, fb uint32, pos, hot image.Point) {
	p, id := c.plane.Props, c.plane.ID
	if fb == 0 {
		req.Add(id, p.ID("FB_ID"), 0)
		req.Add(id, p.ID("CRTC_ID"), 0)
		return
	}
	req.Add(id, p.ID("FB_ID"), uint64(fb))
	req.Add(id, p.ID("CRTC_ID"), uint64(o.crtcID))
	req.Add(id, p.ID("SRC_X"), 0)
	req.Add(id, p.ID("SRC_Y"), 0)
	req.Add(id, p.ID("SRC_W"), uint64(c.w)<<16)
	req.Add(id, p.ID("SRC_H"), uint64(c.h)<<16)
	// CRTC_X/Y are signed: a cursor may hang off the left or top edge.
	req.Add(id, p.ID("CRTC_X"), uint64(int64(pos.X)))
	req.Add(id, p.ID("CRTC_Y"), uint64(int64(pos.Y)))
	req.Add(id, p.ID("CRTC_W"), uint64(c.w))
	req.Add(id, p.ID("CRTC_H"), uint64(c.h))
	if p.Has("HOTSPOT_X") && p.Has("HOTSPOT_Y") {
		// The host's pointer (virtio-gpu, vmwgfx) clicks at the hotspot.
		req.Add(id, p.ID("HOTSPOT_X"), uint64(int64(hot.X)))
		req.Add(id, p.ID("HOTSPOT_Y"), uint64(int64(hot.Y)))
	}
}

// foldCursor adds a cursor change not committed yet to req, the commit
// of a frame.
func (o *Output) foldCursor(req *AtomicRequest) {
	c := o.cursor
	if c == nil || !c.dirty {
		return
	}
	o.addCursor(req)
}

// cursorCommitted records that a commit carrying the wanted cursor state
// went through.
func (o *Output) cursorCommitted() {
	c := o.cursor
	if c == nil || !c.dirty {
		return
	}
	c.dirty = false
	c.shown = -1
	if c.on {
		c.shown = c.cur
	}
}

func (o *Output) addCursor(req *AtomicRequest) {
	c := o.cursor
	fb := uint32(0)
	if c.on {
		fb = c.bufs[c.cur].fb
	}
	o.cursorState(req, c, fb, c.pos, c.hot)
}

// flushCursor commits a cursor change on its own when nothing else is in
// flight or waiting; otherwise the change stays dirty and goes with the
// next commit. The commit asks for an event: a second NONBLOCK commit on
// the CRTC before the first completed would get EBUSY, so the next one is
// made from that event.
func (o *Output) flushCursor() error {
	c := o.cursor
	if c == nil || !c.dirty || o.closed || o.busy() || len(o.queued) > 0 || o.queuedFrame || o.queuedImport != nil {
		return nil
	}
	req := &AtomicRequest{}
	o.addCursor(req)
	if err := o.dev.Commit(req, AtomicNonblock|PageFlipEvent, o.flipTag()); err != nil {
		if errors.Is(err, present.ErrRevoked) {
			// The session is pausing: the change stays dirty, and the
			// compositor loads the cursor again on resume. Not a reason
			// to composite the cursor from now on.
			return nil
		}
		return err
	}
	o.cursorCommitted()
	c.inFlight = true
	return nil
}

// flushCursorSoon commits a leftover cursor change at the start of the
// next loop iteration, after the compositor had the chance to draw a
// frame that takes it along.
func (o *Output) flushCursorSoon() {
	if c := o.cursor; c != nil && c.dirty {
		c.timer.Set(o.now())
	}
}

// flushCursorLater is the cursor timer.
func (o *Output) flushCursorLater() {
	if err := o.flushCursor(); err != nil {
		o.log.Debug("cursor commit", "err", err)
	}
}

func (o *Output) freeCursorBuffers(c *cursorPlane) {
	for i, b := range c.bufs {
		if b != nil {
			o.destroyBuffer(b)
			c.bufs[i] = nil
		}
	}
}
