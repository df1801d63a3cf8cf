package render

import (
	"encoding/binary"
	"math/bits"
)

// The byte path of CopyOut: encoding/binary loads and stores, for a shadow
// whose rows are not 4-byte aligned or a big-endian machine. It is slower
// than the word path in words.go but needs nothing from the memory it is
// given.

// copyRectBytes copies one clipped destination rectangle, given as in
// copyRect, through the byte path.
func (c *Copier) copyRectBytes(dst, src *Image, g rectCopy) {
	conv := rowConverter(dst.Format)
	w, h := g.w, g.h
	if g.stepX == 4 {
		// Rows stay rows and keep their direction (normal,
		// flipped-180): convert straight from the shadow.
		for y := 0; y < h; y++ {
			o := g.off + y*g.stepY
			conv(g.dstRow(dst, y), src.Pix[o:o+w*4])
		}
		return
	}
	if g.stepX == -4 {
		// Rows stay rows but run backwards (180, flipped).
		if dst.Format == XRGB8888 {
			for y := 0; y < h; y++ {
				reverseRow(g.dstRow(dst, y), src.Pix, g.off+y*g.stepY, w)
			}
			return
		}
		buf := c.byteBuffer(w * 4)
		for y := 0; y < h; y++ {
			reverseRow(buf, src.Pix, g.off+y*g.stepY, w)
			conv(g.dstRow(dst, y), buf)
		}
		return
	}
	// Rows become columns (90, 270 and their flips): gather a band of
	// destination rows into system memory, reading the source in short
	// contiguous runs, then write each row out sequentially.
	buf := c.byteBuffer(band * w * 4)
	for y := 0; y < h; y += band {
		n := min(band, h-y)
		gatherColumns(buf[:n*w*4], src.Pix, g.off+y*g.stepY, g.stepX, g.stepY, w, n)
		for k := 0; k < n; k++ {
			conv(g.dstRow(dst, y+k), buf[k*w*4:(k+1)*w*4])
		}
	}
}

// byteBuffer returns n bytes of system memory for gathering rows.
func (c *Copier) byteBuffer(n int) []byte {
	if len(c.scratch) < n {
		c.scratch = make([]byte, n)
	}
	return c.scratch[:n]
}

// reverseRow stores into d the w 4-byte pixels ending at byte offset o+4 of
// pix, last one first. Pixels move in pairs: one 8-byte load, a swap of the
// halves, one 8-byte store.
func reverseRow(d, pix []byte, o, w int) {
	row := pix[o-4*(w-1) : o+4]
	d = d[:w*4]
	x := 0
	for ; x+2 <= w; x += 2 {
		v := binary.LittleEndian.Uint64(row[4*(w-2-x):])
		binary.LittleEndian.PutUint64(d[4*x:], bits.RotateLeft64(v, 32))
	}
	if x < w {
		binary.LittleEndian.PutUint32(d[4*x:], binary.LittleEndian.Uint32(row))
	}
}

// gatherColumns fills n rows of w 4-byte pixels in s (tightly packed): row
// k, pixel x is the source pixel at off + x*stepX + k*stepY, where stepY is
// ±4 (band rows are neighbouring source columns) and stepX is ± the source
// stride. It works on 2×2 blocks: two 8-byte loads from neighbouring source
// rows become two 8-byte stores into neighbouring band rows. Band rows are
// always filled top to bottom: walking them bottom-up measured three times
// slower.
func gatherColumns(s, pix []byte, off, stepX, stepY, w, n int) {
	rb := w * 4
	s = s[:n*rb]
	rev := stepY < 0
	if rev {
		// Source runs go right to left: slice them from their lowest
		// address and index from the end.
		off -= 4 * (n - 1)
	}
	x := 0
	for ; x+2 <= w; x += 2 {
		o0 := off + x*stepX
		o1 := o0 + stepX
		c0 := pix[o0 : o0+4*n]
		c1 := pix[o1 : o1+4*n]
		p := x * 4
		k := 0
		if rev {
			for ; k+2 <= n; k += 2 {
				// Loaded low to high the pair is band rows k+1, k;
				// rotate so a holds (x, k) low and (x, k+1) high.
				j := 4 * (n - 2 - k)
				a := bits.RotateLeft64(binary.LittleEndian.Uint64(c0[j:]), 32)
				b := bits.RotateLeft64(binary.LittleEndian.Uint64(c1[j:]), 32)
				binary.LittleEndian.PutUint64(s[p:], a&0xffffffff|b<<32)
				binary.LittleEndian.PutUint64(s[p+rb:], a>>32|b&0xffffffff00000000)
				p += 2 * rb
			}
		} else {
			for ; k+2 <= n; k += 2 {
				a := binary.LittleEndian.Uint64(c0[4*k:])
				b := binary.LittleEndian.Uint64(c1[4*k:])
				binary.LittleEndian.PutUint64(s[p:], a&0xffffffff|b<<32)
				binary.LittleEndian.PutUint64(s[p+rb:], a>>32|b&0xffffffff00000000)
				p += 2 * rb
			}
		}
		if k < n {
			j := 4 * k
			if rev {
				j = 4 * (n - 1 - k)
			}
			binary.LittleEndian.PutUint32(s[p:], binary.LittleEndian.Uint32(c0[j:]))
			binary.LittleEndian.PutUint32(s[p+4:], binary.LittleEndian.Uint32(c1[j:]))
		}
	}
	if x < w {
		o0 := off + x*stepX
		c0 := pix[o0 : o0+4*n]
		for k := 0; k < n; k++ {
			j := 4 * k
			if rev {
				j = 4 * (n - 1 - k)
			}
			binary.LittleEndian.PutUint32(s[k*rb+x*4:], binary.LittleEndian.Uint32(c0[j:]))
		}
	}
}
