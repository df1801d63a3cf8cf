package scene

import (
	"fmt"
	"image"
	"math"
	"slices"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/fractionalscale"
	"github.com/vitrine-wm/vitrine/protocol/wl"
)

// Output scale. An output whose mode is W×H at scale S takes
// round(W/S)×round(H/S) of the global layout: everything clients and
// the layout see (positions, sizes, pointer coordinates, damage) is in
// these logical units, and only the shadow image, the display and
// screen copies are in the mode's pixels. Compositing maps a surface's
// logical rectangle to the pixels it covers, and render scales the
// buffer into it (1:1 when the client drew at the output's scale).
//
// Scales are kept in 120ths, wp_fractional_scale_v1's unit, so the
// arithmetic is exact for every scale a client can be told.

// scaleDenom is the denominator of scales kept as integers.
const scaleDenom = 120

// MinScale and MaxScale bound the output scales vitrine accepts: below
// a quarter, logical sizes explode; above ten, nothing is readable.
const (
	MinScale = 0.25
	MaxScale = 10
)

// scale120 turns a scale into 120ths, rounded to the nearest.
func scale120(s float64) int { return int(math.Round(s * scaleDenom)) }

// CheckScale reports whether s is an output scale vitrine can use.
func CheckScale(s float64) error {
	if math.IsNaN(s) || s < MinScale || s > MaxScale {
		return fmt.Errorf("scale %g: want a number from %g to %g (1, 1.5, 2...)", s, MinScale, float64(MaxScale))
	}
	return nil
}

// floorDiv is a/b rounded down, for b > 0.
func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// scaled maps logical coordinate v of an axis whose logical length is
// n and pixel length pn to the shadow's pixels, rounding to the nearest
// (halves up); the far edge is the far edge, although the logical size
// was rounded. Every edge goes through it alone, so surfaces that touch
// in the layout touch in the pixels too.
func (o *output) scaled(v, n, pn int) int {
	if v == n {
		return pn
	}
	return o.pixelPoint(image.Pt(v, 0)).X
}

// pixelRect is where logical rectangle r of the output is drawn in the
// shadow.
func (o *output) pixelRect(r image.Rectangle) image.Rectangle {
	if o.scale == scaleDenom {
		return r
	}
	b := o.pixelBounds()
	return image.Rect(o.scaled(r.Min.X, o.width, b.Max.X), o.scaled(r.Min.Y, o.height, b.Max.Y),
		o.scaled(r.Max.X, o.width, b.Max.X), o.scaled(r.Max.Y, o.height, b.Max.Y))
}

// pixelPoint is logical point p of the output in shadow pixels.
func (o *output) pixelPoint(p image.Point) image.Point {
	if o.scale == scaleDenom {
		return p
	}
	return image.Pt(floorDiv(2*p.X*o.scale+scaleDenom, 2*scaleDenom), floorDiv(2*p.Y*o.scale+scaleDenom, 2*scaleDenom))
}

// pixelDamage is the shadow pixels logical damage r touches, rounded
// outward (a pixel more on each side), so it covers whatever pixelRect
// gives for any rectangle that r contains.
func (o *output) pixelDamage(r image.Rectangle) image.Rectangle {
	if o.scale == scaleDenom {
		return r
	}
	p := o.pixelRect(r)
	return image.Rect(p.Min.X-1, p.Min.Y-1, p.Max.X+1, p.Max.Y+1)
}

// pixelBounds is the shadow's rectangle: the rotated mode.
func (o *output) pixelBounds() image.Rectangle {
	w, h, _ := o.dev.Mode()
	w, h = o.dev.Transform().TransformSize(w, h)
	return image.Rect(0, 0, w, h)
}

// logicalSize is the mode's rotated size w×h at o's scale.
func (o *output) logicalSize(w, h int) (int, int) {
	if o.scale == scaleDenom {
		return w, h
	}
	return max(1, (2*w*scaleDenom+o.scale)/(2*o.scale)), max(1, (2*h*scaleDenom+o.scale)/(2*o.scale))
}

// integerScale is wl_output.scale: the scale rounded up, so clients
// that only know integer scales draw at least as sharp as needed.
func (o *output) integerScale() int32 {
	return int32((o.scale + scaleDenom - 1) / scaleDenom)
}

