package scene

import (
	"image"
	"strings"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/cursorshape"
	"github.com/vitrine-wm/vitrine/protocol/wl"
	"github.com/vitrine-wm/vitrine/render"
	"github.com/vitrine-wm/vitrine/scene/xcursor"
)

// wp_cursor_shape_v1: a client names its cursor (text, pointer, wait,
// a resize arrow) instead of drawing it; vitrine shows that cursor from
// the XCursor theme (InputConfig.CursorTheme), or a plain arrow when
// the theme has none. Toolkits that use it (GTK 4.14, Qt 6.7, Chromium)
// then need no cursor theme of their own.

const cursorShapeVersion = 1

// shapeNames are the theme's names for each shape (the CSS name the
// enum is taken from, then the older X11 names).
var shapeNames = [...][]string{
	cursorshape.CursorShapeDeviceV1ShapeDefault:     {"default", "left_ptr"},
	cursorshape.CursorShapeDeviceV1ShapeContextMenu: {"context-menu"},
	cursorshape.CursorShapeDeviceV1ShapeHelp:        {"help", "question_arrow"},
	cursorshape.CursorShapeDeviceV1ShapePointer:     {"pointer", "hand2"},
	cursorshape.CursorShapeDeviceV1ShapeProgress:    {"progress", "left_ptr_watch"},
	cursorshape.CursorShapeDeviceV1ShapeWait:        {"wait", "watch"},
	cursorshape.CursorShapeDeviceV1ShapeCell:        {"cell"},
	cursorshape.CursorShapeDeviceV1ShapeCrosshair:   {"crosshair", "cross"},
	cursorshape.CursorShapeDeviceV1ShapeText:        {"text", "xterm"},
	cursorshape.CursorShapeDeviceV1ShapeNsResize:    {"ns-resize", "sb_v_double_arrow"},
	cursorshape.CursorShapeDeviceV1ShapeEwResize:    {"ew-resize", "sb_h_double_arrow"},
	cursorshape.CursorShapeDeviceV1ShapeGrabbing:    {"grabbing", "fleur"},
}

// maxShape is the last shape of version 1.
const maxShape = cursorshape.CursorShapeDeviceV1ShapeZoomOut

// cssNames lists the shapes in enum order from 1, as CSS spells them.
const cssNames = "default context-menu help pointer progress wait cell crosshair text vertical-text alias copy move no-drop not-allowed grab grabbing e-resize n-resize ne-resize nw-resize s-resize se-resize sw-resize w-resize ew-resize ns-resize nesw-resize nwse-resize col-resize row-resize all-scroll zoom-in zoom-out"

func (c *Compositor) bindCursorShapeManager(pc *protocol.Client, version, id uint32) error {
	res, err := cursorshape.NewCursorShapeManagerV1(pc, id, version)
	if err == nil {
		res.Handler = cursorShapeManager{c}
	}
	return err
}

type cursorShapeManager struct{ c *Compositor }

func (cursorShapeManager) Destroy(*cursorshape.CursorShapeManagerV1) error { return nil }

func (m cursorShapeManager) GetPointer(_ *cursorshape.CursorShapeManagerV1, res *cursorshape.CursorShapeDeviceV1, ptr *wl.Pointer) error {
	res.Handler = &shapeDevice{c: m.c, pointer: ptr}
	return nil
}

func (m cursorShapeManager) GetTabletToolV2(r *cursorshape.CursorShapeManagerV1, res *cursorshape.CursorShapeDeviceV1, _ protocol.Object) error {
	// vitrine offers no zwp_tablet_manager_v2 (tablets are pointers),
	// so whatever object the client names, it is no tablet tool.
	res.Handler = &shapeDevice{c: m.c}
	return protocol.NewError(r, protocol.ErrInvalidObject, "not a zwp_tablet_tool_v2: vitrine has no tablet tools (tablets are pointers)")
}

type shapeDevice struct {
	c       *Compositor
	pointer *wl.Pointer // nil: inert
}

func (d *shapeDevice) Destroy(*cursorshape.CursorShapeDeviceV1) error { return nil }

func (d *shapeDevice) SetShape(r *cursorshape.CursorShapeDeviceV1, serial, shape uint32) error {
	if shape < 1 || shape > maxShape {
		return protocol.NewError(r, cursorshape.CursorShapeDeviceV1ErrorInvalidShape, "invalid shape %d", shape)
	}
	c := d.c
	in := &c.in
	// As wl_pointer.set_cursor: only the client the pointer is over,
	// and only for the latest enter it was sent.
	if d.pointer == nil || !d.pointer.Alive() || in.ptrFocus == nil || in.ptrFocus.res.Client() != r.Client() || serial != in.enterSerial {
		return nil
	}
	s := c.shapeSurface(shape)
	c.damageCursor()
	in.cursor, in.cursorHot = s, s.shapeHot
	c.cursorImageChanged()
	c.damageCursor()
	return nil
}

