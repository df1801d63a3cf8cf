package scene

import (
	"image"
	"slices"

	"github.com/vitrine-wm/vitrine/protocol"
	linuxdmabuf "github.com/vitrine-wm/vitrine/protocol/dmabuf"
	"github.com/vitrine-wm/vitrine/protocol/presentation"
	"github.com/vitrine-wm/vitrine/protocol/wl"
	"github.com/vitrine-wm/vitrine/render"
)

// surfaceState is the double-buffered part of a wl_surface: requests fill
// the pending copy, commit moves it into current (or, for a synchronized
// subsurface, into the cache until the parent commits).
type surfaceState struct {
	attached     bool
	buffer       *buffer
	dx, dy       int32
	damage       render.Damage // surface coordinates
	bufferDamage render.Damage // buffer coordinates
	frames       []*wl.Callback
	feedbacks    []*presentation.PresentationFeedback

	opaqueSet, inputSet bool
	opaque, input       *region // nil: empty (opaque) / infinite (input)

	transformSet bool
	transform    render.Transform
	scaleSet     bool
	scale        int32

	viewportSet bool
	vpSrc       [4]protocol.Fixed // x, y, w, h; w == -1 means unset
	vpDst       [2]int32          // w, h; -1 means unset
}

// answered records that the surface committed (or went away) after the
// frame callbacks its output sent: one fewer commit the output waits for.
func (s *surface) answered() {
	if o := s.awaitedBy; o != nil && s.awaitGen == o.gen {
		o.awaiting--
	}
	s.awaitedBy = nil
}

// reset empties the state for the next commit. The lists keep their
// memory, so a client committing frame after frame allocates nothing.
func (s *surfaceState) reset() {
	*s = surfaceState{
		damage:       s.damage[:0],
		bufferDamage: s.bufferDamage[:0],
		frames:       emptied(s.frames),
		feedbacks:    emptied(s.feedbacks),
	}
}

// emptied truncates a list of objects, dropping its references so the
// objects can be collected.
func emptied[T any](list []*T) []*T {
	clear(list)
	return list[:0]
}

// mergeInto moves s on top of dst and leaves s empty.
func (s *surfaceState) mergeInto(dst *surfaceState) {
	if s.attached {
		if dst.attached && dst.buffer != nil {
			dst.buffer.unref() // replaced before it was ever shown
		}
		dst.attached, dst.buffer, dst.dx, dst.dy = true, s.buffer, dst.dx+s.dx, dst.dy+s.dy
	}
	for _, r := range s.damage {
		dst.damage.Add(r)
	}
	for _, r := range s.bufferDamage {
		dst.bufferDamage.Add(r)
	}
	dst.frames = append(dst.frames, s.frames...)
	// Feedback for content that never reached the screen is discarded
	// once newer content replaces it.
	if s.attached {
		for _, fb := range dst.feedbacks {
			fb.SendDiscarded()
			fb.Destroy()
		}
		dst.feedbacks = emptied(dst.feedbacks)
	}
	dst.feedbacks = append(dst.feedbacks, s.feedbacks...)
	if s.opaqueSet {
		dst.opaqueSet, dst.opaque = true, s.opaque
	}
	if s.inputSet {
		dst.inputSet, dst.input = true, s.input
	}
	if s.transformSet {
		dst.transformSet, dst.transform = true, s.transform
	}
	if s.scaleSet {
		dst.scaleSet, dst.scale = true, s.scale
	}
	if s.viewportSet {
		dst.viewportSet, dst.vpSrc, dst.vpDst = true, s.vpSrc, s.vpDst
	}
	s.reset()
}

// surfaceRole is what a role object (xdg_surface, subsurface, cursor)
// adds to a surface.
type surfaceRole interface {
	// precommit checks the pending state; an error is a protocol error.
	precommit(s *surface) error
	// committed runs after the state became current.
	committed(s *surface)
}