// scaleFloat is o's scale as a number.
func (o *output) scaleFloat() float64 { return float64(o.scale) / scaleDenom }

// initialScale is the scale Config.OutputScale gives the output called
// name (1 when it gives none or one out of range).
func (c *Compositor) initialScale(name string) int {
	if c.outputScale == nil {
		return scaleDenom
	}
	s := c.outputScale(name)
	if s == 0 {
		return scaleDenom
	}
	if err := CheckScale(s); err != nil {
		c.log.Warn("output scale ignored", "output", name, "err", err)
		return scaleDenom
	}
	return scale120(s)
}

// pixelDamageOf turns the frame's logical damage into shadow pixels,
// in o's buffer reused frame to frame. Add keeps the rectangles
// disjoint (outputs copy each damaged pixel once): rounding outward can
// make neighbours overlap by a pixel.
func (o *output) pixelDamageOf(damage []image.Rectangle) []image.Rectangle {
	o.pixelDamageBuf = o.pixelDamageBuf[:0]
	bounds := o.pixelBounds()
	for _, r := range damage {
		o.pixelDamageBuf.Add(o.pixelDamage(r).Intersect(bounds))
	}
	return o.pixelDamageBuf
}

// --- wp_fractional_scale_v1 ---

type fractionalScaleManager struct{ c *Compositor }

func (fractionalScaleManager) Destroy(*fractionalscale.FractionalScaleManagerV1) error { return nil }

func (m fractionalScaleManager) GetFractionalScale(r *fractionalscale.FractionalScaleManagerV1, res *fractionalscale.FractionalScaleV1, ws *wl.Surface) error {
	s := surfaceOf(ws)
	fs := &fractionalScale{res: res, surface: s}
	res.Handler = fs
	if s == nil || s.destroyed {
		// Its surface is gone (destroyed in the same batch): inert.
		return nil
	}
	if s.fractional != nil {
		return protocol.NewError(r, fractionalscale.FractionalScaleManagerV1ErrorFractionalScaleExists, "wl_surface#%d already has a wp_fractional_scale_v1", ws.ID())
	}
	c := m.c
	s.fractional = fs
	c.fractionals = append(c.fractionals, fs)
	res.OnDestroy(func() { fs.detach(c) })
	ws.OnDestroy(func() { fs.detach(c) })
	c.sendPreferredScale(fs)
	return nil
}

// fractionalScale is a surface's wp_fractional_scale_v1.
type fractionalScale struct {
	res     *fractionalscale.FractionalScaleV1
	surface *surface // nil once it or the object is gone
	sent    int      // the last preferred_scale, 0 before the first
}

func (fs *fractionalScale) Destroy(*fractionalscale.FractionalScaleV1) error { return nil }

func (fs *fractionalScale) detach(c *Compositor) {
	if fs.surface != nil && fs.surface.fractional == fs {
		fs.surface.fractional = nil
	}
	fs.surface = nil
	c.fractionals = slices.DeleteFunc(c.fractionals, func(x *fractionalScale) bool { return x == fs })
}

// preferredScale is the scale a surface should draw at: that of the
// output it is shown on; before it is shown, that of the output new
// windows go to, so its first buffer is already sharp.
func (c *Compositor) preferredScale(s *surface) int {
	if _, o, ok := c.surfaceOrigin(s); ok && o != nil {
		return o.scale
	}
	best := 0
	for o := range s.entered {
		best = max(best, o.scale)
	}
	if best > 0 {
		return best
	}
	if o := c.primaryOutput(); o != nil {
		return o.scale
	}
	return 0
}

func (c *Compositor) sendPreferredScale(fs *fractionalScale) {
	if fs.surface == nil {
		return
	}
	if s := c.preferredScale(fs.surface); s > 0 && s != fs.sent {
		fs.sent = s
		fs.res.SendPreferredScale(uint32(s))
	}
}

// updatePreferredScales tells every fractional-scale surface whose
// output (or that output's scale) changed its new preferred scale.
func (c *Compositor) updatePreferredScales() {
	for _, fs := range c.fractionals {
		c.sendPreferredScale(fs)
	}
}
