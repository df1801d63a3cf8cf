package render

import (
	"bytes"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"testing"
)

var allFormats = []Format{XRGB8888, ARGB8888, XBGR8888, ABGR8888, RGB565}

// randomImage fills an image with premultiplied pixels, a third of them
// transparent, a third opaque, the rest in between, with padded rows.
func randomImage(rng *rand.Rand, w, h int, f Format) *Image {
	bpp := f.BytesPerPixel()
	stride := w*bpp + rng.IntN(3)*bpp
	m := &Image{Pix: make([]byte, stride*h), Stride: stride, Width: w, Height: h, Format: f}
	for i := range m.Pix {
		m.Pix[i] = byte(rng.Uint32()) // padding too: it must never be read into the picture
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.SetPixelARGB(x, y, randomPremultiplied(rng))
		}
	}
	return m
}

func randomPremultiplied(rng *rand.Rand) uint32 {
	var a uint32
	switch rng.IntN(3) {
	case 0:
		return 0
	case 1:
		a = 0xff
	default:
		a = uint32(rng.IntN(256))
	}
	c := func() uint32 { return uint32(rng.IntN(int(a) + 1)) }
	return a<<24 | c()<<16 | c()<<8 | c()
}

func cloneImage(m *Image) *Image {
	c := *m
	c.Pix = bytes.Clone(m.Pix)
	return &c
}

// sameColours compares two shadow images pixel by pixel, ignoring the X byte
// of XRGB8888, and returns a description of the first difference.
func sameColours(a, b *Image) error {
	for y := 0; y < a.Height; y++ {
		for x := 0; x < a.Width; x++ {
			if pa, pb := refLoad(a, x, y), refLoad(b, x, y); pa != pb {
				return fmt.Errorf("pixel (%d,%d) = %#08x, want %#08x", x, y, pa.argb(), pb.argb())
			}
		}
	}
	return nil
}

// outsideUntouched reports a byte of m that differs from orig outside the
// rectangle r (in pixels).
func outsideUntouched(m, orig *Image, r image.Rectangle) error {
	bpp := m.Format.BytesPerPixel()
	for i := range m.Pix {
		if m.Pix[i] == orig.Pix[i] {
			continue
		}
		y, x := i/m.Stride, (i%m.Stride)/bpp
		if x >= m.Width || !(image.Point{x, y}).In(r) {
			return fmt.Errorf("byte %d (pixel %d,%d) changed from %#x to %#x outside %v", i, x, y, orig.Pix[i], m.Pix[i], r)
		}
	}
	return nil
}

func randomRect(rng *rand.Rand, w, h int) image.Rectangle {
	x0, y0 := rng.IntN(w+8)-4, rng.IntN(h+8)-4
	return image.Rect(x0, y0, x0+rng.IntN(w+4), y0+rng.IntN(h+4))
}

