// Package screencheck judges screendumps: it compares an image with an
// expected image pixel by pixel, or with expected colours over regions,
// within a tolerance, and explains any difference in a few lines that a
// scenario can print.
package screencheck

import (
	"fmt"
	"image"
	"image/color"
	"strings"
)

// Frac is a rectangle in fractions of the image size (0..1), for
// expectations that must hold whatever mode the guest picked.
type Frac struct{ X0, Y0, X1, Y1 float64 }

// In returns the pixel rectangle that f covers in bounds.
func (f Frac) In(bounds image.Rectangle) image.Rectangle {
	w, h := float64(bounds.Dx()), float64(bounds.Dy())
	return image.Rect(
		bounds.Min.X+int(f.X0*w), bounds.Min.Y+int(f.Y0*h),
		bounds.Min.X+int(f.X1*w), bounds.Min.Y+int(f.Y1*h),
	).Intersect(bounds)
}

// Region expects one colour over part of the image.
type Region struct {
	Name string
	// Rect is in pixels; when it is empty, Frac is used instead.
	Rect image.Rectangle
	Frac Frac
	Want color.RGBA
	// Tolerance is the largest per-channel difference still counted as a
	// match.
	Tolerance uint8
	// MaxBad is the fraction of the region's pixels allowed to differ
	// (0: none), so a blinking cursor or one glyph need not fail a check.
	MaxBad float64
}

// Report is the outcome of a comparison. A nil Err means it matched.
type Report struct {
	Lines []string // one per failed region or difference, human-readable
}

// Err returns nil when everything matched, else an error listing the
// differences.
func (r *Report) Err() error {
	if len(r.Lines) == 0 {
		return nil
	}
	return fmt.Errorf("screendump differs from the expectation:\n  %s", strings.Join(r.Lines, "\n  "))
}

func (r *Report) addf(format string, args ...any) {
	r.Lines = append(r.Lines, fmt.Sprintf(format, args...))
}

// CheckRegions compares img with each region's expected colour.
func CheckRegions(img image.Image, regions []Region) *Report {
	rep := &Report{}
	b := img.Bounds()
	for _, reg := range regions {
		rect := reg.Rect
		if rect.Empty() {
			rect = reg.Frac.In(b)
		}
		rect = rect.Intersect(b)
		if rect.Empty() {
			rep.addf("%s: region lies outside the %dx%d image", reg.Name, b.Dx(), b.Dy())
			continue
		}
		bad := 0
		var first image.Point
		var firstGot color.RGBA
		var sum [3]int
		for y := rect.Min.Y; y < rect.Max.Y; y++ {
			for x := rect.Min.X; x < rect.Max.X; x++ {
				got := rgba(img.At(x, y))
				sum[0] += int(got.R)
				sum[1] += int(got.G)
				sum[2] += int(got.B)
				if !near(got, reg.Want, reg.Tolerance) {
					if bad == 0 {
						first, firstGot = image.Pt(x, y), got
					}
					bad++
				}
			}
		}
		total := rect.Dx() * rect.Dy()
		if float64(bad) > reg.MaxBad*float64(total) {
			rep.addf("%s %v: %d of %d pixels differ from %s (tolerance %d); mean %s; first at %v is %s",
				reg.Name, rect, bad, total, hex(reg.Want), reg.Tolerance,
				hex(color.RGBA{uint8(sum[0] / total), uint8(sum[1] / total), uint8(sum[2] / total), 0xff}),
				first, hex(firstGot))
		}
	}
	return rep
}

// Diff is the result of CompareImages.
type Diff struct {
	Report
	Bad    int             // pixels that differ beyond the tolerance
	Bounds image.Rectangle // smallest rectangle holding every bad pixel
	// Mask is white where got and want differ and black elsewhere; save
	// it next to the screendump to see what went wrong.
	Mask *image.Gray
}

// CompareImages compares got with want pixel by pixel. Alpha is ignored:
// screendumps are opaque.
func CompareImages(got, want image.Image, tolerance uint8) *Diff {
	d := &Diff{}
	gb, wb := got.Bounds(), want.Bounds()
	if gb.Size() != wb.Size() {
		d.addf("size %dx%d, want %dx%d", gb.Dx(), gb.Dy(), wb.Dx(), wb.Dy())
		return d
	}
	d.Mask = image.NewGray(image.Rect(0, 0, gb.Dx(), gb.Dy()))
	var first image.Point
	var firstGot, firstWant color.RGBA
	for y := 0; y < gb.Dy(); y++ {
		for x := 0; x < gb.Dx(); x++ {
			g := rgba(got.At(gb.Min.X+x, gb.Min.Y+y))
			w := rgba(want.At(wb.Min.X+x, wb.Min.Y+y))
			if near(g, w, tolerance) {
				continue
			}
			if d.Bad == 0 {
				first, firstGot, firstWant = image.Pt(x, y), g, w
				d.Bounds = image.Rect(x, y, x+1, y+1)
			} else {
				d.Bounds = d.Bounds.Union(image.Rect(x, y, x+1, y+1))
			}
			d.Bad++
			d.Mask.Pix[y*d.Mask.Stride+x] = 0xff
		}
	}
	if d.Bad > 0 {
		d.addf("%d of %d pixels differ (tolerance %d) within %v; first at %v is %s, want %s",
			d.Bad, gb.Dx()*gb.Dy(), tolerance, d.Bounds, first, hex(firstGot), hex(firstWant))
	}
	return d
}

func rgba(c color.Color) color.RGBA {
	if v, ok := c.(color.RGBA); ok {
		return v
	}
	r, g, b, _ := c.RGBA()
	return color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 0xff}
}

func near(a, b color.RGBA, tol uint8) bool {
	return absDiff(a.R, b.R) <= tol && absDiff(a.G, b.G) <= tol && absDiff(a.B, b.B) <= tol
}

func absDiff(a, b uint8) uint8 {
	if a > b {
		return a - b
	}
	return b - a
}

func hex(c color.RGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }
