package lab

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/vitrine-wm/vitrine/cmd/vitrine-lab/internal/screencheck"
)

// quadrantColors is shm-client's quadrants pattern (examples/internal/
// pattern.Quadrants): top-left red, top-right green, bottom-left blue,
// bottom-right white. The lab cannot import the examples' internal
// package, so the four colours are restated here.
var quadrantColors = [4]color.RGBA{
	{0xff, 0x00, 0x00, 0xff},
	{0x00, 0xff, 0x00, 0xff},
	{0x00, 0x00, 0xff, 0xff},
	{0xff, 0xff, 0xff, 0xff},
}

// quadrantsImage is a w×h image of four colours (top-left, top-right,
// bottom-left, bottom-right) split at w/2, h/2 as pattern.Quadrants does.
func quadrantsImage(w, h int, c [4]color.RGBA) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	mx, my := w/2, h/2
	rects := [4]image.Rectangle{
		image.Rect(0, 0, mx, my), image.Rect(mx, 0, w, my),
		image.Rect(0, my, mx, h), image.Rect(mx, my, w, h),
	}
	for i, r := range rects {
		draw.Draw(img, r, image.NewUniform(c[i]), image.Point{}, draw.Src)
	}
	return img
}

// screendumpPath finds the screendump the guest saved as name.
func screendumpPath(res *Result, name string) (string, error) {
	for _, p := range res.Screendumps {
		if strings.TrimSuffix(filepath.Base(p), ".png") == name {
			return p, nil
		}
	}
	return "", fmt.Errorf("no screendump %q (the guest saved %d others)", name, len(res.Screendumps))
}

// compareScreendump wants screendump name to equal want exactly; on a
// difference it saves the difference mask as NAME-diff.png beside it.
func compareScreendump(res *Result, name string, want image.Image) error {
	return compareScreendumpWithin(res, name, want, 0)
}

// compareScreendumpWithin is compareScreendump allowing each channel to
// differ by tolerance.
func compareScreendumpWithin(res *Result, name string, want image.Image, tolerance uint8) error {
	path, err := screendumpPath(res, name)
	if err != nil {
		return err
	}
	got, err := screencheck.ReadPNG(path)
	if err != nil {
		return fmt.Errorf("screendump %s: %w", name, err)
	}
	d := screencheck.CompareImages(got, want, tolerance)
	if err := d.Err(); err != nil {
		if d.Mask != nil {
			screencheck.WritePNG(strings.TrimSuffix(path, ".png")+"-diff.png", d.Mask)
		}
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// differsFromScreendump wants at least half of screendump name to
// differ from img: the display really showed something else.
func differsFromScreendump(res *Result, name string, img image.Image) error {
	path, err := screendumpPath(res, name)
	if err != nil {
		return err
	}
	got, err := screencheck.ReadPNG(path)
	if err != nil {
		return fmt.Errorf("screendump %s: %w", name, err)
	}
	d := screencheck.CompareImages(got, img, 8)
	b := img.Bounds()
	if d.Mask != nil && d.Bad*2 < b.Dx()*b.Dy() {
		return fmt.Errorf("%s: only %d of %d pixels differ from vitrine's frame: the display kept showing it", path, d.Bad, b.Dx()*b.Dy())
	}
	return nil
}

// firstFrameSize reads the client's "first-frame WxH" line (after a
// "TAG| " prefix when tag is not empty).
func firstFrameSize(out, tag string) (image.Point, error) {
	pre := ""
	if tag != "" {
		pre = regexp.QuoteMeta(tag + "| ")
	}
	m := regexp.MustCompile(`(?m)^` + pre + `first-frame (\d+)x(\d+)$`).FindStringSubmatch(out)
	if m == nil {
		return image.Point{}, fmt.Errorf("no %q line: the client never showed a frame", strings.TrimSpace(tag+" first-frame WxH"))
	}
	w, _ := strconv.Atoi(m[1])
	h, _ := strconv.Atoi(m[2])
	return image.Pt(w, h), nil
}