type surface struct {
	c   *Compositor
	res *wl.Surface

	pending, cached surfaceState
	hasCached       bool

	roleName string
	role     surfaceRole
	sub      *subsurface   // when the role is subsurface
	below    []*subsurface // children drawn below, bottom to top
	above    []*subsurface // children drawn above, bottom to top
	viewport *viewport
	// fractional is the surface's wp_fractional_scale_v1, if any.
	fractional *fractionalScale

	// Current state.
	buf             *buffer
	transform       render.Transform
	scale           int32
	vpSrc           [4]protocol.Fixed
	vpDst           [2]int32
	opaque, input   *region
	width, height   int
	frames          []*wl.Callback
	feedbacks       []*presentation.PresentationFeedback
	damage          render.Damage // surface coordinates, since last repaint
	entered         map[*output]bool
	dmabufFeedbacks []*linuxdmabuf.LinuxDmabufFeedbackV1
	// feedbackScanout is the scanout tranche last sent in this surface's
	// feedback (format table indices; "" for none).
	feedbackScanout string
	// refused are the format/modifier pairs a display would not scan
	// out for this surface, during displayEpoch refusedEpoch: they leave
	// its scanout tranche until the displays change.
	refused      []formatMod
	refusedEpoch uint64
	destroyed    bool
	// awaitedBy is the output that sent this surface frame callbacks at
	// its frame awaitGen and waits for its next commit to repaint early.
	awaitedBy     *output
	awaitGen      uint64
	committedOnce bool
	// shapeHot is the hotspot of a cursor-shape surface (no client's).
	shapeHot image.Point
}

func (c *Compositor) newSurface(res *wl.Surface) *surface {
	s := &surface{c: c, res: res, scale: 1, entered: map[*output]bool{}}
	s.pending.vpSrc[2] = -1
	s.pending.vpDst = [2]int32{-1, -1}
	s.vpSrc[2] = -1
	s.vpDst = [2]int32{-1, -1}
	res.Handler = s
	res.OnDestroy(s.destroy)
	return s
}

// setRole gives s a role; a surface keeps one role for its lifetime.
func (s *surface) setRole(name string, r surfaceRole) error {
	if s.roleName != "" && s.roleName != name {
		return protocol.NewError(s.res, wl.SurfaceErrorInvalidTransform+1000, "already has role %s, cannot become %s", s.roleName, name)
	}
	s.roleName, s.role = name, r
	return nil
}

func (s *surface) destroy() {
	s.destroyed = true
	s.answered()
	s.damageEverywhere()
	s.setBuffer(nil, false)
	for _, cb := range s.pending.frames {
		cb.Destroy()
	}
	for _, cb := range s.frames {
		cb.Destroy()
	}
	for _, fb := range append(s.pending.feedbacks, s.feedbacks...) {
		fb.SendDiscarded()
		fb.Destroy()
	}
	s.frames, s.feedbacks, s.pending.frames, s.pending.feedbacks = nil, nil, nil, nil
	if s.cached.buffer != nil {
		s.cached.buffer.unref()
	}
	if s.pending.buffer != nil {
		s.pending.buffer.unref()
	}
	s.c.surfaceGone(s)
}

// --- wl_surface requests ---

func (s *surface) Destroy(*wl.Surface) error { return nil }

func (s *surface) Attach(r *wl.Surface, b *wl.Buffer, x, y int32) error {
	if x != 0 || y != 0 {
		if r.Version() >= 5 {
			return protocol.NewError(r, 3, "attach with a non-zero offset; use wl_surface.offset")
		}
	}
	var nb *buffer
	if b != nil {
		nb = bufferOf(b)
		if nb == nil {
			return protocol.NewError(r, protocol.ErrInvalidObject, "wl_buffer#%d has no storage", b.ID())
		}
		nb.ref()
	}
	if s.pending.buffer != nil {
		s.pending.buffer.unref()
	}
	s.pending.attached, s.pending.buffer = true, nb
	s.pending.dx, s.pending.dy = x, y
	return nil
}

func (s *surface) Damage(r *wl.Surface, x, y, w, h int32) error {
	if w > 0 && h > 0 {
		s.pending.damage.Add(clampRect(x, y, w, h))
	}
	return nil
}

func (s *surface) DamageBuffer(r *wl.Surface, x, y, w, h int32) error {
	if w > 0 && h > 0 {
		s.pending.bufferDamage.Add(clampRect(x, y, w, h))
	}
	return nil
}

// clampRect keeps client coordinates far from int overflow.
func clampRect(x, y, w, h int32) image.Rectangle {
	const lim = 1 << 20
	c := func(v int64) int { return int(max(min(v, lim), -lim)) }
	return image.Rect(c(int64(x)), c(int64(y)), c(int64(x)+int64(w)), c(int64(y)+int64(h)))
}

func (s *surface) Frame(r *wl.Surface, cb *wl.Callback) error {
	// Every frame callback not yet done is a live wl_callback.
	if n := r.Client().Count(wl.CallbackInterface); n > s.c.maxFrameCallbacks {
		return protocol.NewError(r, protocol.ErrNoMemory, "too many frame callbacks waiting: the limit is %d per client (--client-frame-callback-limit)", s.c.maxFrameCallbacks)
	}
	s.pending.frames = append(s.pending.frames, cb)
	return nil
}