// Draw agrees pixel for pixel with the naive reference for every source
// format, transform, scale, opacity and clipping situation.
func TestDrawMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 3260; i++ {
		// Mostly tiny images, where edge cases are dense; some larger
		// than the 64-pixel strips and 256-pixel chunks of the general
		// path; some wide and short, past its 512-column strips.
		maxSrc, maxDst, maxDstH := 9, 14, 14
		if i >= 3000 {
			maxSrc, maxDst, maxDstH = 200, 300, 300
		}
		if i >= 3200 {
			maxSrc, maxDst, maxDstH = 700, 1400, 24
		}
		sf := allFormats[rng.IntN(len(allFormats))]
		df := []Format{XRGB8888, ARGB8888}[rng.IntN(2)]
		src := randomImage(rng, 1+rng.IntN(maxSrc), 1+rng.IntN(maxSrc), sf)
		dst := randomImage(rng, 1+rng.IntN(maxDst), 1+rng.IntN(maxDstH), df)
		l := Layer{
			Src:       src,
			SrcRect:   randomRect(rng, src.Width, src.Height),
			Transform: Transform(rng.IntN(8)),
			Opaque:    rng.IntN(3) == 0,
		}
		if rng.IntN(3) == 0 {
			l.SrcRect = src.Bounds() // the common case
		}
		tw, th := l.Transform.TransformSize(l.SrcRect.Dx(), l.SrcRect.Dy())
		if rng.IntN(2) == 0 {
			x0, y0 := rng.IntN(dst.Width+4)-2, rng.IntN(dst.Height+4)-2
			l.Dst = image.Rect(x0, y0, x0+tw, y0+th) // unscaled
		} else {
			l.Dst = randomRect(rng, dst.Width, dst.Height)
		}
		clip := randomRect(rng, dst.Width, dst.Height)
		if rng.IntN(3) == 0 {
			clip = dst.Bounds()
		}
		got, want := cloneImage(dst), cloneImage(dst)
		Draw(got, l, clip)
		refDraw(want, l, clip)
		desc := fmt.Sprintf("case %d: %v %dx%d -> %v %dx%d, src %v %v dst %v clip %v opaque %v",
			i, sf, src.Width, src.Height, df, dst.Width, dst.Height, l.SrcRect, l.Transform, l.Dst, clip, l.Opaque)
		if err := sameColours(got, want); err != nil {
			t.Fatalf("%s: %v", desc, err)
		}
		if err := outsideUntouched(got, dst, clip.Intersect(l.Dst)); err != nil {
			t.Fatalf("%s: %v", desc, err)
		}
	}
}

// The opaque fast path is a byte-exact copy, X byte included.
func TestDrawOpaqueIsCopy(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, sf := range []Format{XRGB8888, ARGB8888} {
		src := randomImage(rng, 40, 30, sf)
		dst := NewImage(50, 40, XRGB8888)
		Draw(dst, Layer{Src: src, SrcRect: src.Bounds(), Dst: src.Bounds().Add(image.Pt(5, 7)), Opaque: true}, dst.Bounds())
		for y := 0; y < 30; y++ {
			s := src.Pix[y*src.Stride : y*src.Stride+160]
			d := dst.Pix[(y+7)*dst.Stride+20 : (y+7)*dst.Stride+180]
			if !bytes.Equal(s, d) {
				t.Fatalf("%v: row %d not copied verbatim", sf, y)
			}
		}
	}
	// Into an ARGB8888 shadow an opaque layer leaves alpha 0xff.
	src := NewImage(2, 1, ARGB8888)
	copy(src.Pix, []byte{1, 2, 3, 0x40, 4, 5, 6, 0})
	dst := NewImage(2, 1, ARGB8888)
	Draw(dst, Layer{Src: src, SrcRect: src.Bounds(), Dst: dst.Bounds(), Opaque: true}, dst.Bounds())
	if want := []byte{1, 2, 3, 0xff, 4, 5, 6, 0xff}; !bytes.Equal(dst.Pix, want) {
		t.Errorf("opaque ARGB into ARGB shadow = % x, want % x", dst.Pix, want)
	}
}

func TestOverKnownValues(t *testing.T) {
	tests := []struct{ s, d, want uint32 }{
		{0x00000000, 0xff123456, 0xff123456}, // transparent: untouched
		{0xffabcdef, 0xff123456, 0xffabcdef}, // opaque: replaced
		{0x80800000, 0xff0000ff, 0xff80007f}, // half red over blue: b = 255*127/255 = 127
		{0x80404040, 0xffffffff, 0xffbfbfbf}, // 0x40 + 255*127/255 = 0x40+0x7f
		{0x01010101, 0x00000000, 0x01010101},
		{0x7f000000, 0xffffffff, 0xff808080}, // 255*128/255 = 128
		// a: 0x40+round(0x80*191/255 = 95.87), r: 0x10+round(47.94),
		// g: 0x20+round(23.97), b: 0x30+round(11.98)
		{0x40102030, 0x80402010, 0xa040383c},
	}
	for _, tt := range tests {
		got := over(tt.s, tt.d)
		want := refOver(rgbaOf(tt.s), rgbaOf(tt.d)).argb()
		if got != want {
			t.Errorf("over(%#08x, %#08x) = %#08x, reference %#08x", tt.s, tt.d, got, want)
		}
		if tt.want != want {
			t.Errorf("over(%#08x, %#08x): hand value %#08x, reference %#08x", tt.s, tt.d, tt.want, want)
		}
	}
}

