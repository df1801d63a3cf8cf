package screencheck

import (
	"bufio"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
)

// ReadPPM decodes a binary (P6) PPM with 8-bit samples, the format of
// QEMU's screendump.
func ReadPPM(r io.Reader) (*image.RGBA, error) {
	br := bufio.NewReader(r)
	var fields [4]int
	magic, err := ppmToken(br)
	if err != nil {
		return nil, fmt.Errorf("ppm header: %w", err)
	}
	if magic != "P6" {
		return nil, fmt.Errorf("ppm header: magic %q, want P6", magic)
	}
	for i := 1; i < 4; i++ {
		tok, err := ppmToken(br)
		if err != nil {
			return nil, fmt.Errorf("ppm header: %w", err)
		}
		if _, err := fmt.Sscanf(tok, "%d", &fields[i]); err != nil {
			return nil, fmt.Errorf("ppm header: field %q: %w", tok, err)
		}
	}
	w, h, maxval := fields[1], fields[2], fields[3]
	if w <= 0 || h <= 0 || w > 1<<15 || h > 1<<15 {
		return nil, fmt.Errorf("ppm header: size %dx%d out of range", w, h)
	}
	if maxval != 255 {
		return nil, fmt.Errorf("ppm header: maxval %d, only 255 is supported", maxval)
	}
	// Exactly one whitespace byte separates the header from the samples;
	// ppmToken consumed it.
	row := make([]byte, 3*w)
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		if _, err := io.ReadFull(br, row); err != nil {
			return nil, fmt.Errorf("ppm row %d of %d: %w", y, h, err)
		}
		px := img.Pix[y*img.Stride:]
		for x := 0; x < w; x++ {
			px[4*x+0] = row[3*x+0]
			px[4*x+1] = row[3*x+1]
			px[4*x+2] = row[3*x+2]
			px[4*x+3] = 0xff
		}
	}
	return img, nil
}

// ppmToken reads one whitespace-delimited header token, skipping
// comments, and consumes the single whitespace byte after it.
func ppmToken(br *bufio.Reader) (string, error) {
	var tok []byte
	for {
		c, err := br.ReadByte()
		if err != nil {
			return "", err
		}
		switch {
		case c == '#' && len(tok) == 0:
			if _, err := br.ReadBytes('\n'); err != nil {
				return "", err
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if len(tok) > 0 {
				return string(tok), nil
			}
		default:
			tok = append(tok, c)
			if len(tok) > 16 {
				return "", fmt.Errorf("token %q too long", tok)
			}
		}
	}
}

// PPMToPNG converts the PPM file at ppmPath to a PNG file at pngPath.
func PPMToPNG(ppmPath, pngPath string) (image.Image, error) {
	f, err := os.Open(ppmPath)
	if err != nil {
		return nil, fmt.Errorf("open screendump: %w", err)
	}
	defer f.Close()
	img, err := ReadPPM(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", ppmPath, err)
	}
	if err := WritePNG(pngPath, img); err != nil {
		return nil, err
	}
	return img, nil
}

// WritePNG writes img to path as PNG.
func WritePNG(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("encode %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// ReadPNG reads a PNG file.
func ReadPNG(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	return img, nil
}
