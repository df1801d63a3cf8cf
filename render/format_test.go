package render

import (
	"bytes"
	"image"
	"testing"
)

func TestFormatCodes(t *testing.T) {
	fourcc := func(s string) Format {
		return Format(s[0]) | Format(s[1])<<8 | Format(s[2])<<16 | Format(s[3])<<24
	}
	tests := []struct {
		f        Format
		code     string
		hex      uint32
		name     string
		bpp      int
		hasAlpha bool
		wlShm    uint32
	}{
		{XRGB8888, "XR24", 0x34325258, "XRGB8888", 4, false, 1},
		{ARGB8888, "AR24", 0x34325241, "ARGB8888", 4, true, 0},
		{XBGR8888, "XB24", 0x34324258, "XBGR8888", 4, false, 0x34324258},
		{ABGR8888, "AB24", 0x34324241, "ABGR8888", 4, true, 0x34324241},
		{RGB565, "RG16", 0x36314752, "RGB565", 2, false, 0x36314752},
	}
	for _, tt := range tests {
		if tt.f != fourcc(tt.code) || uint32(tt.f) != tt.hex {
			t.Errorf("%s = %#x, want fourcc %q = %#x", tt.name, uint32(tt.f), tt.code, tt.hex)
		}
		if got := tt.f.String(); got != tt.name {
			t.Errorf("String() = %q, want %q", got, tt.name)
		}
		if got := tt.f.BytesPerPixel(); got != tt.bpp {
			t.Errorf("%s.BytesPerPixel() = %d, want %d", tt.name, got, tt.bpp)
		}
		if got := tt.f.HasAlpha(); got != tt.hasAlpha {
			t.Errorf("%s.HasAlpha() = %v, want %v", tt.name, got, tt.hasAlpha)
		}
		if got := tt.f.WlShm(); got != tt.wlShm {
			t.Errorf("%s.WlShm() = %#x, want %#x", tt.name, got, tt.wlShm)
		}
		if got, ok := FormatFromWlShm(tt.wlShm); got != tt.f || !ok {
			t.Errorf("FormatFromWlShm(%#x) = %v, %v; want %v, true", tt.wlShm, got, ok, tt.f)
		}
	}
	unknown := fourcc("P010")
	if got := unknown.String(); got != `Format("P010")` {
		t.Errorf("unknown printable String() = %q", got)
	}
	if got := Format(0x01020304).String(); got != "Format(0x01020304)" {
		t.Errorf("unknown binary String() = %q", got)
	}
	if unknown.BytesPerPixel() != 0 || unknown.HasAlpha() {
		t.Errorf("NV12 claims to be supported")
	}
	if _, ok := FormatFromWlShm(uint32(unknown)); ok {
		t.Errorf("FormatFromWlShm(NV12) reports support")
	}
}

// One known colour, by hand, in every format's memory layout.
func TestLoadFormats(t *testing.T) {
	tests := []struct {
		f    Format
		mem  []byte
		argb uint32
	}{
		{XRGB8888, []byte{0x33, 0x22, 0x11, 0x00}, 0xff112233},
		{XRGB8888, []byte{0x33, 0x22, 0x11, 0x7a}, 0xff112233},
		{ARGB8888, []byte{0x33, 0x22, 0x11, 0x80}, 0x80112233},
		{XBGR8888, []byte{0x11, 0x22, 0x33, 0x00}, 0xff112233},
		{ABGR8888, []byte{0x11, 0x22, 0x33, 0x80}, 0x80112233},
		{RGB565, []byte{0x00, 0xf8}, 0xffff0000},
		{RGB565, []byte{0xe0, 0x07}, 0xff00ff00},
		{RGB565, []byte{0x1f, 0x00}, 0xff0000ff},
		{RGB565, []byte{0xff, 0xff}, 0xffffffff},
		{RGB565, []byte{0x08, 0x84}, 0xff848242}, // r=16 g=32 b=8
	}
	for _, tt := range tests {
		m := &Image{Pix: tt.mem, Stride: len(tt.mem), Width: 1, Height: 1, Format: tt.f}
		if got := m.PixelARGB(0, 0); got != tt.argb {
			t.Errorf("%v % x: PixelARGB = %#08x, want %#08x", tt.f, tt.mem, got, tt.argb)
		}
		if got := refLoad(m, 0, 0).argb(); got != tt.argb {
			t.Errorf("%v % x: reference load = %#08x, want %#08x (test is wrong)", tt.f, tt.mem, got, tt.argb)
		}
	}
}