func rgbaOf(v uint32) rgba {
	return rgba{uint8(v >> 24), uint8(v >> 16), uint8(v >> 8), uint8(v)}
}

// Every (source alpha, destination) pair, on every channel lane, with a
// source colour at the edges of the premultiplied range.
func TestOverExhaustive(t *testing.T) {
	for sa := 0; sa < 256; sa++ {
		for d := 0; d < 256; d++ {
			for _, sc := range []int{0, sa / 2, sa} {
				s := uint32(sa)<<24 | uint32(sc)<<16 | uint32(sc)<<8 | uint32(sc)
				dp := uint32(d)<<24 | uint32(d)<<16 | uint32(255-d)<<8 | uint32(d)
				got := over(s, dp)
				want := refOver(rgbaOf(s), rgbaOf(dp)).argb()
				if got != want {
					t.Fatalf("over(%#08x, %#08x) = %#08x, want %#08x", s, dp, got, want)
				}
			}
		}
	}
	// Not premultiplied (colour above alpha): saturates, no carry.
	if got := over(0x10ff80ff, 0xffffffff); got != 0xffffffff {
		t.Errorf("saturation: got %#08x", got)
	}
}

func TestScaleNearest(t *testing.T) {
	src := letterImage([]string{"AB", "CD"}, XRGB8888)
	dst := NewImage(4, 4, XRGB8888)
	Draw(dst, Layer{Src: src, SrcRect: src.Bounds(), Dst: dst.Bounds()}, dst.Bounds())
	want := []string{"AABB", "AABB", "CCDD", "CCDD"}
	if got := imageLetters(dst); !equalRows(got, want) {
		t.Errorf("2x upscale = %q, want %q", got, want)
	}
	big := letterImage([]string{"ABCDEF", "GHIJKL", "MNOPQR"}, XRGB8888)
	small := NewImage(3, 1, XRGB8888)
	Draw(small, Layer{Src: big, SrcRect: big.Bounds(), Dst: small.Bounds()}, small.Bounds())
	// Pixel centres: x = (2u+1)*6/6 = 1, 3, 5; y = 1*3/2 = 1.
	if got := imageLetters(small); !equalRows(got, []string{"HJL"}) {
		t.Errorf("downscale = %q, want HJL", got)
	}
	// A crop with a rotation and a scale at once: crop "BC/HI" (2x2 at
	// (1,0)), buffer transform 90 (surface is the crop turned clockwise),
	// drawn at 4x2.
	wide := NewImage(4, 2, XRGB8888)
	Draw(wide, Layer{Src: big, SrcRect: image.Rect(1, 0, 3, 2), Transform: Rotate90, Dst: wide.Bounds()}, wide.Bounds())
	// Turning "BC/HI" back clockwise gives "HB/IC".
	if got := imageLetters(wide); !equalRows(got, []string{"HHBB", "IICC"}) {
		t.Errorf("crop+rotate+scale = %q, want HHBB IICC", got)
	}
}

