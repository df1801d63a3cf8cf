package render

import "image"

// MaxDamageRects bounds the length of a Damage. Past it the bounding box
// is cheaper than per-rectangle work: compositing walks the surfaces once
// per rectangle, and drivers take the list as FB_DAMAGE_CLIPS or DIRTYFB
// clips, one transfer each.
const MaxDamageRects = 32

// Damage is a short list of non-overlapping rectangles covering the
// damaged area. It is the one rule for damage in the compositor: the
// scene collects surface and output damage with it, and the KMS output
// unites the damage of the frames a buffer missed with it. Keeping the
// rectangles disjoint means no pixel is composited, copied or
// transferred by the driver twice.
//
// The zero value is empty. Add reuses the list's capacity, so a Damage
// kept from frame to frame (reset with d = d[:0]) does not allocate.
type Damage []image.Rectangle

func area(r image.Rectangle) int { return r.Dx() * r.Dy() }

// Add includes r in the damage. r absorbs every rectangle whose bounding
// box with r is no larger than the two areas added: a contained one, an
// overlapping one offset by a few pixels (a moving box stays one
// rectangle), or an exact neighbour. Of what is left, only the parts of r
// outside the listed rectangles are added. A list that grows past
// MaxDamageRects becomes its bounding box.
func (d *Damage) Add(r image.Rectangle) {
	if r.Empty() {
		return
	}
	for merged := true; merged; {
		merged = false
		for i, e := range *d {
			if r.In(e) {
				return
			}
			if u := e.Union(r); area(u) <= area(e)+area(r) {
				// Order is kept so the list reads in the order damage came.
				*d = append((*d)[:i], (*d)[i+1:]...)
				r = u
				merged = true
				break
			}
		}
	}
	// The tail of the list is the work area: the pieces of r still to be
	// cut by each listed rectangle in turn.
	n := len(*d)
	*d = append(*d, r)
	for i := 0; i < n; i++ {
		e := (*d)[i]
		end := len(*d)
		for j := n; j < end; j++ {
			*d = appendOutside(*d, (*d)[j], e)
		}
		*d = append((*d)[:n], (*d)[end:]...)
	}
	if len(*d) > MaxDamageRects {
		b := (*d)[0]
		for _, e := range (*d)[1:] {
			b = b.Union(e)
		}
		*d = append((*d)[:0], b)
	}
}

// appendOutside appends the parts of r outside o: at most four bands,
// above, left, right and below the intersection.
func appendOutside(dst []image.Rectangle, r, o image.Rectangle) []image.Rectangle {
	in := r.Intersect(o)
	if in.Empty() {
		return append(dst, r)
	}
	if r.Min.Y < in.Min.Y {
		dst = append(dst, image.Rect(r.Min.X, r.Min.Y, r.Max.X, in.Min.Y))
	}
	if r.Min.X < in.Min.X {
		dst = append(dst, image.Rect(r.Min.X, in.Min.Y, in.Min.X, in.Max.Y))
	}
	if in.Max.X < r.Max.X {
		dst = append(dst, image.Rect(in.Max.X, in.Min.Y, r.Max.X, in.Max.Y))
	}
	if in.Max.Y < r.Max.Y {
		dst = append(dst, image.Rect(r.Min.X, in.Max.Y, r.Max.X, r.Max.Y))
	}
	return dst
}

// Clip intersects every rectangle with b, dropping the empty ones, in
// place. Clipping keeps the rectangles disjoint.
func (d Damage) Clip(b image.Rectangle) Damage {
	out := d[:0]
	for _, r := range d {
		if r = r.Intersect(b); !r.Empty() {
			out = append(out, r)
		}
	}
	return out
}

// Subtract removes o from the damage, in place: each rectangle is cut
// into the at most four bands around o. The pieces stay disjoint. The
// list may grow past MaxDamageRects; it is for one frame's use (the area
// an overlay plane shows needs no compositing).
func (d *Damage) Subtract(o image.Rectangle) {
	if o.Empty() {
		return
	}
	n := len(*d)
	for i := 0; i < n; i++ {
		*d = appendOutside(*d, (*d)[i], o)
	}
	*d = append((*d)[:0], (*d)[n:]...)
}

// Area is the number of damaged pixels.
func (d Damage) Area() int {
	n := 0
	for _, r := range d {
		n += area(r)
	}
	return n
}
