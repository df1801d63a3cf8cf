package scene

import "image"

// maxDamageRects bounds the per-output damage list; beyond it the bounding
// box is cheaper than tracking rectangles one by one.
const maxDamageRects = 32

// damageList is a short list of rectangles whose union is the damage.
// Overlapping rectangles are merged when the merge wastes no area, so a
// box moving by a few pixels stays one rectangle.
type damageList []image.Rectangle

func area(r image.Rectangle) int { return r.Dx() * r.Dy() }

// add includes r in the damage.
func (d *damageList) add(r image.Rectangle) {
	if r.Empty() {
		return
	}
	for changed := true; changed; {
		changed = false
		for i, e := range *d {
			if r.In(e) {
				return
			}
			u := e.Union(r)
			if e.Overlaps(r) && area(u) <= area(e)+area(r) || r.Overlaps(e) && e.In(r) {
				*d = append((*d)[:i], (*d)[i+1:]...)
				r = u
				changed = true
				break
			}
		}
	}
	*d = append(*d, r)
	if len(*d) > maxDamageRects {
		b := (*d)[0]
		for _, e := range (*d)[1:] {
			b = b.Union(e)
		}
		*d = append((*d)[:0], b)
	}
}

// clip intersects every rectangle with b, dropping empty ones.
func (d damageList) clip(b image.Rectangle) damageList {
	out := d[:0]
	for _, r := range d {
		if r = r.Intersect(b); !r.Empty() {
			out = append(out, r)
		}
	}
	return out
}

// bytes is how many pixels×bpp the damage covers.
func (d damageList) pixels() int {
	n := 0
	for _, r := range d {
		n += area(r)
	}
	return n
}
