package lab

import (
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"regexp"
	"strconv"
	"strings"

	"github.com/vitrine-wm/vitrine/cmd/vitrine-lab/internal/screencheck"
	"github.com/vitrine-wm/vitrine/kms"
)

// The judges of the kms and dmabuf rows. They work on the output of the
// guest scripts built in matrix_kms.go: each vitrine run's log comes back
// with its lines prefixed "TAG| ", followed by "TAG-exit=N".

// Moving-box geometry (examples/internal/pattern): a boxEdge square of
// boxColor on black, stepping boxStep pixels per frame.
const (
	boxEdge = 64
	boxStep = 8
	// boxBytes is what one box costs to copy (XRGB8888).
	boxBytes = boxEdge * boxEdge * 4
	// maxDamageRatio is the most a moving-box frame may copy, in boxes:
	// one frame damages the old and the new box, 72x64 when they
	// overlap (1.125 boxes).
	maxDamageRatio = 1.5
)

var (
	boxColor   = color.RGBA{0xff, 0x00, 0xff, 0xff}
	boxOffClr  = color.RGBA{0x00, 0x00, 0x00, 0xff}
	finalBoxRE = regexp.MustCompile(`(?m)^final-box x=(\d+) y=(\d+) w=(\d+) h=(\d+) frames=(\d+)$`)
)

// finalBox reads the client's "final-box" line: where the box of its
// last frame is, and how many frames it showed.
func finalBox(log string) (image.Rectangle, int, error) {
	m := finalBoxRE.FindStringSubmatch(log)
	if m == nil {
		return image.Rectangle{}, 0, fmt.Errorf("no \"final-box\" line: the client did not finish its frames")
	}
	n := make([]int, 5)
	for i := range n {
		n[i], _ = strconv.Atoi(m[i+1])
	}
	return image.Rect(n[0], n[1], n[0]+n[2], n[1]+n[3]), n[4], nil
}

// boxImage is the moving-box frame with the box at r.
func boxImage(w, h int, r image.Rectangle) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(boxOffClr), image.Point{}, draw.Src)
	draw.Draw(img, r, image.NewUniform(boxColor), image.Point{}, draw.Src)
	return img
}

// enlarge returns img with every pixel an n×n block: what an output at
// --scale n shows of a client that draws at the logical size.
func enlarge(img image.Image, n int) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx()*n, b.Dy()*n))
	for y := 0; y < b.Dy()*n; y++ {
		for x := 0; x < b.Dx()*n; x++ {
			out.Set(x, y, img.At(b.Min.X+x/n, b.Min.Y+y/n))
		}
	}
	return out
}

// turnCounterClockwise returns img turned 90° counter-clockwise: what
// vitrine --rotate 90 puts in the framebuffer (shared/DESIGN.md's
// transform convention, the same one the session rows use).
func turnCounterClockwise(img image.Image) *image.RGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := image.NewRGBA(image.Rect(0, 0, h, w))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			// The source's top row becomes the left column, read
			// bottom to top.
			out.Set(y, w-1-x, img.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	return out
}

// turnHalf returns img turned 180°.
func turnHalf(img image.Image) *image.RGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			out.Set(w-1-x, h-1-y, img.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	return out
}

// copyPerFrame applies the damage rule to a moving-box run: of the
// bytes vitrine copied, fullCopies whole screens are the initial clear
// and the first frames (each buffer of the output is filled whole once);
// the rest, spread over the frames - 1 box moves, must stay within
// maxDamageRatio boxes a frame. It returns the bytes a move cost and
// that in boxes.
func copyPerFrame(st vitrineStats, screen image.Point, fullCopies, frames int) (float64, float64, error) {
	full := int64(fullCopies) * int64(screen.X) * int64(screen.Y) * 4
	rest := st.CopiedBytes - full
	if frames < 2 {
		return 0, 0, fmt.Errorf("the client showed %d frames; the damage rule needs at least 2", frames)
	}
	if rest < 0 {
		return 0, 0, fmt.Errorf("copied_bytes=%d is less than the %d full-screen copies expected (%d bytes): the row's expectation is out of date",
			st.CopiedBytes, fullCopies, full)
	}
	per := float64(rest) / float64(frames-1)
	ratio := per / boxBytes
	if ratio > maxDamageRatio {
		return per, ratio, fmt.Errorf("copied_bytes=%d: after %d full-screen copies of %dx%d, %.0f bytes per frame = %.2f x the %d-byte box, want <= %.1f (a frame costs more than its damage)",
			st.CopiedBytes, fullCopies, screen.X, screen.Y, per, ratio, boxBytes, maxDamageRatio)
	}
	return per, ratio, nil
}

