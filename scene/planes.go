package scene

import (
	"errors"
	"image"

	"github.com/vitrine-wm/vitrine/render"
	"github.com/vitrine-wm/vitrine/scene/present"
)

// The per-frame plane plan, in one place for every layout: which client
// buffers an output with planes shows on overlay planes, which one on
// the primary plane, and what is composited into the shadow.
//
// From the top of the stack down, each surface whose buffer is a
// dma-buf (unrotated, on an unrotated output, wholly on the output) is
// offered to the next free overlay plane, unless something composited
// lies above it where they overlap: the composited picture is on the
// primary plane, below every overlay, so it could not cover the layer.
// What is left is composited; if that is only one fullscreen opaque
// dma-buf it goes on the primary plane instead (direct scanout). The
// output checks the whole assignment with one TEST_ONLY; a refusal
// drops the layer worth least (the smallest) and tries again, a bounded
// number of times. The area under opaque layers is cut out of the
// damage: nothing is composited or copied there.
//
// The outcome is remembered per frame shape (which buffers at which
// rectangles), so a steady scene, or a video cycling through its
// buffers, tries each shape once.

// layerRect is where an overlay layer of the last frame is.
type layerRect struct {
	r      image.Rectangle
	opaque bool
}

// planeLayer is a surface offered to an overlay plane.
type planeLayer struct {
	item  int // index in the frame's list
	rank  int // place in the top-down offer (planShape.dropped)
	layer present.Layer
}

// planeScratch is the plan's per-frame memory, kept between frames so a
// steady frame allocates nothing.
type planeScratch struct {
	covered []image.Rectangle // composited surfaces above, top-down walk
	offered []planeLayer      // top to bottom as offered
	layers  []planeLayer      // bottom to top, what the state carries
	state   []present.Layer
	rest    []drawItem // what is composited
	scanout present.Buffer
	shapes  [8]planShape
	next    int
	// epoch is the Compositor.displayEpoch the shapes were learnt in: a
	// hotplug or mode change asks the planes again.
	epoch uint64
}

// planShape remembers, for one frame shape, which of the offered layers
// the output refused (bit i: the i-th offered from the top).
type planShape struct {
	sig     uint64
	dropped uint32
	noPrime bool // the primary refused the scanout candidate
	valid   bool
}

func (p *planeScratch) lookup(sig uint64) *planShape {
	for i := range p.shapes {
		if s := &p.shapes[i]; s.valid && s.sig == sig {
			return s
		}
	}
	s := &p.shapes[p.next]
	p.next = (p.next + 1) % len(p.shapes)
	*s = planShape{sig: sig, valid: true}
	return s
}

// maxPlaneTries bounds the TEST_ONLY reductions of one frame.
const maxPlaneTries = 6

// commitFrame shows list on an output with planes, as one state.
func (o *output) commitFrame(so Scanouter, list []drawItem) {
	p := &o.plan
	full := image.Rect(0, 0, o.width, o.height)
	if p.epoch != o.c.displayEpoch {
		p.shapes, p.epoch = [len(p.shapes)]planShape{}, o.c.displayEpoch
	}
	o.offerLayers(list, so.OverlayPlanes(), full)
	shape := p.lookup(o.shapeSignature(list))
	for i := len(p.offered) - 1; i >= 0; i-- {
		if shape.dropped&(1<<p.offered[i].rank) != 0 {
			p.offered = append(p.offered[:i], p.offered[i+1:]...)
		}
	}
	var prim *buffer
	composited, noPrime := false, shape.noPrime
	o.frameDamage = o.frameDamage[:0]
	for try := 0; ; try++ {
		o.stackLayers(list)
		if prim = o.scanoutCandidate(p.rest); prim != nil && (prim.dma == nil || noPrime) {
			prim = nil
		}
		st := present.State{Overlays: p.state}
		if prim != nil {
			p.scanout = present.Buffer{Key: prim.dma.key, Buffer: &prim.dma.desc}
			st.Scanout = &p.scanout
		} else {
			st.Damage = o.compositeFrame(full, composited)
			composited = true
		}
		err := so.Commit(st)
		if err == nil {
			break
		}
		var oe *present.OverlayError
		switch {
		case errors.Is(err, present.ErrRevoked):
			// DRM master is gone ahead of the session's pause: no
			// verdict on any buffer.
			o.frameFailed(err)
			return
		case try >= maxPlaneTries:
		case errors.As(err, &oe) && len(p.layers) > 0:
			drop := o.smallestLayer()
			if oe.Layer >= 0 && oe.Layer < len(p.layers) {
				drop = oe.Layer
			}
			o.dropLayer(list, shape, drop, composited)
			continue
		case errors.Is(err, present.ErrScanoutRefused) && prim != nil:
			// Stop advertising this format and modifier on the plane
			// to this surface: its client should allocate for the copy
			// path instead (until the displays change).
			o.c.refuseScanout(p.rest[0].s, prim.dma.desc.Format, prim.dma.desc.Modifier)
			shape.noPrime, noPrime = true, true
			continue
		case prim != nil:
			o.c.log.Warn("direct scanout failed; compositing", "output", o.dev.Name(), "err", err)
			noPrime = true
			continue
		}
		o.frameFailed(err)
		return
	}
	o.framePlaced(list, prim)
}

