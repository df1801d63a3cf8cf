package render

import "fmt"

// Format is a DRM fourcc code as defined in drm_fourcc.h.
type Format uint32

// The formats render reads and writes. Values are the DRM fourcc codes
// (fourcc_code(a, b, c, d) = a | b<<8 | c<<16 | d<<24), so they can be
// passed to ADDFB2 and compared with IN_FORMATS as they are.
const (
	XRGB8888 Format = 'X' | 'R'<<8 | '2'<<16 | '4'<<24 // [31:0] x:R:G:B 8:8:8:8 little endian
	ARGB8888 Format = 'A' | 'R'<<8 | '2'<<16 | '4'<<24 // [31:0] A:R:G:B 8:8:8:8 little endian
	XBGR8888 Format = 'X' | 'B'<<8 | '2'<<16 | '4'<<24 // [31:0] x:B:G:R 8:8:8:8 little endian
	ABGR8888 Format = 'A' | 'B'<<8 | '2'<<16 | '4'<<24 // [31:0] A:B:G:R 8:8:8:8 little endian
	RGB565   Format = 'R' | 'G'<<8 | '1'<<16 | '6'<<24 // [15:0] R:G:B 5:6:5 little endian
)

// wl_shm.format gives ARGB8888 and XRGB8888 the codes 0 and 1; every other
// wl_shm format code is the DRM fourcc itself.
const (
	wlShmARGB8888 = 0
	wlShmXRGB8888 = 1
)

// BytesPerPixel reports 4 for the 32-bit formats, 2 for RGB565 and 0 for
// formats render does not know.
func (f Format) BytesPerPixel() int {
	switch f {
	case XRGB8888, ARGB8888, XBGR8888, ABGR8888:
		return 4
	case RGB565:
		return 2
	}
	return 0
}

// HasAlpha reports whether f carries an alpha channel; the X formats and
// RGB565 are always opaque.
func (f Format) HasAlpha() bool {
	return f == ARGB8888 || f == ABGR8888
}

// String returns the DRM name ("XRGB8888"), the fourcc text for an unknown
// printable code, or its hex value.
func (f Format) String() string {
	switch f {
	case XRGB8888:
		return "XRGB8888"
	case ARGB8888:
		return "ARGB8888"
	case XBGR8888:
		return "XBGR8888"
	case ABGR8888:
		return "ABGR8888"
	case RGB565:
		return "RGB565"
	case NV12:
		return "NV12"
	case NV21:
		return "NV21"
	case YUV420:
		return "YUV420"
	case YVU420:
		return "YVU420"
	}
	b := [4]byte{byte(f), byte(f >> 8), byte(f >> 16), byte(f >> 24)}
	for _, c := range b {
		if c < ' ' || c > '~' {
			return fmt.Sprintf("Format(%#08x)", uint32(f))
		}
	}
	return fmt.Sprintf("Format(%q)", string(b[:]))
}

// FormatFromWlShm converts a wl_shm.format code into a Format, reporting
// whether render supports it.
func FormatFromWlShm(code uint32) (Format, bool) {
	var f Format
	switch code {
	case wlShmARGB8888:
		f = ARGB8888
	case wlShmXRGB8888:
		f = XRGB8888
	default:
		f = Format(code)
	}
	return f, f.BytesPerPixel() != 0
}

// WlShm returns the wl_shm.format code for f.
func (f Format) WlShm() uint32 {
	switch f {
	case ARGB8888:
		return wlShmARGB8888
	case XRGB8888:
		return wlShmXRGB8888
	}
	return uint32(f)
}