func (s *surface) SetOpaqueRegion(r *wl.Surface, reg *wl.Region) error {
	s.pending.opaqueSet, s.pending.opaque = true, regionSnapshot(reg)
	return nil
}

func (s *surface) SetInputRegion(r *wl.Surface, reg *wl.Region) error {
	s.pending.inputSet, s.pending.input = true, regionSnapshot(reg)
	return nil
}

func (s *surface) SetBufferTransform(r *wl.Surface, t int32) error {
	if t < 0 || t > 7 {
		return protocol.NewError(r, wl.SurfaceErrorInvalidTransform, "invalid buffer transform %d", t)
	}
	s.pending.transformSet, s.pending.transform = true, render.Transform(t)
	return nil
}

func (s *surface) SetBufferScale(r *wl.Surface, scale int32) error {
	if scale < 1 {
		return protocol.NewError(r, 0, "invalid buffer scale %d", scale)
	}
	s.pending.scaleSet, s.pending.scale = true, scale
	return nil
}

func (s *surface) Offset(r *wl.Surface, x, y int32) error {
	s.pending.dx, s.pending.dy = x, y
	return nil
}

func (s *surface) Commit(r *wl.Surface) error {
	if s.role != nil {
		if err := s.role.precommit(s); err != nil {
			return err
		}
	}
	if err := s.checkSize(&s.pending); err != nil {
		return err
	}
	if s.sub != nil && s.sub.synchronized() {
		s.pending.mergeInto(&s.cached)
		s.hasCached = true
		return nil
	}
	if s.hasCached {
		s.pending.mergeInto(&s.cached)
		s.cached.mergeInto(&s.pending)
		s.hasCached = false
	}
	s.apply()
	return nil
}

// checkSize validates what the pending state would make of the surface
// size, before anything becomes current.
func (s *surface) checkSize(p *surfaceState) error {
	buf := s.buf
	if p.attached {
		buf = p.buffer
	}
	if buf == nil {
		return nil
	}
	scale := s.scale
	if p.scaleSet {
		scale = p.scale
	}
	t := s.transform
	if p.transformSet {
		t = p.transform
	}
	bw, bh := t.TransformSize(buf.width, buf.height)
	vpSrc, vpDst := s.vpSrc, s.vpDst
	if p.viewportSet {
		vpSrc, vpDst = p.vpSrc, p.vpDst
	}
	if vpSrc[2] >= 0 {
		sx, sy, sw, sh := vpSrc[0].Float(), vpSrc[1].Float(), vpSrc[2].Float(), vpSrc[3].Float()
		if sx+sw > float64(bw)/float64(scale) || sy+sh > float64(bh)/float64(scale) {
			if s.viewport != nil {
				return protocol.NewError(s.viewport.res, 2, "source rectangle %.2f,%.2f %.2fx%.2f extends outside the %dx%d buffer", sx, sy, sw, sh, bw/int(scale), bh/int(scale))
			}
		}
		if vpDst[0] < 0 && (sw != float64(int(sw)) || sh != float64(int(sh))) {
			if s.viewport != nil {
				return protocol.NewError(s.viewport.res, 1, "source size %.2fx%.2f is not integer and no destination size is set", sw, sh)
			}
		}
	}
	if vpDst[0] < 0 && vpSrc[2] < 0 && (bw%int(scale) != 0 || bh%int(scale) != 0) {
		return protocol.NewError(s.res, 2, "buffer size %dx%d is not a multiple of scale %d", bw, bh, scale)
	}
	return nil
}

