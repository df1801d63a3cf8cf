package scene

import (
	"image"
	"testing"
)

// FuzzRegion builds a region from arbitrary add and subtract
// operations (5 bytes each: flag, then a rectangle in -8..71) the way
// wl_region requests do, and checks covers against contains: covers may
// be conservative but never claims a rectangle that has a point outside
// the region.
func FuzzRegion(f *testing.F) {
	f.Add([]byte{1, 0, 0, 64, 64, 0, 10, 10, 20, 20, 2, 0, 0, 8, 8})
	f.Add([]byte{1, 0, 0, 32, 64, 1, 32, 0, 64, 64, 2, 16, 16, 48, 48})
	f.Add([]byte{0, 0, 0, 64, 64, 1, 5, 5, 6, 6, 3, 5, 5, 6, 6})
	f.Fuzz(func(t *testing.T, data []byte) {
		coord := func(b byte) int32 { return int32(b)%80 - 8 }
		res := &regionObject{}
		var probes []image.Rectangle
		for ; len(data) >= 5; data = data[5:] {
			x0, y0, x1, y1 := coord(data[1]), coord(data[2]), coord(data[3]), coord(data[4])
			if data[0]&0x80 != 0 {
				// Far out, where x+w overflows int32.
				x0, y0 = x0<<24, y0<<24
				x1, y1 = x1<<24|0xffffff, y1<<24|0xffffff
			}
			switch data[0] % 4 {
			case 0, 1:
				res.apply(nil, x0, y0, x1-x0, y1-y0, data[0]%4 == 1)
			default:
				probes = append(probes, image.Rect(int(x0), int(y0), int(x1), int(y1)))
			}
		}
		g := &res.region
		const lim = 1 << 20
		for _, op := range g.ops {
			if op.r.Empty() || op.r.Min.X < -lim || op.r.Min.Y < -lim || op.r.Max.X > lim || op.r.Max.Y > lim {
				t.Fatalf("stored rectangle %v is empty or beyond ±2^20", op.r)
			}
		}
		for _, r := range probes {
			if r.Empty() || !g.covers(r) {
				continue
			}
			for y := r.Min.Y; y < r.Max.Y; y++ {
				for x := r.Min.X; x < r.Max.X; x++ {
					if !g.contains(image.Pt(x, y)) {
						t.Fatalf("covers(%v) but (%d,%d) is not in the region %v", r, x, y, g.ops)
					}
				}
			}
		}
	})
}
