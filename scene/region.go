package scene

import (
	"image"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/wl"
)

// region is a wl_region's content: rectangles added and subtracted in
// order. Surfaces keep an immutable snapshot, as the protocol copies the
// region at set_*_region time.
type region struct {
	ops []regionOp
}

type regionOp struct {
	r   image.Rectangle
	add bool
}

// contains reports whether p is in the region: the last operation that
// covers p decides.
func (g *region) contains(p image.Point) bool {
	in := false
	for _, op := range g.ops {
		if p.In(op.r) {
			in = op.add
		}
	}
	return in
}

// covers reports whether the region includes all of r. It is exact for
// the common cases (one big add, adds without later subtracts that touch
// r) and conservative otherwise.
func (g *region) covers(r image.Rectangle) bool {
	for i := len(g.ops) - 1; i >= 0; i-- {
		op := g.ops[i]
		if !op.add {
			if op.r.Overlaps(r) {
				return false
			}
			continue
		}
		if r.In(op.r) {
			return true
		}
	}
	return false
}

type regionObject struct{ region }

func (c *Compositor) newRegion(res *wl.Region) {
	g := &regionObject{}
	res.Handler = g
}

func (g *regionObject) Destroy(*wl.Region) error { return nil }

// maxRegionOps bounds what one client can make the compositor store.
const maxRegionOps = 4096

func (g *regionObject) Add(r *wl.Region, x, y, w, h int32) error {
	return g.apply(r, x, y, w, h, true)
}

func (g *regionObject) Subtract(r *wl.Region, x, y, w, h int32) error {
	return g.apply(r, x, y, w, h, false)
}

func (g *regionObject) apply(r *wl.Region, x, y, w, h int32, add bool) error {
	if len(g.ops) >= maxRegionOps {
		return protocol.NewError(r, protocol.ErrNoMemory, "more than %d rectangles in a region", maxRegionOps)
	}
	// A rectangle wholly beyond the clamp range clamps to an empty one:
	// it covers no pixel, so it is not worth an operation.
	if rect := clampRect(x, y, w, h); w > 0 && h > 0 && !rect.Empty() {
		g.ops = append(g.ops, regionOp{rect, add})
	}
	return nil
}

// regionSnapshot copies a wl_region's content; nil stays nil.
func regionSnapshot(res *wl.Region) *region {
	if res == nil {
		return nil
	}
	g, ok := res.Handler.(*regionObject)
	if !ok {
		return &region{}
	}
	return &region{ops: append([]regionOp(nil), g.ops...)}
}
