package render_test

import (
	"fmt"
	"image"

	"github.com/vitrine-wm/vitrine/render"
)

// One composited frame on an output rotated by 90°: paint the damaged part
// of the shadow, then copy just that to the scanout buffer and report where
// it landed.
func Example() {
	const w, h = 8, 4 // the output's logical (upright) size
	shadow := render.NewImage(w, h, render.XRGB8888)
	t := render.Rotate90
	fw, fh := t.TransformSize(w, h)
	scanout := render.NewImage(fw, fh, render.XRGB8888) // a dumb buffer mapping, in real life

	// A 2x2 opaque client buffer at (5,1), then a half-transparent overlay.
	client := render.NewImage(2, 2, render.XRGB8888)
	client.SetPixelARGB(0, 0, 0xffff0000)
	damage := image.Rect(5, 1, 7, 3)
	render.Fill(shadow, shadow.Bounds(), 0xff000000, damage)
	render.Draw(shadow, render.Layer{
		Src: client, SrcRect: client.Bounds(), Dst: image.Rect(5, 1, 7, 3), Opaque: true,
	}, damage)
	render.Fill(shadow, image.Rect(0, 0, w, h), 0x80000080, damage)

	var copier render.Copier // one per output, kept between frames
	n := copier.CopyOut(scanout, shadow, []image.Rectangle{damage}, t)
	fmt.Println("bytes copied:", n)
	fmt.Println("FB_DAMAGE_CLIPS:", t.Rect(damage, w, h))
	fmt.Printf("shadow (5,1) = %#08x\n", shadow.PixelARGB(5, 1))
	at := t.Rect(image.Rect(5, 1, 6, 2), w, h).Min
	fmt.Printf("scanout %v = %#08x\n", at, scanout.PixelARGB(at.X, at.Y))
	// Output:
	// bytes copied: 16
	// FB_DAMAGE_CLIPS: (1,1)-(3,3)
	// shadow (5,1) = 0xff7f0080
	// scanout (1,2) = 0xff7f0080
}
