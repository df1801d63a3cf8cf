package scene

import (
	"image"
	"math"

	"github.com/vitrine-wm/vitrine/render"
)

// CursorPlane is implemented by outputs that can show the pointer's
// cursor image on a plane of its own. Moving such a cursor then costs
// no compositing and no copy. An output without one (or one that
// refuses an image) gets the cursor composited into its frames.
type CursorPlane interface {
	// SetCursor loads the cursor image: premultiplied ARGB8888, in the
	// output's logical orientation (the output applies its transform),
	// already at the output's scale, as are the hotspot and positions.
	// It returns false when the plane cannot show it (too big, refused
	// by a test commit); the scene then composites the cursor. A
	// successful SetCursor is always followed by MoveCursor.
	SetCursor(img *render.Image, hotspot image.Point) bool
	// MoveCursor puts the image's top-left corner at x, y in the output's
	// logical coordinates (possibly negative or past the edge). It
	// returns false when the plane cannot follow; the scene then hides it
	// and composites the cursor.
	MoveCursor(x, y int) bool
	// HideCursor takes the cursor off the plane. The next time it is
	// shown the scene calls SetCursor again.
	HideCursor()
}

// cursorPlaneState is what an output's cursor plane shows.
type cursorPlaneState struct {
	// on: the plane shows the cursor, so the frames do not.
	on bool
	// refused: SetCursor said no to the current image; composite until
	// the image changes.
	refused bool
	pos     image.Point // last MoveCursor position, output coordinates
	// drawn is where the cursor was composited, in output coordinates.
	drawn image.Rectangle
}

// cursorVisible reports whether the pointer shows a cursor image now.
func (c *Compositor) cursorVisible() bool {
	in := &c.in
	s := in.cursor
	return in.cursorShown && s != nil && !s.destroyed && s.mapped()
}

// cursorOrigin is the cursor image's top-left corner, global.
func (c *Compositor) cursorOrigin() image.Point {
	in := &c.in
	return image.Pt(int(math.Floor(in.pointer[0])), int(math.Floor(in.pointer[1]))).Sub(in.cursorHot)
}

// cursorItem is the cursor as a draw item for output o, if the frames
// of o show it (it is not on o's cursor plane).
func (c *Compositor) cursorItem(o *output) (drawItem, bool) {
	if !c.cursorVisible() || o.cursor.on {
		return drawItem{}, false
	}
	return drawItem{s: c.in.cursor, pos: c.cursorOrigin().Sub(o.pos)}, true
}

// withCursor is list with the cursor on top when the frames of o show
// it. A cursor on o's plane is not in the list, so it does not keep a
// fullscreen surface off the primary plane.
func (o *output) withCursor(list []drawItem) []drawItem {
	if cur, ok := o.c.cursorItem(o); ok {
		list = append(list, cur)
	}
	return list
}

// cursorImageChanged makes every cursor plane load the image again
// (new surface, hotspot or buffer contents) at the next damageCursor.
func (c *Compositor) cursorImageChanged() {
	c.in.cursorDirty = true
}

// damageCursor brings the cursor up to date on every output: the place
// it was composited is repainted, and the cursor goes on the output's
// plane when there is one that takes it, else into its frames.
// Callers call it before and after they change the cursor state.
func (c *Compositor) damageCursor() {
	for _, o := range c.outputs {
		if !o.cursor.drawn.Empty() {
			o.damage.Add(o.cursor.drawn)
			o.cursor.drawn = image.Rectangle{}
		}
	}
	visible := c.cursorVisible()
	var rect image.Rectangle
	if visible {
		rect = c.in.cursor.sizeRect().Add(c.cursorOrigin())
	}
	dirty := c.in.cursorDirty
	c.in.cursorDirty = false
	var img *render.Image
	imgScale := 0
	for _, o := range c.outputs {
		if o.scale != imgScale {
			// The image is drawn at the output's scale.
			img, imgScale = nil, o.scale
		}
		x := rect.Intersect(o.bounds())
		if c.placeCursor(o, !x.Empty(), rect.Min.Sub(o.pos), dirty, &img) {
			continue
		}
		if !x.Empty() {
			o.cursor.drawn = x.Sub(o.pos)
			o.damage.Add(o.cursor.drawn)
		}
	}
}

