package scene

import (
	"image"
	"slices"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/wl"
)

type subsurface struct {
	c       *Compositor
	res     *wl.Subsurface
	surface *surface
	parent  *surface
	pos     image.Point
	// pendingPos applies at the parent's next commit.
	pendingPos    image.Point
	pendingPosSet bool
	sync          bool
}

// maxSubsurfaceDepth bounds nesting: several requests walk a surface's
// ancestors, so a chain of thousands made every commit cost the loop
// milliseconds (20 000 nested took 19 s to build). Toolkits nest two or
// three deep.
const maxSubsurfaceDepth = 32

type subcompositor struct{ c *Compositor }

func (subcompositor) Destroy(*wl.Subcompositor) error { return nil }

func (sc subcompositor) GetSubsurface(r *wl.Subcompositor, res *wl.Subsurface, ws, wparent *wl.Surface) error {
	s, parent := surfaceOf(ws), surfaceOf(wparent)
	if s == parent {
		return protocol.NewError(r, wl.SubcompositorErrorBadSurface, "wl_surface#%d cannot be its own parent", ws.ID())
	}
	if s.roleName != "" && (s.roleName != "wl_subsurface" || s.sub != nil) {
		return protocol.NewError(r, wl.SubcompositorErrorBadSurface, "wl_surface#%d already has role %s", ws.ID(), s.roleName)
	}
	depth := 1
	for p := parent; p != nil && p.sub != nil; p = p.sub.parent {
		if p.sub.parent == s {
			return protocol.NewError(r, wl.SubcompositorErrorBadSurface, "wl_surface#%d is an ancestor of its parent", ws.ID())
		}
		depth++
	}
	if depth > maxSubsurfaceDepth {
		return protocol.NewError(r, wl.SubcompositorErrorBadSurface, "subsurfaces nested more than %d deep", maxSubsurfaceDepth)
	}
	sub := &subsurface{c: sc.c, res: res, surface: s, parent: parent, sync: true}
	res.Handler = sub
	s.roleName, s.role, s.sub = "wl_subsurface", sub, sub
	parent.above = append(parent.above, sub)
	res.OnDestroy(sub.detach)
	// A parent that goes away takes its children off screen.
	parent.res.OnDestroy(func() {
		if sub.parent == parent {
			sub.detach()
		}
	})
	return nil
}

func (sub *subsurface) detach() {
	if sub.parent == nil {
		return
	}
	sub.c.damageSurfaceArea(sub.surface)
	p := sub.parent
	p.above = slices.DeleteFunc(p.above, func(x *subsurface) bool { return x == sub })
	p.below = slices.DeleteFunc(p.below, func(x *subsurface) bool { return x == sub })
	sub.parent = nil
	if sub.surface.sub == sub {
		sub.surface.sub = nil
		sub.surface.role = nil
	}
}

// synchronized is the effective mode: a subsurface is synchronized if it
// or any ancestor subsurface is.
func (sub *subsurface) synchronized() bool {
	for s := sub; s != nil; {
		if s.sync {
			return true
		}
		if s.parent == nil {
			return false
		}
		s = s.parent.sub
	}
	return false
}

func (sub *subsurface) precommit(*surface) error { return nil }
func (sub *subsurface) committed(*surface)       {}

// parentCommitted applies the position and any cached state.
func (sub *subsurface) parentCommitted() {
	if sub.pendingPosSet {
		sub.c.damageSurfaceArea(sub.surface)
		sub.pos, sub.pendingPosSet = sub.pendingPos, false
		sub.c.damageSurfaceArea(sub.surface)
	}
	if sub.surface.hasCached && sub.synchronized() {
		sub.surface.hasCached = false
		sub.surface.cached.mergeInto(&sub.surface.pending)
		sub.surface.apply()
	}
}

func (sub *subsurface) Destroy(*wl.Subsurface) error { return nil }

func (sub *subsurface) SetPosition(_ *wl.Subsurface, x, y int32) error {
	sub.pendingPos, sub.pendingPosSet = image.Pt(int(clampRect(x, y, 0, 0).Min.X), int(clampRect(x, y, 0, 0).Min.Y)), true
	return nil
}

func (sub *subsurface) PlaceAbove(r *wl.Subsurface, sibling *wl.Surface) error {
	return sub.place(r, sibling, true)
}

func (sub *subsurface) PlaceBelow(r *wl.Subsurface, sibling *wl.Surface) error {
	return sub.place(r, sibling, false)
}

// place restacks sub next to sibling (a sibling subsurface or the parent
// itself).
func (sub *subsurface) place(r *wl.Subsurface, sibling *wl.Surface, above bool) error {
	p := sub.parent
	if p == nil {
		return nil
	}
	sib := surfaceOf(sibling)
	if sib != p && (sib.sub == nil || sib.sub.parent != p) || sib == sub.surface {
		return protocol.NewError(r, wl.SubsurfaceErrorBadSurface, "wl_surface#%d is not a sibling or the parent", sibling.ID())
	}
	p.above = slices.DeleteFunc(p.above, func(x *subsurface) bool { return x == sub })
	p.below = slices.DeleteFunc(p.below, func(x *subsurface) bool { return x == sub })
	if sib == p {
		if above {
			p.above = slices.Insert(p.above, 0, sub)
		} else {
			p.below = append(p.below, sub)
		}
	} else {
		list := &p.above
		i := slices.Index(p.above, sib.sub)
		if i < 0 {
			list = &p.below
			i = slices.Index(p.below, sib.sub)
		}
		if above {
			i++
		}
		*list = slices.Insert(*list, i, sub)
	}
	sub.c.damageSurfaceArea(sub.surface)
	return nil
}

func (sub *subsurface) SetSync(*wl.Subsurface) error {
	sub.sync = true
	return nil
}

func (sub *subsurface) SetDesync(*wl.Subsurface) error {
	sub.sync = false
	if !sub.synchronized() && sub.surface.hasCached {
		sub.surface.hasCached = false
		sub.surface.cached.mergeInto(&sub.surface.pending)
		sub.surface.apply()
	}
	return nil
}