// shapeSurface is the compositor's own surface showing a shape, loaded
// once per scale from the theme: on a scale-2 output the theme's image
// of twice the size, drawn at buffer scale 2, so the arrow is as large
// as on a scale-1 output and as sharp as the panel.
func (c *Compositor) shapeSurface(shape uint32) *surface {
	scale := c.cursorScale()
	key := shapeKey{shape, scale}
	if s := c.in.shapes[key]; s != nil {
		return s
	}
	cfg := c.in.cfg
	theme := xcursor.Theme{Name: cfg.CursorTheme, Size: cfg.CursorSize, Path: cfg.CursorPath}
	if theme.Name == "" {
		theme.Name = "default"
	}
	if theme.Size <= 0 {
		theme.Size = 24
	}
	base := theme.Size
	theme.Size *= scale
	names := []string{strings.Fields(cssNames)[shape-1]}
	if int(shape) < len(shapeNames) {
		names = append(names, shapeNames[shape]...)
	}
	names = append(names, "default", "left_ptr")
	var cur *xcursor.Cursor
	for _, n := range names {
		var err error
		if cur, err = theme.Load(n); err == nil {
			break
		}
		if err != xcursor.ErrNotFound {
			c.log.Warn("cursor theme", "theme", theme.Name, "cursor", n, "err", err)
		}
	}
	if cur == nil {
		if !c.in.themeWarned {
			c.in.themeWarned = true
			c.log.Info("no XCursor theme found: clients' cursor shapes show as a plain arrow", "theme", theme.Name, "path", theme.Path, "hint", "install adwaita-icon-theme or set XCURSOR_THEME and XCURSOR_PATH")
		}
		cur = builtinArrow()
		cur.Size = base
	}
	s := c.internalSurface(cur.Image)
	// A theme without the larger image gives the base one, shown
	// enlarged as before; an image that does not divide by the scale
	// cannot be a buffer of that scale.
	if bs := int32(max(1, (cur.Size+base/2)/base)); bs > 1 && cur.Image.Width%int(bs) == 0 && cur.Image.Height%int(bs) == 0 {
		s.scale = bs
		s.width, s.height = cur.Image.Width/int(bs), cur.Image.Height/int(bs)
	}
	s.shapeHot = cur.Hotspot.Div(int(s.scale))
	c.in.shapes[key] = s
	return s
}

// shapeKey names a shape's surface at one buffer scale.
type shapeKey struct {
	shape uint32
	scale int
}

// cursorScale is the buffer scale the compositor's own cursors are
// loaded at: the largest integer scale of the outputs (a fractional 1.5
// takes the 2 image, scaled down as a client's would be).
func (c *Compositor) cursorScale() int {
	scale := 1
	for _, o := range c.outputs {
		scale = max(scale, int(o.integerScale()))
	}
	return min(scale, 8)
}

// internalSurface is a surface with no client behind it, showing img.
// Its buffer is never released, so it needs no wl_buffer.
func (c *Compositor) internalSurface(img *render.Image) *surface {
	b := &buffer{refs: 1, users: 1, width: img.Width, height: img.Height, format: img.Format, solid: img}
	s := &surface{c: c, buf: b, scale: 1, entered: map[*output]bool{}, width: img.Width, height: img.Height}
	s.vpSrc[2] = -1
	s.vpDst = [2]int32{-1, -1}
	return s
}

// builtinArrow is a plain black-edged white arrow, 12x19, hotspot at
// its tip: the cursor when no theme is installed.
func builtinArrow() *xcursor.Cursor {
	const w, h = 12, 19
	img := render.NewImage(w, h, render.ARGB8888)
	set := func(x, y int, argb uint32) {
		i := y*img.Stride + 4*x
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = byte(argb), byte(argb>>8), byte(argb>>16), byte(argb>>24)
	}
	for y := 0; y < h-3; y++ {
		width := min(y+1, w)
		for x := 0; x < width; x++ {
			if x == 0 || x == width-1 || y == h-4 {
				set(x, y, 0xff000000)
			} else {
				set(x, y, 0xffffffff)
			}
		}
	}
	for y := h - 3; y < h; y++ { // the tail
		for x := 4; x < 7; x++ {
			set(x, y, 0xff000000)
		}
	}
	return &xcursor.Cursor{Image: img, Hotspot: image.Point{}}
}
