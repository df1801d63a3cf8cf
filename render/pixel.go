package render

import "encoding/binary"

// over composites the premultiplied pixel s over d, both 0xAARRGGBB:
// every channel becomes s + d*(255-sa)/255, rounded to nearest. The four
// channels are spread into 16-bit lanes of a uint64 so one multiply serves
// them all; the division by 255 is the exact (x + x>>8 + 128) >> 8 form,
// valid for x <= 255*255. A channel that exceeds 255 (only possible when s
// is not really premultiplied) saturates instead of carrying into its
// neighbour.
func over(s, d uint32) uint32 {
	const lanes = 0x00ff00ff00ff00ff
	x := (uint64(d)&0x00ff00ff|uint64(d)<<24&0x00ff00ff00000000)*uint64(^s>>24) + 0x0080008000800080
	x = (x + x>>8&lanes) >> 8 & lanes
	x += uint64(s)&0x00ff00ff | uint64(s)<<24&0x00ff00ff00000000
	carry := x & 0x0100010001000100
	x = (x | (carry - carry>>8)) & lanes
	return uint32(x) | uint32(x>>24)
}

// overRow composites a row of premultiplied ARGB8888 source bytes over the
// destination row of the same length. Pairs of fully transparent pixels are
// skipped and pairs of opaque ones copied, which is most pixels of a
// typical window.
func overRow(d, s []byte) {
	n := len(s) &^ 7
	d = d[:len(s)&^3]
	for i := 0; i < n; i += 8 {
		sp := binary.LittleEndian.Uint64(s[i:])
		switch {
		case sp == 0:
		case sp&0xff000000ff000000 == 0xff000000ff000000:
			binary.LittleEndian.PutUint64(d[i:], sp)
		default:
			dp := binary.LittleEndian.Uint64(d[i:])
			// over is exact for transparent and opaque pixels too, so a
			// mixed pair needs no further shortcuts.
			lo := over(uint32(sp), uint32(dp))
			hi := over(uint32(sp>>32), uint32(dp>>32))
			binary.LittleEndian.PutUint64(d[i:], uint64(lo)|uint64(hi)<<32)
		}
	}
	if n+4 <= len(d) {
		binary.LittleEndian.PutUint32(d[n:], over(binary.LittleEndian.Uint32(s[n:]), binary.LittleEndian.Uint32(d[n:])))
	}
}

// overPixels composites premultiplied pixels over a 4-byte-per-pixel row.
func overPixels(d []byte, px []uint32) {
	d = d[:len(px)*4]
	for i, sp := range px {
		switch {
		case sp == 0:
		case sp >= 0xff000000:
			binary.LittleEndian.PutUint32(d[i*4:], sp)
		default:
			binary.LittleEndian.PutUint32(d[i*4:], over(sp, binary.LittleEndian.Uint32(d[i*4:])))
		}
	}
}

// storeOpaque writes pixels to a 4-byte-per-pixel row with alpha forced to
// 0xff, so an ARGB8888 shadow stays opaque wherever an opaque layer lands.
func storeOpaque(d []byte, px []uint32) {
	d = d[:len(px)*4]
	for i, p := range px {
		binary.LittleEndian.PutUint32(d[i*4:], p|0xff000000)
	}
}

// fetchRow converts len(px) contiguous pixels of format f from s into
// premultiplied ARGB.
func fetchRow(px []uint32, s []byte, f Format) {
	switch f {
	case XRGB8888:
		s = s[:len(px)*4]
		for i := range px {
			px[i] = binary.LittleEndian.Uint32(s[i*4:]) | 0xff000000
		}
	case ARGB8888:
		s = s[:len(px)*4]
		for i := range px {
			px[i] = binary.LittleEndian.Uint32(s[i*4:])
		}
	case XBGR8888:
		s = s[:len(px)*4]
		for i := range px {
			px[i] = swapRB(binary.LittleEndian.Uint32(s[i*4:])) | 0xff000000
		}
	case ABGR8888:
		s = s[:len(px)*4]
		for i := range px {
			px[i] = swapRB(binary.LittleEndian.Uint32(s[i*4:]))
		}
	case RGB565:
		s = s[:len(px)*2]
		for i := range px {
			px[i] = expand565(binary.LittleEndian.Uint16(s[i*2:]))
		}
	}
}

