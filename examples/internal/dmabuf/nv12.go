package dmabuf

import (
	"github.com/vitrine-wm/vitrine/examples/internal/pattern"
	"github.com/vitrine-wm/vitrine/render"
)

// NV12Colorimetry is what dmabuf-client encodes a w×h NV12 frame with:
// what a compositor assumes of a video that says nothing (limited range,
// BT.709 from 1280x720 up, BT.601 below).
func NV12Colorimetry(w, h int) render.Colorimetry { return render.DefaultColorimetry(w, h) }

// writeNV12 converts img into NV12 at pix: luma rows of stride bytes
// from 0, chroma rows of the same stride from chromaOff, each chroma
// pair the rounded mean of its 2×2 pixels' chroma. Rows are built in
// system memory and copied, since pix may be write-combined.
func writeNV12(pix []byte, stride, chromaOff int, img *pattern.Image) {
	w, h := img.Width, img.Height
	c := NV12Colorimetry(w, h)
	yrow := make([]byte, w)
	crow := make([]byte, 2*((w+1)/2))
	us := make([]int, (w+1)/2)
	vs := make([]int, (w+1)/2)
	ns := make([]int, (w+1)/2)
	// Patterns have few colours: convert each run once.
	last, ly, u, v := ^uint32(0), uint8(0), uint8(0), uint8(0)
	for y := 0; y < h; y++ {
		if y%2 == 0 {
			clear(us)
			clear(vs)
			clear(ns)
		}
		for x := 0; x < w; x++ {
			if p := img.At(x, y); p != last {
				last = p
				ly, u, v = render.RGBToYUV(c, uint8(p>>16), uint8(p>>8), uint8(p))
			}
			yrow[x] = ly
			us[x/2] += int(u)
			vs[x/2] += int(v)
			ns[x/2]++
		}
		copy(pix[y*stride:], yrow)
		if y%2 == 1 || y == h-1 {
			for i := range us {
				crow[2*i] = byte((us[i] + ns[i]/2) / ns[i])
				crow[2*i+1] = byte((vs[i] + ns[i]/2) / ns[i])
			}
			copy(pix[chromaOff+(y/2)*stride:], crow)
		}
	}
}