// offerLayers walks list from the top down and keeps, in p.offered,
// the surfaces that may go on an overlay plane, at most one per plane.
func (o *output) offerLayers(list []drawItem, planes []present.PlaneInfo, full image.Rectangle) {
	p := &o.plan
	p.covered, p.offered = p.covered[:0], p.offered[:0]
	if len(planes) == 0 || o.dev.Transform() != render.Normal || o.scale != scaleDenom {
		// Layers are placed in output coordinates, which are the
		// plane's pixels only at scale 1.
		return
	}
	for i := len(list) - 1; i >= 0; i-- {
		it := list[i]
		dst := it.s.sizeRect().Add(it.pos)
		if len(p.offered) < len(planes) && len(p.offered) < 32 && !overlapsAny(p.covered, dst) {
			// The bottom surface, when it fills the output, is the
			// primary plane's: under it there is nothing to composite.
			if l, ok := o.overlayLayer(it, dst, full, planes); ok && !(i == 0 && o.scanoutCandidate(list[:1]) != nil) {
				p.offered = append(p.offered, planeLayer{item: i, rank: len(p.offered), layer: l})
				continue
			}
		}
		p.covered = append(p.covered, dst)
	}
}

// overlayLayer is it as a layer for an overlay plane, if it can be one.
func (o *output) overlayLayer(it drawItem, dst, full image.Rectangle, planes []present.PlaneInfo) (present.Layer, bool) {
	s := it.s
	b := s.buf
	if b == nil || b.dma == nil || s.transform != render.Normal || dst.Empty() || !dst.In(full) {
		return present.Layer{}, false
	}
	listed := false
	for _, pl := range planes {
		if listsFormat(pl.Formats, b.dma.desc.Format, b.dma.desc.Modifier) {
			listed = true
			break
		}
	}
	if !listed {
		return present.Layer{}, false
	}
	return present.Layer{Key: b.dma.key, Buffer: &b.dma.desc, Src: s.srcFixed16(), Dst: dst, Opaque: s.fullyOpaque()}, true
}

// listsFormat reports whether a plane's table takes format/modifier;
// an implicit modifier is taken for linear.
func listsFormat(formats map[uint32][]uint64, format uint32, modifier uint64) bool {
	for _, m := range formats[format] {
		if m == modifier || modifier == modInvalid && m == modLinear {
			return true
		}
	}
	return false
}

// srcFixed16 is the part of the buffer the surface shows in 16.16
// buffer pixels (unrotated buffers): the viewport's source, which may
// be fractional, else the whole buffer.
func (s *surface) srcFixed16() present.Fixed16Rect {
	if s.vpSrc[2] < 0 {
		return present.Fixed16(image.Rect(0, 0, s.buf.width, s.buf.height))
	}
	// wl_fixed is 24.8; the buffer has scale pixels per surface unit.
	f := func(v int32) uint32 { return uint32(max(v, 0)) << 8 * uint32(s.scale) }
	return present.Fixed16Rect{X: f(int32(s.vpSrc[0])), Y: f(int32(s.vpSrc[1])), W: f(int32(s.vpSrc[2])), H: f(int32(s.vpSrc[3]))}
}

func overlapsAny(rs []image.Rectangle, r image.Rectangle) bool {
	for _, c := range rs {
		if c.Overlaps(r) {
			return true
		}
	}
	return false
}

// stackLayers puts the offered layers bottom to top into the state and
// the rest of list into what is composited.
func (o *output) stackLayers(list []drawItem) {
	p := &o.plan
	p.layers, p.state, p.rest = p.layers[:0], p.state[:0], p.rest[:0]
	for i := len(p.offered) - 1; i >= 0; i-- {
		p.layers = append(p.layers, p.offered[i])
		p.state = append(p.state, p.offered[i].layer)
	}
	next := 0 // p.layers is in list order
	for i, it := range list {
		if next < len(p.layers) && p.layers[next].item == i {
			next++
			continue
		}
		p.rest = append(p.rest, it)
	}
}