// wholeBoxFrame wants img to be one frame of the moving-box animation:
// black with exactly one box at a position on the box's path. A
// screendump taken while the client runs shows a torn frame (two boxes,
// part of one) if a buffer was written while it was still on screen.
func wholeBoxFrame(img image.Image) error {
	b := img.Bounds()
	var box image.Rectangle
	n, other := 0, 0
	var otherAt image.Point
	var otherClr color.RGBA
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := rgbaOf(img.At(x, y))
			switch c {
			case boxColor:
				if n == 0 {
					box = image.Rect(x, y, x+1, y+1)
				} else {
					box = box.Union(image.Rect(x, y, x+1, y+1))
				}
				n++
			case boxOffClr:
			default:
				if other == 0 {
					otherAt, otherClr = image.Pt(x, y), c
				}
				other++
			}
		}
	}
	switch {
	case other > 0:
		return fmt.Errorf("%d pixels are neither black nor the box's #ff00ff; first at %v is #%02x%02x%02x", other, otherAt, otherClr.R, otherClr.G, otherClr.B)
	case n == 0:
		return fmt.Errorf("no box on the screen")
	case box.Dx() != boxEdge || box.Dy() != boxEdge || n != boxEdge*boxEdge:
		return fmt.Errorf("torn frame: %d box pixels within %v, want one %dx%d box", n, box, boxEdge, boxEdge)
	case (box.Min.X-b.Min.X)%boxStep != 0 || (box.Min.Y-b.Min.Y)%boxEdge != 0:
		return fmt.Errorf("box at %v is not on the animation's path (x a multiple of %d, y of %d)", box.Min, boxStep, boxEdge)
	}
	return nil
}

func rgbaOf(c color.Color) color.RGBA {
	if v, ok := c.(color.RGBA); ok {
		return v
	}
	r, g, b, _ := c.RGBA()
	return color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 0xff}
}

// consoleRestored wants the screendump after vitrine exited to equal
// the one taken before it started, but for at most a text cell or two
// where fbcon draws its cursor.
func consoleRestored(before, after image.Image) error {
	d := screencheck.CompareImages(after, before, 0)
	if d.Mask == nil {
		return fmt.Errorf("console after vitrine: %w", d.Err())
	}
	if d.Bad == 0 {
		return nil
	}
	const cellW, cellH = 16, 32 // two cells of the 8x16 console font, either way
	if d.Bounds.Dx() > cellW || d.Bounds.Dy() > cellH {
		return fmt.Errorf("the console did not come back: %w", d.Err())
	}
	return nil
}

// consoleHasText wants the first text row (16 pixels of the 8x16
// font) to hold the glyphs of the line the row printed: a console that
// was blank before vitrine would make "restored" prove nothing.
func consoleHasText(img image.Image) error {
	b := img.Bounds()
	lit := 0
	for y := b.Min.Y; y < b.Min.Y+16 && y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if c := rgbaOf(img.At(x, y)); c.R > 0x80 || c.G > 0x80 || c.B > 0x80 {
				lit++
			}
		}
	}
	if lit < 100 {
		return fmt.Errorf("the console showed no text before vitrine started (%d lit pixels in the first text row)", lit)
	}
	return nil
}

// labImportMatrix is shared/LAB.md's dma-buf import matrix (Linux 6.12):
// a dumb buffer exported from the first driver, imported into the
// second, condensed as kms.ImportResult.Outcome does. Bochs cannot
// export (ENOSYS) but imports its own buffers; vgem imports but
// ADDFB2 on it gives EOPNOTSUPP.
var labImportMatrix = map[[2]string]string{
	{"virtio_gpu", "virtio_gpu"}: "ok",
	{"virtio_gpu", "bochs"}:      "EINVAL",
	{"virtio_gpu", "cirrus"}:     "ok",
	{"vgem", "virtio_gpu"}:       "ENODEV",
	{"vgem", "bochs"}:            "EINVAL",
	{"vgem", "cirrus"}:           "ok",
	{"vgem", "vgem"}:             "EOPNOTSUPP",
	{"cirrus", "virtio_gpu"}:     "ENODEV",
	{"cirrus", "bochs"}:          "EINVAL",
	{"cirrus", "cirrus"}:         "ok",
	{"bochs", "virtio_gpu"}:      "ENOSYS",
	{"bochs", "bochs"}:           "ok",
	{"bochs", "cirrus"}:          "ENOSYS",
}