// A huge scale factor (a 4x4 buffer stretched over 2^24 pixels) must not
// overflow the sampling arithmetic, on 32-bit platforms either.
func TestDrawHugeScale(t *testing.T) {
	src := letterImage([]string{"ABCD", "EFGH", "IJKL", "MNOP"}, XRGB8888)
	dst := NewImage(3, 2, XRGB8888)
	const big = 1 << 24
	Draw(dst, Layer{Src: src, SrcRect: src.Bounds(), Dst: image.Rect(0, 0, big, big)}, dst.Bounds())
	if got := imageLetters(dst); !equalRows(got, []string{"AAA", "AAA"}) {
		t.Errorf("top-left corner of a huge upscale = %q", got)
	}
	Draw(dst, Layer{Src: src, SrcRect: src.Bounds(), Dst: image.Rect(3-big, 2-big, 3, 2)}, dst.Bounds())
	if got := imageLetters(dst); !equalRows(got, []string{"PPP", "PPP"}) {
		t.Errorf("bottom-right corner of a huge upscale = %q", got)
	}
	// A wider source: (2u+1)*128 passes 2^32 at the right edge.
	wide := NewImage(128, 1, XRGB8888)
	for x := 0; x < 128; x++ {
		wide.SetPixelARGB(x, 0, 0xff000000|uint32(x))
	}
	row := NewImage(3, 1, XRGB8888)
	Draw(row, Layer{Src: wide, SrcRect: wide.Bounds(), Dst: image.Rect(3-big, 0, 3, 1)}, row.Bounds())
	for x := 0; x < 3; x++ {
		if got := row.PixelARGB(x, 0); got != 0xff00007f {
			t.Errorf("right edge of a huge upscale, pixel %d = %#08x, want source pixel 127", x, got)
		}
	}
	// Half the source rect outside the buffer: the range computation
	// (sampleRange, 2*a*d = 2*128*2^24) must not overflow either. Pixels
	// 0 and 1 sample buffer column -1 and stay untouched, pixel 2 samples
	// column 0.
	row = letterImage([]string{"..."}, XRGB8888)
	Draw(row, Layer{Src: wide, SrcRect: image.Rect(-128, 0, 128, 1), Dst: image.Rect(2-big/2, 0, 2+big/2, 1)}, row.Bounds())
	if got := imageLetters(row); !equalRows(got, []string{"..\x00"}) {
		t.Errorf("huge upscale of a half-outside source = %q, want %q", got, "..\x00")
	}
}