// compositeFrame composites this frame's damage into the shadow, less
// what opaque overlay layers cover. again: a try before composited the
// damage already; only what it left out (a layer dropped since) is
// painted. It returns the damage to commit, in shadow pixels; the
// logical damage stays in frameDamage for a retry.
func (o *output) compositeFrame(full image.Rectangle, again bool) []image.Rectangle {
	shadow := o.dev.Shadow()
	p := &o.plan
	if again {
		// dropLayer added the dropped layers' rectangles; they were
		// painted there.
		if o.scale != scaleDenom {
			return o.pixelDamageOf(o.frameDamage)
		}
		return o.frameDamage
	}
	if o.shadowStale || o.fullPresent {
		// Coming back from direct scanout: the shadow and the display's
		// buffers missed those frames, so this one repaints everything.
		o.damage = append(o.damage[:0], full)
	}
	o.shadowStale, o.fullPresent = false, false
	// What the last frame's opaque layers hid is stale in the shadow;
	// where this frame's layers still hide it, it stays so.
	for _, r := range o.cut {
		o.damage.Add(r)
	}
	o.cut = o.cut[:0]
	for _, l := range p.layers {
		if l.layer.Opaque {
			o.damage.Subtract(l.layer.Dst)
			o.cut.Add(l.layer.Dst)
		}
	}
	// Swap the damage into the frame's buffer: outputs do not keep the
	// slice past Commit, so both buffers are reused frame after frame.
	damage := o.damage
	o.damage, o.frameDamage = o.frameDamage[:0], damage
	if o.scale != scaleDenom {
		damage = o.pixelDamageOf(damage)
	}
	for _, r := range damage {
		o.composite(shadow, p.rest, r)
	}
	return damage
}

// smallestLayer is the index in plan.layers of the layer worth least
// on a plane: the smallest.
func (o *output) smallestLayer() int {
	best := 0
	for i, l := range o.plan.layers {
		if a := l.layer.Dst.Dx() * l.layer.Dst.Dy(); a < o.plan.layers[best].layer.Dst.Dx()*o.plan.layers[best].layer.Dst.Dy() {
			best = i
		}
	}
	return best
}

// dropLayer composites layer i (index in plan.layers) from now on, in
// this frame and every frame of its shape. Its area is painted into the
// shadow, with it among the composited surfaces: now if this frame
// composited already, else with the frame's damage.
func (o *output) dropLayer(list []drawItem, shape *planShape, i int, composited bool) {
	p := &o.plan
	l := p.layers[i]
	shape.dropped |= 1 << l.rank
	for j, off := range p.offered {
		if off.rank == l.rank {
			p.offered = append(p.offered[:j], p.offered[j+1:]...)
			break
		}
	}
	o.stackLayers(list)
	r := l.layer.Dst
	if !composited {
		o.damage.Add(r)
		return
	}
	o.frameDamage.Add(r)
	o.cut.Subtract(r)
	o.composite(o.dev.Shadow(), p.rest, r)
}

// framePlaced records the frame committed: buffers held for their
// planes, counts, what the shadow lacks, frame callbacks.
func (o *output) framePlaced(list []drawItem, prim *buffer) {
	p := &o.plan
	o.damage = o.damage[:0]
	o.layerRects = o.layerRects[:0]
	for _, l := range p.layers {
		o.hold(list[l.item].s.buf)
		o.layerRects = append(o.layerRects, layerRect{l.layer.Dst, l.layer.Opaque})
	}
	for len(o.stats.Overlays) < len(p.layers) {
		o.stats.Overlays = append(o.stats.Overlays, 0)
	}
	for i := range p.layers {
		o.stats.Overlays[i]++
	}
	o.stats.Frames++
	if prim != nil {
		o.shadowStale, o.fullPresent = true, true
		o.hold(prim)
		o.stats.Scanout++
	} else {
		o.stats.Composited++
	}
	o.collectFrameWork(list)
	o.inFlight = true
}

// shapeSignature names the frame shape the plan decides for: the
// offered buffers and their rectangles, and the primary candidate.
func (o *output) shapeSignature(list []drawItem) uint64 {
	h := uint64(14695981039346656037)
	mix := func(v uint64) { h = (h ^ v) * 1099511628211 }
	for _, l := range o.plan.offered {
		mix(l.layer.Key)
		mix(uint64(uint32(l.layer.Dst.Min.X))<<32 | uint64(uint32(l.layer.Dst.Min.Y)))
		mix(uint64(uint32(l.layer.Dst.Max.X))<<32 | uint64(uint32(l.layer.Dst.Max.Y)))
		mix(uint64(l.layer.Src.X)<<32 | uint64(l.layer.Src.Y))
		mix(uint64(l.layer.Src.W)<<32 | uint64(l.layer.Src.H))
	}
	if len(list) > 0 {
		if b := list[0].s.buf; b != nil && b.dma != nil {
			mix(b.dma.key)
		}
	}
	return h
}
