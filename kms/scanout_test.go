package kms

import (
	"errors"
	"reflect"
	"testing"

	"github.com/vitrine-wm/vitrine/kms/dmabuf"
)

func TestScanoutFormatTable(t *testing.T) {
	const nv12 = 'N' | 'V'<<8 | '1'<<16 | '2'<<24
	const tiled = 0x0100000000000001 // an Intel X-tiled style vendor modifier
	in := []FormatModifiers{
		{Format: FormatXRGB8888, Modifiers: []uint64{ModifierLinear, tiled, ModifierInvalid}},
		{Format: FormatARGB8888, Modifiers: []uint64{ModifierLinear, ModifierLinear}},
		{Format: nv12}, // listed without any modifier: not scannable
	}
	for _, c := range []struct {
		name      string
		in        []FormatModifiers
		haveIn    bool
		legacy    []uint32
		modifiers bool
		want      map[uint32][]uint64
	}{
		{"IN_FORMATS with modifiers", in, true, nil, true, map[uint32][]uint64{
			FormatXRGB8888: {ModifierLinear, tiled},
			FormatARGB8888: {ModifierLinear},
		}},
		{"IN_FORMATS, no ADDFB2 modifiers", in, true, nil, false, map[uint32][]uint64{
			FormatXRGB8888: {ModifierLinear},
			FormatARGB8888: {ModifierLinear},
		}},
		{"no IN_FORMATS", nil, false, []uint32{FormatXRGB8888, FormatRGB565}, true, map[uint32][]uint64{
			FormatXRGB8888: {ModifierLinear},
			FormatRGB565:   {ModifierLinear},
		}},
	} {
		got := scanoutFormatTable(c.in, c.haveIn, c.legacy, c.modifiers)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
		for f, ms := range got {
			for _, m := range ms {
				if m == ModifierInvalid {
					t.Errorf("%s: %s lists MOD_INVALID", c.name, FourCC(f))
				}
			}
		}
	}
}

// importBuffer refuses what the plane cannot show before touching the
// device (the Output here has no device: an ioctl would panic).
func TestImportBufferRefusesUnlistedBeforeIoctl(t *testing.T) {
	o := &Output{
		name:        "test",
		scanFormats: map[uint32][]uint64{FormatXRGB8888: {ModifierLinear}},
	}
	plane := []dmabuf.Plane{{FD: -1, Stride: 256}}
	for _, c := range []struct {
		name      string
		buf       dmabuf.Buffer
		modifiers bool
		want      error
	}{
		{"format", dmabuf.Buffer{Width: 64, Height: 64, Format: FormatRGB565, Modifier: ModifierLinear, Planes: plane}, true, errNotListed},
		{"modifier listed nowhere", dmabuf.Buffer{Width: 64, Height: 64, Format: FormatXRGB8888, Modifier: 0x0100000000000001, Planes: plane}, true, errNotListed},
		{"modifier without the cap", dmabuf.Buffer{Width: 64, Height: 64, Format: FormatXRGB8888, Modifier: 0x0100000000000001, Planes: plane}, false, errUnsupportedModifier},
	} {
		o.modifiers = c.modifiers
		_, err := o.importBuffer(&c.buf, o.scanFormats)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: err %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := o.importBuffer(&dmabuf.Buffer{Width: 64, Height: 64, Format: FormatXRGB8888}, o.scanFormats); err == nil {
		t.Error("buffer without planes accepted")
	}
}