func TestDrawClipsEverything(t *testing.T) {
	src := letterImage([]string{"ABCD", "EFGH", "IJKL"}, ARGB8888)
	base := letterImage([]string{"......", "......", "......", "......"}, XRGB8888)
	tests := []struct {
		name string
		l    Layer
		clip image.Rectangle
		want []string
	}{
		{"clip", Layer{SrcRect: src.Bounds(), Dst: image.Rect(1, 1, 5, 4)}, image.Rect(2, 0, 4, 3),
			[]string{"......", "..BC..", "..FG..", "......"}},
		{"dst off the top left", Layer{SrcRect: src.Bounds(), Dst: image.Rect(-2, -1, 2, 2)}, image.Rect(-10, -10, 10, 10),
			[]string{"GH....", "KL....", "......", "......"}},
		{"src rect beyond the buffer", Layer{SrcRect: image.Rect(2, 1, 6, 4), Dst: image.Rect(0, 0, 4, 3)}, image.Rect(0, 0, 6, 4),
			[]string{"GH....", "KL....", "......", "......"}},
		{"src rect before the buffer", Layer{SrcRect: image.Rect(-1, -1, 2, 1), Dst: image.Rect(0, 0, 3, 2)}, image.Rect(0, 0, 6, 4),
			[]string{"......", ".AB...", "......", "......"}},
		{"empty clip", Layer{SrcRect: src.Bounds(), Dst: image.Rect(0, 0, 4, 3)}, image.Rectangle{},
			[]string{"......", "......", "......", "......"}},
		{"empty src rect", Layer{SrcRect: image.Rect(1, 1, 1, 3), Dst: image.Rect(0, 0, 4, 3)}, image.Rect(0, 0, 6, 4),
			[]string{"......", "......", "......", "......"}},
		{"dst outside", Layer{SrcRect: src.Bounds(), Dst: image.Rect(7, 0, 11, 3)}, image.Rect(0, 0, 20, 20),
			[]string{"......", "......", "......", "......"}},
	}
	for _, tt := range tests {
		dst := cloneImage(base)
		tt.l.Src = src
		Draw(dst, tt.l, tt.clip)
		if got := imageLetters(dst); !equalRows(got, tt.want) {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestDrawRejectsBadInput(t *testing.T) {
	src := letterImage([]string{"AB", "CD"}, XRGB8888)
	dst := NewImage(4, 4, XRGB8888)
	orig := cloneImage(dst)
	short := &Image{Pix: make([]byte, 10), Stride: 8, Width: 2, Height: 2, Format: XRGB8888}
	layers := []Layer{
		{Src: nil, SrcRect: src.Bounds(), Dst: dst.Bounds()},
		{Src: short, SrcRect: short.Bounds(), Dst: dst.Bounds()},
		{Src: src, SrcRect: src.Bounds(), Dst: dst.Bounds(), Transform: 9},
		{Src: src, SrcRect: src.Bounds(), Dst: image.Rect(0, 0, 1<<30, 2)},
	}
	for i, l := range layers {
		Draw(dst, l, dst.Bounds())
		if !bytes.Equal(dst.Pix, orig.Pix) {
			t.Errorf("layer %d: bad input drew something", i)
		}
	}
	huge := image.Rect(math.MinInt, math.MinInt, math.MaxInt, math.MaxInt)
	hugeLayers := []Layer{
		{Src: src, SrcRect: huge, Dst: dst.Bounds()},
		{Src: src, SrcRect: src.Bounds(), Dst: huge},
		{Src: src, SrcRect: image.Rect(math.MaxInt-2, 0, math.MaxInt, 2), Dst: dst.Bounds()},
		{Src: src, SrcRect: src.Bounds(), Dst: image.Rect(math.MinInt, math.MinInt, math.MinInt+2, math.MinInt+2)},
	}
	for i, l := range hugeLayers {
		Draw(dst, l, huge)
		if !bytes.Equal(dst.Pix, orig.Pix) {
			t.Errorf("huge layer %d drew something", i)
		}
	}
	rgb565 := NewImage(4, 4, RGB565)
	Draw(rgb565, Layer{Src: src, SrcRect: src.Bounds(), Dst: rgb565.Bounds()}, rgb565.Bounds())
	Fill(rgb565, rgb565.Bounds(), 0xffffffff, rgb565.Bounds())
	if !bytes.Equal(rgb565.Pix, make([]byte, 32)) {
		t.Errorf("Draw/Fill into RGB565 destination wrote")
	}
	Draw(nil, layers[0], image.Rect(0, 0, 1, 1))
	Fill(nil, image.Rect(0, 0, 1, 1), 0xffffffff, image.Rect(0, 0, 1, 1))
}

func TestFill(t *testing.T) {
	for _, f := range []Format{XRGB8888, ARGB8888} {
		dst := NewImage(5, 4, f)
		Fill(dst, image.Rect(-3, 1, 3, 9), 0xff102030, image.Rect(1, 0, 10, 3))
		for y := 0; y < 4; y++ {
			for x := 0; x < 5; x++ {
				want := uint32(0)
				if x >= 1 && x < 3 && y >= 1 && y < 3 {
					want = 0xff102030
				} else if f == XRGB8888 {
					want = 0xff000000
				}
				if got := dst.PixelARGB(x, y); got != want {
					t.Fatalf("%v opaque fill: (%d,%d) = %#08x, want %#08x", f, x, y, got, want)
				}
			}
		}
		Fill(dst, dst.Bounds(), 0x80400000, dst.Bounds())
		for y := 0; y < 4; y++ {
			for x := 0; x < 5; x++ {
				under := uint32(0)
				if x >= 1 && x < 3 && y >= 1 && y < 3 {
					under = 0xff102030
				} else if f == XRGB8888 {
					under = 0xff000000
				}
				want := refOver(rgbaOf(0x80400000), rgbaOf(under)).argb()
				if got := dst.PixelARGB(x, y); got != want {
					t.Fatalf("%v blended fill: (%d,%d) = %#08x, want %#08x", f, x, y, got, want)
				}
			}
		}
	}
}
