package render

import (
	"image"
	"math/rand/v2"
	"testing"
)

// paint marks the pixels of rs inside bounds and reports how many were
// marked and whether one was marked twice.
func paint(rs []image.Rectangle, bounds image.Rectangle) (seen []bool, n int, overlap bool) {
	seen = make([]bool, bounds.Dx()*bounds.Dy())
	for _, r := range rs {
		r = r.Intersect(bounds)
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				i := (y-bounds.Min.Y)*bounds.Dx() + x - bounds.Min.X
				if seen[i] {
					overlap = true
				} else {
					seen[i] = true
					n++
				}
			}
		}
	}
	return seen, n, overlap
}

func TestDamageMerges(t *testing.T) {
	var d Damage
	d.Add(image.Rect(0, 0, 64, 64))
	d.Add(image.Rect(8, 0, 72, 64)) // a box moved 8 px
	if len(d) != 1 || d[0] != image.Rect(0, 0, 72, 64) {
		t.Fatalf("moving box damage = %v, want one 72x64 rectangle", d)
	}
	d.Add(image.Rect(500, 500, 510, 510)) // far away: kept apart
	if len(d) != 2 {
		t.Fatalf("distant damage merged: %v", d)
	}
	d.Add(image.Rect(10, 10, 20, 20)) // inside: no change
	if len(d) != 2 || d.Area() != 72*64+100 {
		t.Fatalf("contained rectangle changed the list: %v", d)
	}
	d.Add(image.Rect(72, 0, 80, 64)) // exact neighbour: one rectangle
	if len(d) != 2 || d[1] != image.Rect(0, 0, 80, 64) {
		t.Fatalf("neighbour not merged: %v", d)
	}
	d.Add(image.Rect(-10, -10, 600, 600)) // covers everything
	if len(d) != 1 || d[0] != image.Rect(-10, -10, 600, 600) {
		t.Fatalf("covering rectangle: %v", d)
	}
}

func TestDamageKeepsDiagonalNeighboursApartAndDisjoint(t *testing.T) {
	// Merging these would paint 875 pixels neither covers.
	var d Damage
	d.Add(image.Rect(0, 0, 10, 10))
	d.Add(image.Rect(5, 5, 100, 100))
	bounds := image.Rect(0, 0, 100, 100)
	_, n, overlap := paint(d, bounds)
	if overlap || n != 100+95*95-25 {
		t.Fatalf("%v: %d pixels, overlap %v; want %d disjoint", d, n, overlap, 100+95*95-25)
	}
	if d.Area() != n {
		t.Fatalf("Area %d, painted %d", d.Area(), n)
	}
}

func TestDamageIsTheDisjointUnion(t *testing.T) {
	bounds := image.Rect(0, 0, 100, 100)
	in := []image.Rectangle{
		image.Rect(10, 10, 50, 50),
		image.Rect(30, 30, 70, 70),
		image.Rect(40, 0, 45, 100),
		image.Rect(20, 20, 25, 25), // inside the first
		image.Rect(90, 90, 90, 95), // empty
		image.Rect(75, 80, 95, 90),
		image.Rect(70, 75, 99, 95), // sticks out on all four sides of the previous one
	}
	var d Damage
	for _, r := range in {
		d.Add(r)
	}
	want, wantN, _ := paint(in, bounds)
	got, gotN, overlap := paint(d, bounds)
	if overlap {
		t.Errorf("overlapping rectangles: %v", d)
	}
	if gotN != wantN {
		t.Errorf("%v covers %d pixels, the union has %d", d, gotN, wantN)
	}
	for i := range want {
		if want[i] != got[i] {
			t.Fatalf("pixel %d,%d: in the union %v, in the damage %v", i%100, i/100, want[i], got[i])
		}
	}
}

// Random damage: the list stays disjoint, covers every damaged pixel, and
// (short of the bounding box) paints no more than the rectangles added
// would: a merge only trades overlap for the area around it.
func TestDamageRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	bounds := image.Rect(0, 0, 80, 80)
	for iter := range 300 {
		var d Damage
		var in []image.Rectangle
		sum := 0
		for range 1 + rng.IntN(20) {
			x, y := rng.IntN(60), rng.IntN(60)
			r := image.Rect(x, y, x+1+rng.IntN(20), y+1+rng.IntN(20))
			in = append(in, r)
			sum += area(r)
			d.Add(r)
		}
		want, _, _ := paint(in, bounds)
		got, _, overlap := paint(d, bounds)
		if overlap || len(d) > MaxDamageRects {
			t.Fatalf("iteration %d: %d rectangles, overlap %v: %v", iter, len(d), overlap, d)
		}
		for i := range want {
			if want[i] && !got[i] {
				t.Fatalf("iteration %d: damaged pixel %d,%d lost after adding %v: %v", iter, i%80, i/80, in, d)
			}
		}
		if len(d) > 1 && d.Area() > sum {
			t.Fatalf("iteration %d: %d pixels listed for %d added: %v", iter, d.Area(), sum, d)
		}
	}
}

func TestDamageBoundsItsLength(t *testing.T) {
	var d Damage
	for i := 0; i < 100; i++ {
		d.Add(image.Rect(i*20, 0, i*20+5, 5))
	}
	if len(d) > MaxDamageRects {
		t.Fatalf("%d rectangles kept, limit %d", len(d), MaxDamageRects)
	}
	for i := 0; i < 100; i++ {
		p := image.Pt(i*20+2, 2)
		in := false
		for _, r := range d {
			in = in || p.In(r)
		}
		if !in {
			t.Fatalf("damage at %v lost when the list was bounded: %v", p, d)
		}
	}
}

func TestDamageClip(t *testing.T) {
	d := Damage{image.Rect(-5, -5, 5, 5), image.Rect(20, 20, 30, 30), image.Rect(8, 0, 12, 4)}
	d = d.Clip(image.Rect(0, 0, 10, 10))
	if len(d) != 2 || d[0] != image.Rect(0, 0, 5, 5) || d[1] != image.Rect(8, 0, 10, 4) {
		t.Fatalf("Clip = %v", d)
	}
}

// A list reused from frame to frame costs no allocation per frame.
func TestDamageAddReusesItsList(t *testing.T) {
	var d Damage
	frame := func() {
		d = d[:0]
		for i := range 8 {
			d.Add(image.Rect(i*40, 0, i*40+30, 30))
			d.Add(image.Rect(i*40+10, 10, i*40+50, 50)) // cut into pieces
		}
	}
	frame()
	if n := testing.AllocsPerRun(100, frame); n != 0 {
		t.Errorf("%.1f allocations per frame, want 0", n)
	}
}

func TestDamageSubtract(t *testing.T) {
	var d Damage
	d.Add(image.Rect(0, 0, 100, 100))
	d.Add(image.Rect(200, 0, 210, 10))
	d.Subtract(image.Rect(20, 20, 80, 80))
	if got, want := d.Area(), 100*100-60*60+100; got != want {
		t.Fatalf("area after cutting a hole: %d, want %d (%v)", got, want, d)
	}
	bounds := image.Rect(0, 0, 300, 300)
	seen, _, overlap := paint(d, bounds)
	if overlap {
		t.Fatalf("pieces overlap: %v", d)
	}
	if seen[50*300+50] || !seen[10*300+10] || !seen[5*300+205] {
		t.Fatalf("wrong pixels left: %v", d)
	}
	d.Subtract(image.Rect(0, 0, 300, 300))
	if len(d) != 0 {
		t.Fatalf("subtracting everything left %v", d)
	}
}