// fetchOffsets converts the pixels of format f at byte offsets base+off[i]
// of s into premultiplied ARGB; it is the general path for transformed and
// scaled sources.
func fetchOffsets(px []uint32, s []byte, base int, off []int, f Format) {
	off = off[:len(px)]
	switch f {
	case XRGB8888:
		for i, o := range off {
			px[i] = binary.LittleEndian.Uint32(s[base+o:]) | 0xff000000
		}
	case ARGB8888:
		for i, o := range off {
			px[i] = binary.LittleEndian.Uint32(s[base+o:])
		}
	case XBGR8888:
		for i, o := range off {
			px[i] = swapRB(binary.LittleEndian.Uint32(s[base+o:])) | 0xff000000
		}
	case ABGR8888:
		for i, o := range off {
			px[i] = swapRB(binary.LittleEndian.Uint32(s[base+o:]))
		}
	case RGB565:
		for i, o := range off {
			px[i] = expand565(binary.LittleEndian.Uint16(s[base+o:]))
		}
	}
}

// rowConverter returns the function writing a row of XRGB8888 (or ARGB8888,
// alpha ignored) source bytes into a row of format f, or nil if f cannot be
// written. The functions only store to d, in increasing addresses, so d may
// be write-combined or I/O memory.
func rowConverter(f Format) func(d, s []byte) {
	switch f {
	case XRGB8888:
		return func(d, s []byte) { copy(d, s) }
	case ARGB8888:
		return convertToARGB
	case XBGR8888, ABGR8888:
		return convertToXBGR
	case RGB565:
		return convertTo565
	}
	return nil
}

func convertToARGB(d, s []byte) {
	s = s[:len(s)&^3]
	d = d[:len(s)]
	i := 0
	for ; i+8 <= len(s); i += 8 {
		binary.LittleEndian.PutUint64(d[i:], binary.LittleEndian.Uint64(s[i:])|0xff000000ff000000)
	}
	if i < len(s) {
		binary.LittleEndian.PutUint32(d[i:], binary.LittleEndian.Uint32(s[i:])|0xff000000)
	}
}

// convertToXBGR serves both XBGR8888 and ABGR8888: the shadow is opaque, so
// writing 0xff into the X byte is right for both. Pixels go two at a time.
func convertToXBGR(d, s []byte) {
	s = s[:len(s)&^3]
	d = d[:len(s)]
	i := 0
	for ; i+8 <= len(s); i += 8 {
		v := binary.LittleEndian.Uint64(s[i:])
		v = v&0xff00ff00ff00ff00 | v>>16&0x000000ff000000ff | v&0x000000ff000000ff<<16 | 0xff000000ff000000
		binary.LittleEndian.PutUint64(d[i:], v)
	}
	if i < len(s) {
		binary.LittleEndian.PutUint32(d[i:], swapRB(binary.LittleEndian.Uint32(s[i:]))|0xff000000)
	}
}

func convertTo565(d, s []byte) {
	n := len(s) / 4
	s = s[:n*4]
	d = d[:n*2]
	i := 0
	// Two pixels per load and per 32-bit store: half the stores to
	// scanout memory.
	for ; i+2 <= n; i += 2 {
		v := binary.LittleEndian.Uint64(s[i*4:])
		binary.LittleEndian.PutUint32(d[i*2:], uint32(pack565(uint32(v)))|uint32(pack565(uint32(v>>32)))<<16)
	}
	if i < n {
		binary.LittleEndian.PutUint16(d[i*2:], pack565(binary.LittleEndian.Uint32(s[i*4:])))
	}
}
