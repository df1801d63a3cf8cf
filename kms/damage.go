package kms

import "image"

// DamageRing keeps the damage of the most recent frames, so that a buffer
// last brought up to date some frames ago can be caught up by copying only
// what changed since then (the buffer-age technique).
type DamageRing struct {
	frames [][]image.Rectangle // frames[seq % len]: damage of frame seq
	seq    uint64              // frames recorded so far
}

// NewDamageRing remembers up to depth frames; a buffer older than that is
// redrawn in full.
func NewDamageRing(depth int) *DamageRing {
	return &DamageRing{frames: make([][]image.Rectangle, max(depth, 1))}
}

// Add records the damage of a new frame.
func (r *DamageRing) Add(damage []image.Rectangle) {
	r.seq++
	r.frames[r.seq%uint64(len(r.frames))] = append([]image.Rectangle(nil), damage...)
}

// Seq is the number of frames recorded: the value a buffer stores once its
// contents match the newest frame.
func (r *DamageRing) Seq() uint64 { return r.seq }

// Since returns the damage accumulated after frame seq up to the newest,
// as non-overlapping rectangles clipped to bounds. full is true when the
// buffer was never drawn (seq 0) or is older than the ring remembers; then
// the caller copies bounds whole.
func (r *DamageRing) Since(seq uint64, bounds image.Rectangle) (rects []image.Rectangle, full bool) {
	if seq == 0 || seq > r.seq || r.seq-seq > uint64(len(r.frames)) {
		return []image.Rectangle{bounds}, true
	}
	var all []image.Rectangle
	for s := seq + 1; s <= r.seq; s++ {
		for _, d := range r.frames[s%uint64(len(r.frames))] {
			if d = d.Intersect(bounds); !d.Empty() {
				all = append(all, d)
			}
		}
	}
	return DisjointUnion(all, maxDamageRects), false
}

// maxDamageRects bounds the rectangle count: beyond it, per-rectangle
// overhead (and the FB_DAMAGE_CLIPS/DIRTYFB lists) costs more than copying
// the bounding box would save.
const maxDamageRects = 64

// DisjointUnion covers the union of rs with non-overlapping rectangles, so
// no pixel is copied (or transferred by the driver) twice. If that takes
// more than limit rectangles, it returns the bounding box.
func DisjointUnion(rs []image.Rectangle, limit int) []image.Rectangle {
	var out []image.Rectangle
	for _, r := range rs {
		if r.Empty() {
			continue
		}
		pieces := []image.Rectangle{r}
		for _, o := range out {
			var next []image.Rectangle
			for _, p := range pieces {
				next = subtract(next, p, o)
			}
			pieces = next
			if len(pieces) == 0 {
				break
			}
		}
		out = append(out, pieces...)
		if len(out) > limit {
			return []image.Rectangle{bounding(rs)}
		}
	}
	return out
}

// subtract appends to dst the parts of r outside o (at most four bands).
func subtract(dst []image.Rectangle, r, o image.Rectangle) []image.Rectangle {
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

func bounding(rs []image.Rectangle) image.Rectangle {
	var b image.Rectangle
	for _, r := range rs {
		b = b.Union(r)
	}
	return b
}