// placeCursor shows or hides the cursor on o's plane and reports
// whether the plane shows it. img caches the cursor image across the
// outputs of one update.
func (c *Compositor) placeCursor(o *output, show bool, pos image.Point, dirty bool, img **render.Image) bool {
	cp, ok := o.dev.(CursorPlane)
	if !ok {
		return false
	}
	pos = o.pixelPoint(pos)
	if !c.active {
		// The display belongs to someone else: leave the plane alone,
		// SetActive puts the cursor back.
		return o.cursor.on
	}
	if dirty {
		o.cursor.refused = false
	}
	if !show {
		c.hideCursorPlane(o, cp)
		return false
	}
	if o.cursor.refused {
		return false
	}
	if !o.cursor.on || dirty {
		if *img == nil {
			*img = c.cursorImage(o)
		}
		if !cp.SetCursor(*img, o.pixelPoint(c.in.cursorHot)) {
			c.log.Debug("no cursor plane took the cursor; compositing it", "output", o.dev.Name(), "size", (*img).Bounds().Size())
			o.cursor.refused = true
			c.hideCursorPlane(o, cp)
			return false
		}
		if !o.cursor.on {
			c.log.Debug("cursor on the cursor plane", "output", o.dev.Name(), "size", (*img).Bounds().Size(), "event", "cursor.plane")
		}
		o.cursor.on = true
		if !cp.MoveCursor(pos.X, pos.Y) {
			o.cursor.refused = true
			c.hideCursorPlane(o, cp)
			return false
		}
		o.cursor.pos = pos
		return true
	}
	if pos != o.cursor.pos {
		if !cp.MoveCursor(pos.X, pos.Y) {
			c.log.Debug("cursor plane cannot move the cursor; compositing it", "output", o.dev.Name())
			o.cursor.refused = true
			c.hideCursorPlane(o, cp)
			return false
		}
		o.cursor.pos = pos
	}
	return true
}

func (c *Compositor) hideCursorPlane(o *output, cp CursorPlane) {
	if o.cursor.on {
		cp.HideCursor()
		o.cursor.on = false
	}
}

// cursorImage draws the cursor surface into a new premultiplied
// ARGB8888 image of its logical size: buffer transform, scale and
// viewport applied, as the frames would show it.
func (c *Compositor) cursorImage(o *output) *render.Image {
	s := c.in.cursor
	// At the output's scale: drawSurface scales it as it would in a
	// frame.
	size := o.itemRect(drawItem{s: s}).Size()
	img := render.NewImage(size.X, size.Y, render.ARGB8888)
	o.drawSurface(img, drawItem{s: s}, img.Bounds())
	if s.fullyOpaque() {
		// An opaque copy may carry the source's X byte along; the
		// plane blends with it, so make it the alpha it stands for.
		for i := 3; i < len(img.Pix); i += 4 {
			img.Pix[i] = 0xff
		}
	}
	return img
}

// restoreCursorPlanes puts the cursor back on the planes after the
// session came back: the display lost what was on them.
func (c *Compositor) restoreCursorPlanes() {
	for _, o := range c.outputs {
		if cp, ok := o.dev.(CursorPlane); ok && o.cursor.on {
			cp.HideCursor()
		}
		o.cursor.on = false
		o.cursor.drawn = image.Rectangle{}
	}
	c.cursorImageChanged()
	c.damageCursor()
}

// cursorFrameWork hands the cursor surface's frame callbacks to an
// output whose plane shows it, since no draw list carries it there.
func (c *Compositor) cursorFrameWork(o *output) {
	s := c.in.cursor
	if !o.cursor.on || s == nil || s.destroyed {
		return
	}
	o.doneFrames = append(o.doneFrames, s.frames...)
	o.doneFeedbacks = append(o.doneFeedbacks, s.feedbacks...)
	s.frames, s.feedbacks = emptied(s.frames), emptied(s.feedbacks)
}