// apply makes the pending state current and propagates the damage.
func (s *surface) apply() {
	p := &s.pending
	oldBounds := s.sizeRect()
	// Where the surface is on screen now, before this commit moves or
	// resizes it: that area needs repainting too.
	oldOrigin, _, shown := s.c.surfaceOrigin(s)
	moved := false
	if p.attached {
		// The kiosk layout places toplevels itself, so an attach offset
		// only means the content moved within the surface.
		moved = p.buffer != nil && (p.dx != 0 || p.dy != 0)
		// A shown surface's frame callbacks are answered at the next
		// refresh; one not shown anywhere may wait without end.
		awaited := shown && len(s.frames)+len(p.frames)+len(s.feedbacks)+len(p.feedbacks) > 0
		s.setBuffer(p.buffer, awaited)
		if p.buffer != nil {
			p.buffer.unref() // the pending reference; setBuffer took its own
		}
	}
	if p.transformSet {
		s.transform = p.transform
	}
	if p.scaleSet {
		s.scale = p.scale
	}
	if p.viewportSet {
		s.vpSrc, s.vpDst = p.vpSrc, p.vpDst
	}
	if p.opaqueSet {
		s.opaque = p.opaque
	}
	if p.inputSet {
		s.input = p.input
	}
	s.updateSize()
	resized := s.sizeRect() != oldBounds
	if resized || moved || p.transformSet || p.scaleSet || p.viewportSet {
		if shown {
			s.c.damageGlobal(oldBounds.Add(oldOrigin))
		}
		s.damage.Add(s.sizeRect())
	}
	for _, r := range p.damage {
		s.damage.Add(r.Intersect(s.sizeRect()))
	}
	for _, r := range p.bufferDamage {
		s.damage.Add(s.bufferToSurface(r))
	}
	for _, fb := range s.feedbacks {
		if p.attached {
			fb.SendDiscarded()
			fb.Destroy()
		}
	}
	if p.attached {
		s.feedbacks = emptied(s.feedbacks)
	}
	s.frames = append(s.frames, p.frames...)
	s.feedbacks = append(s.feedbacks, p.feedbacks...)
	p.reset()
	s.committedOnce = true

	// Children's positions and synchronized state follow the parent.
	for _, sub := range slices.Concat(s.below, s.above) {
		sub.parentCommitted()
	}
	if s.role != nil {
		s.role.committed(s)
	}
	s.c.surfaceCommitted(s)
}

// setBuffer makes b the surface's buffer; frameDue says a frame
// callback will tell the client of the refresh soon (buffer.release).
func (s *surface) setBuffer(b *buffer, frameDue bool) {
	if s.buf == b {
		return
	}
	old := s.buf
	s.buf = b
	if b != nil {
		b.ref()
		b.users++
	}
	if old != nil {
		old.users--
		// wl_shm contents are read at composite time, so the old buffer
		// is needed until it is replaced: now.
		if old.users == 0 {
			old.release(frameDue)
		}
		old.unref()
	}
}

func (s *surface) updateSize() {
	if s.buf == nil {
		s.width, s.height = 0, 0
		return
	}
	bw, bh := s.transform.TransformSize(s.buf.width, s.buf.height)
	w, h := bw/int(s.scale), bh/int(s.scale)
	if s.vpSrc[2] >= 0 {
		w, h = int(s.vpSrc[2].Float()), int(s.vpSrc[3].Float())
	}
	if s.vpDst[0] >= 0 {
		w, h = int(s.vpDst[0]), int(s.vpDst[1])
	}
	s.width, s.height = w, h
}

func (s *surface) sizeRect() image.Rectangle { return image.Rect(0, 0, s.width, s.height) }

// mapped reports whether the surface has content to show.
func (s *surface) mapped() bool { return s.buf != nil && s.width > 0 && s.height > 0 }

// srcRect is the part of the buffer shown, in buffer pixels.
func (s *surface) srcRect() image.Rectangle {
	bw, bh := s.buf.width, s.buf.height
	tw, th := s.transform.TransformSize(bw, bh)
	r := image.Rect(0, 0, tw, th)
	if s.vpSrc[2] >= 0 {
		sc := float64(s.scale)
		r = image.Rect(int(s.vpSrc[0].Float()*sc), int(s.vpSrc[1].Float()*sc),
			int((s.vpSrc[0].Float()+s.vpSrc[2].Float())*sc+0.5), int((s.vpSrc[1].Float()+s.vpSrc[3].Float())*sc+0.5))
	}
	return s.transform.Rect(r, tw, th)
}

// bufferToSurface maps buffer damage to surface coordinates. With a
// viewport the mapping is rounded outward by damaging the whole surface,
// which is rare enough not to matter.
func (s *surface) bufferToSurface(r image.Rectangle) image.Rectangle {
	if s.buf == nil {
		return image.Rectangle{}
	}
	if s.vpSrc[2] >= 0 || s.vpDst[0] >= 0 {
		return s.sizeRect()
	}
	sr := s.transform.Invert().Rect(r.Intersect(image.Rect(0, 0, s.buf.width, s.buf.height)), s.buf.width, s.buf.height)
	sc := int(s.scale)
	return image.Rect(sr.Min.X/sc, sr.Min.Y/sc, (sr.Max.X+sc-1)/sc, (sr.Max.Y+sc-1)/sc)
}

// opaqueCovers reports whether the surface is opaque over its whole
// area, so everything below it can be skipped.
func (s *surface) fullyOpaque() bool {
	if s.buf == nil {
		return false
	}
	if s.buf.opaque {
		return true
	}
	return s.opaque != nil && s.opaque.covers(s.sizeRect())
}

// damageEverywhere repaints wherever the surface was shown.
func (s *surface) damageEverywhere() {
	s.c.damageSurfaceArea(s)
}
