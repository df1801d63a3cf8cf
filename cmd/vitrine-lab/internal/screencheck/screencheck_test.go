package screencheck

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"path/filepath"
	"strings"
	"testing"
)

var (
	red   = color.RGBA{0xaa, 0, 0, 0xff}
	green = color.RGBA{0, 0xaa, 0, 0xff}
)

// halves is a 64x32 image: left half red, right half green, with one
// stray pixel in the red half.
func halves() *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, 64, 32))
	draw.Draw(img, image.Rect(0, 0, 32, 32), image.NewUniform(red), image.Point{}, draw.Src)
	draw.Draw(img, image.Rect(32, 0, 64, 32), image.NewUniform(green), image.Point{}, draw.Src)
	img.Set(5, 5, color.RGBA{0xff, 0xff, 0xff, 0xff})
	return img
}

func TestCheckRegionsMatches(t *testing.T) {
	rep := CheckRegions(halves(), []Region{
		{Name: "left", Frac: Frac{0, 0, 0.5, 1}, Want: red, MaxBad: 0.01},
		{Name: "right", Rect: image.Rect(32, 0, 64, 32), Want: color.RGBA{0, 0xa8, 2, 0xff}, Tolerance: 3},
	})
	if err := rep.Err(); err != nil {
		t.Fatalf("expected a match: %v", err)
	}
}

// TestCheckRegionsFailsOnWrongExpectation is the proof that a scenario
// comparing a screendump can fail: swapped colours must be reported.
func TestCheckRegionsFailsOnWrongExpectation(t *testing.T) {
	rep := CheckRegions(halves(), []Region{
		{Name: "left", Frac: Frac{0, 0, 0.5, 1}, Want: green},
		{Name: "right", Frac: Frac{0.5, 0, 1, 1}, Want: green},
	})
	err := rep.Err()
	if err == nil {
		t.Fatal("a wrong expectation matched")
	}
	if len(rep.Lines) != 1 || !strings.HasPrefix(rep.Lines[0], "left ") {
		t.Errorf("report should name only the left region: %q", rep.Lines)
	}
	if !strings.Contains(err.Error(), "1024 of 1024 pixels differ from #00aa00") {
		t.Errorf("report lacks the counts: %v", err)
	}
}

func TestCheckRegionsStrayPixel(t *testing.T) {
	rep := CheckRegions(halves(), []Region{{Name: "left", Frac: Frac{0, 0, 0.5, 1}, Want: red}})
	if rep.Err() == nil {
		t.Fatal("one stray pixel with MaxBad 0 must fail")
	}
}

func TestCheckRegionsOutside(t *testing.T) {
	rep := CheckRegions(halves(), []Region{{Name: "far", Rect: image.Rect(100, 100, 110, 110), Want: red}})
	if rep.Err() == nil {
		t.Fatal("a region outside the image must fail")
	}
}

func TestCompareImages(t *testing.T) {
	a, b := halves(), halves()
	if err := CompareImages(a, b, 0).Err(); err != nil {
		t.Fatalf("identical images differ: %v", err)
	}
	b.Set(40, 7, color.RGBA{0, 0xb0, 0, 0xff})
	if err := CompareImages(a, b, 0x10).Err(); err != nil {
		t.Fatalf("difference within tolerance reported: %v", err)
	}
	b.Set(50, 20, red)
	d := CompareImages(a, b, 0x10)
	if d.Err() == nil || d.Bad != 1 || d.Bounds != image.Rect(50, 20, 51, 21) {
		t.Fatalf("bad=%d bounds=%v err=%v", d.Bad, d.Bounds, d.Err())
	}
	if d.Mask.GrayAt(50, 20).Y != 0xff || d.Mask.GrayAt(0, 0).Y != 0 {
		t.Error("mask does not mark exactly the differing pixel")
	}
	if CompareImages(a, image.NewRGBA(image.Rect(0, 0, 10, 10)), 0).Err() == nil {
		t.Error("size mismatch not reported")
	}
}

func TestPPMToPNG(t *testing.T) {
	src := halves()
	var ppm bytes.Buffer
	fmt.Fprintf(&ppm, "P6\n# made by a test\n%d %d\n255\n", 64, 32)
	for y := 0; y < 32; y++ {
		for x := 0; x < 64; x++ {
			c := src.RGBAAt(x, y)
			ppm.Write([]byte{c.R, c.G, c.B})
		}
	}
	got, err := ReadPPM(bytes.NewReader(ppm.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if err := CompareImages(got, src, 0).Err(); err != nil {
		t.Fatalf("ppm decode: %v", err)
	}
	path := filepath.Join(t.TempDir(), "x.png")
	if err := WritePNG(path, got); err != nil {
		t.Fatal(err)
	}
	back, err := ReadPNG(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := CompareImages(back, src, 0).Err(); err != nil {
		t.Fatalf("png round trip: %v", err)
	}
	if _, err := ReadPPM(strings.NewReader("P6\n2 2\n255\nabc")); err == nil {
		t.Error("truncated ppm accepted")
	}
	if _, err := ReadPPM(strings.NewReader("P3\n2 2\n255\n")); err == nil {
		t.Error("ascii ppm accepted")
	}
}
