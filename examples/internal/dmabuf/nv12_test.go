package dmabuf

import (
	"image"
	"testing"

	"github.com/vitrine-wm/vitrine/examples/internal/pattern"
	"github.com/vitrine-wm/vitrine/render"
)

// TestWriteNV12 encodes the quadrants and the moving box at an SD and an
// HD size, decodes them with render (what vitrine's copy path does) and
// requires every pixel within ±1 per channel of the RGB drawing, away
// from colour edges that split a 2×2 chroma block.
func TestWriteNV12(t *testing.T) {
	for _, size := range []image.Point{{160, 120}, {1280, 720}, {33, 17}} {
		w, h := size.X, size.Y
		img := pattern.NewImage(w, h)
		pattern.DrawQuadrants(img)
		stride := (w + 63) &^ 63
		pix := make([]byte, stride*(h+(h+1)/2))
		writeNV12(pix, stride, stride*h, img)
		yuv := &render.YUVImage{Format: render.NV12, Width: w, Height: h, Y: pix, YStride: stride,
			C: pix[stride*h:], CStride: stride, Color: NV12Colorimetry(w, h)}
		out := render.NewImage(w, h, render.XRGB8888)
		var cv render.YUVConverter
		full := image.Rect(0, 0, w, h)
		cv.Draw(out, render.YUVLayer{Src: yuv, SrcRect: full, Dst: full}, full)
		mx, my := w/2, h/2
		bad := 0
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				if x/2 == mx/2 || y/2 == my/2 {
					continue // a chroma block straddles the edge
				}
				want, got := img.At(x, y), out.PixelARGB(x, y)&0xffffff
				for s := 0; s < 24; s += 8 {
					if d := int(want>>s&0xff) - int(got>>s&0xff); d < -1 || d > 1 {
						if bad++; bad < 5 {
							t.Errorf("%v: pixel (%d,%d) = %06x, drawn %06x", size, x, y, got, want)
						}
						break
					}
				}
			}
		}
	}
	if c := NV12Colorimetry(1280, 720); c != (render.Colorimetry{Matrix: render.BT709, Range: render.Limited}) {
		t.Errorf("HD colorimetry %v", c)
	}
}
