package scene

import (
	"image"
	"testing"

	"github.com/vitrine-wm/vitrine/protocol/xdg"
)

func TestRegionCovers(t *testing.T) {
	g := &region{ops: []regionOp{{image.Rect(0, 0, 100, 100), true}}}
	if !g.covers(image.Rect(0, 0, 100, 100)) || !g.contains(image.Pt(50, 50)) {
		t.Fatal("full add does not cover")
	}
	g.ops = append(g.ops, regionOp{image.Rect(10, 10, 20, 20), false})
	if g.covers(image.Rect(0, 0, 100, 100)) || g.contains(image.Pt(15, 15)) || !g.contains(image.Pt(50, 50)) {
		t.Fatal("subtract ignored")
	}
	if !g.covers(image.Rect(30, 30, 90, 90)) {
		t.Fatal("area away from the hole should be covered")
	}
}

func TestPositionerPlacement(t *testing.T) {
	base := positionerState{
		size:       image.Pt(100, 50),
		anchorRect: image.Rect(10, 10, 30, 20),
		anchor:     xdg.PositionerAnchorBottomLeft,
		gravity:    xdg.PositionerGravityBottomRight,
		anchorSet:  true,
	}
	bounds := image.Rect(0, 0, 1000, 1000)
	if got := base.place(bounds); got != image.Rect(10, 20, 110, 70) {
		t.Fatalf("plain placement = %v", got)
	}
	off := base
	off.offset = image.Pt(5, -3)
	if got := off.place(bounds); got != image.Rect(15, 17, 115, 67) {
		t.Fatalf("offset placement = %v", got)
	}
	// Near the bottom edge: flip_y puts the popup above the anchor.
	low := base
	low.anchorRect = image.Rect(10, 960, 30, 980)
	low.constraint = xdg.PositionerConstraintAdjustmentFlipY
	if got := low.place(bounds); got != image.Rect(10, 910, 110, 960) {
		t.Fatalf("flipped placement = %v", got)
	}
	// Near the right edge: slide_x pushes it back inside.
	right := base
	right.anchorRect = image.Rect(950, 10, 970, 20)
	right.constraint = xdg.PositionerConstraintAdjustmentSlideX
	if got := right.place(bounds); got.Max.X != 1000 || got.Dx() != 100 {
		t.Fatalf("slid placement = %v", got)
	}
	// Without permission it stays where it was asked to be.
	right.constraint = 0
	if got := right.place(bounds); got.Min.X != 950 {
		t.Fatalf("unconstrained placement moved: %v", got)
	}
}
