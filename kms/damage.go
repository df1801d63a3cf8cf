package kms

import (
	"image"

	"github.com/vitrine-wm/vitrine/render"
)

// DamageRing keeps the damage of the most recent frames, so that a buffer
// last brought up to date some frames ago can be caught up by copying only
// what changed since then (the buffer-age technique).
type DamageRing struct {
	frames [][]image.Rectangle // frames[seq % len]: damage of frame seq
	seq    uint64              // frames recorded so far
	since  render.Damage       // Since's result, reused
}

// NewDamageRing remembers up to depth frames; a buffer older than that is
// redrawn in full.
func NewDamageRing(depth int) *DamageRing {
	return &DamageRing{frames: make([][]image.Rectangle, max(depth, 1))}
}

// Add records the damage of a new frame.
func (r *DamageRing) Add(damage []image.Rectangle) {
	r.seq++
	i := r.seq % uint64(len(r.frames))
	r.frames[i] = append(r.frames[i][:0], damage...)
}

// Seq is the number of frames recorded: the value a buffer stores once its
// contents match the newest frame.
func (r *DamageRing) Seq() uint64 { return r.seq }

// Since returns the damage accumulated after frame seq up to the newest,
// clipped to bounds, as one render.Damage: non-overlapping, so no pixel is
// copied (or transferred by the driver) twice. full is true when the
// buffer was never drawn (seq 0) or is older than the ring remembers; then
// the caller copies bounds whole. The result is valid until the next call.
func (r *DamageRing) Since(seq uint64, bounds image.Rectangle) (rects []image.Rectangle, full bool) {
	r.since = r.since[:0]
	if seq == 0 || seq > r.seq || r.seq-seq > uint64(len(r.frames)) {
		r.since = append(r.since, bounds)
		return r.since, true
	}
	for s := seq + 1; s <= r.seq; s++ {
		for _, d := range r.frames[s%uint64(len(r.frames))] {
			r.since.Add(d.Intersect(bounds))
		}
	}
	return r.since, false
}