// Every RGB565 value survives expand and pack, and the expansion matches the
// bit-by-bit reference.
func TestRGB565RoundTrip(t *testing.T) {
	for v := 0; v < 1<<16; v++ {
		m := &Image{Pix: []byte{byte(v), byte(v >> 8)}, Stride: 2, Width: 1, Height: 1, Format: RGB565}
		argb := m.PixelARGB(0, 0)
		if want := refLoad(m, 0, 0).argb(); argb != want {
			t.Fatalf("expand %#04x = %#08x, want %#08x", v, argb, want)
		}
		if got := pack565(argb); int(got) != v {
			t.Fatalf("pack(expand(%#04x)) = %#04x", v, got)
		}
	}
}

// CopyOut writes one known pixel into every destination format.
func TestCopyOutFormats(t *testing.T) {
	src := NewImage(1, 1, XRGB8888)
	copy(src.Pix, []byte{0x33, 0x22, 0x11, 0x00})
	tests := []struct {
		f   Format
		mem []byte
	}{
		{XRGB8888, []byte{0x33, 0x22, 0x11, 0x00}},
		{ARGB8888, []byte{0x33, 0x22, 0x11, 0xff}},
		{XBGR8888, []byte{0x11, 0x22, 0x33, 0xff}},
		{ABGR8888, []byte{0x11, 0x22, 0x33, 0xff}},
		{RGB565, []byte{0x06, 0x11}}, // r=0x11>>3=2 g=0x22>>2=8 b=0x33>>3=6
	}
	for _, tt := range tests {
		dst := NewImage(1, 1, tt.f)
		n := CopyOut(dst, src, []image.Rectangle{src.Bounds()}, Normal)
		if !bytes.Equal(dst.Pix, tt.mem) || n != len(tt.mem) {
			t.Errorf("CopyOut to %v = % x (%d bytes), want % x", tt.f, dst.Pix, n, tt.mem)
		}
	}
}

func TestSetPixelARGB(t *testing.T) {
	for _, f := range []Format{XRGB8888, ARGB8888, XBGR8888, ABGR8888} {
		m := NewImage(2, 2, f)
		m.SetPixelARGB(1, 1, 0x80402010)
		want := uint32(0x80402010)
		if !f.HasAlpha() {
			want |= 0xff000000
		}
		if got := m.PixelARGB(1, 1); got != want {
			t.Errorf("%v: set/get = %#08x, want %#08x", f, got, want)
		}
		m.SetPixelARGB(2, 0, 0xffffffff) // outside: ignored
		if got := m.PixelARGB(0, 0); got != 0 && got != 0xff000000 {
			t.Errorf("%v: write outside the image landed at (0,0): %#08x", f, got)
		}
	}
}

func TestValidate(t *testing.T) {
	good := NewImage(4, 3, XRGB8888)
	if err := good.Validate(); err != nil {
		t.Fatalf("NewImage: %v", err)
	}
	tests := []struct {
		name string
		m    *Image
	}{
		{"nil", nil},
		{"unknown format", &Image{Pix: make([]byte, 48), Stride: 16, Width: 4, Height: 3, Format: 0x3231564e}},
		{"short stride", &Image{Pix: make([]byte, 48), Stride: 12, Width: 4, Height: 3, Format: XRGB8888}},
		{"short pix", &Image{Pix: make([]byte, 47), Stride: 16, Width: 4, Height: 3, Format: XRGB8888}},
		{"zero size", &Image{Pix: make([]byte, 48), Stride: 16, Width: 0, Height: 3, Format: XRGB8888}},
		{"huge", &Image{Pix: make([]byte, 48), Stride: 16, Width: 4, Height: 1 << 20, Format: XRGB8888}},
	}
	for _, tt := range tests {
		if err := tt.m.Validate(); err == nil {
			t.Errorf("%s: Validate() = nil", tt.name)
		}
	}
	// The last row needs no padding after it.
	tight := &Image{Pix: make([]byte, 2*20+16), Stride: 20, Width: 4, Height: 3, Format: XRGB8888}
	if err := tight.Validate(); err != nil {
		t.Errorf("padded stride without trailing padding: %v", err)
	}
}