// judgeProbe reads `vitrine probe --json` (the output after a "json:"
// line) and wants LAB.md's import matrix and its ADDFB2 modifier caps:
// bochs and cirrus take modifiers, virtio_gpu does not.
func judgeProbe(out string) error {
	_, js, ok := strings.Cut(out, "json:\n")
	if !ok {
		return fmt.Errorf("no probe report in the output")
	}
	var rep kms.ProbeReport
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		return fmt.Errorf("vitrine probe --json: %w", err)
	}
	var problems []string
	problems = append(problems, rep.CompareImportMatrix(labImportMatrix)...)
	mods := map[string]string{}
	for _, d := range rep.Devices {
		if d.NodeName == "primary" {
			mods[strings.TrimSuffix(d.Driver, "-drm")] = strconv.FormatUint(d.Caps["ADDFB2_MODIFIERS"], 10)
		}
	}
	for drv, want := range map[string]string{"bochs": "1", "cirrus": "1", "virtio_gpu": "0"} {
		if mods[drv] != want {
			problems = append(problems, fmt.Sprintf("%s: ADDFB2_MODIFIERS=%q, want %s", drv, mods[drv], want))
		}
	}
	// System-memory allocators behave like vgem's buffers: cirrus takes
	// them, bochs and virtio-gpu do not (as the dmabuf-* rows see).
	allocs := map[[2]string]string{}
	for _, r := range rep.Allocators {
		allocs[[2]string{r.From, strings.TrimSuffix(r.ToDriver, "-drm")}] = r.Outcome()
	}
	for _, from := range []string{"udmabuf", "dma-heap:system"} {
		for drv, want := range map[string]string{"cirrus": "ok", "bochs": "EINVAL", "virtio_gpu": "ENODEV"} {
			if got := allocs[[2]string{from, drv}]; got != want {
				problems = append(problems, fmt.Sprintf("%s -> %s: %q, want %s", from, drv, got, want))
			}
		}
	}
	problems = append(problems, judgePlaneTests(&rep)...)
	if len(problems) > 0 {
		return fmt.Errorf("vitrine probe differs from LAB.md:\n%s", indent(strings.Join(problems, "\n")))
	}
	return nil
}

// judgePlaneTests wants the plane matrix to say what the dmabuf rows
// see: an XRGB8888 buffer from vgem or udmabuf on the primary plane
// passes TEST_ONLY on cirrus (scanned out there) and fails to import on
// bochs (EINVAL) and virtio-gpu (ENODEV); each display takes its own
// dumb buffers on its primary plane.
func judgePlaneTests(rep *kms.ProbeReport) []string {
	driver := map[string]string{}
	for _, d := range rep.Devices {
		driver[d.Path] = strings.TrimSuffix(d.Driver, "-drm")
	}
	got := map[[3]string]string{} // display driver, allocator kind, format
	for _, t := range rep.PlaneTests {
		if t.PlaneType != "primary" {
			continue
		}
		alloc := t.Allocator
		if from, ok := strings.CutPrefix(alloc, "dumb:"); ok {
			alloc = "dumb:" + driver[from]
		}
		got[[3]string{strings.TrimSuffix(t.Driver, "-drm"), alloc, t.Format}] = t.Outcome()
	}
	var problems []string
	for key, want := range map[[3]string]string{
		{"cirrus", "dumb:vgem", "XR24"}:           "ok",
		{"cirrus", "udmabuf", "XR24"}:             "ok",
		{"cirrus", "dumb:cirrus", "XR24"}:         "ok",
		{"bochs", "dumb:vgem", "XR24"}:            "EINVAL",
		{"bochs", "dumb:bochs", "XR24"}:           "ok",
		{"virtio_gpu", "dumb:vgem", "XR24"}:       "ENODEV",
		{"virtio_gpu", "dumb:virtio_gpu", "XR24"}: "ok",
	} {
		if g := got[key]; g != want {
			problems = append(problems, fmt.Sprintf("plane test %s primary %s from %s: %q, want %s", key[0], key[2], key[1], g, want))
		}
	}
	return problems
}
