// Package xcursor reads cursor images from XCursor themes, the format
// of /usr/share/icons/THEME/cursors that every Linux desktop ships, so
// the compositor can draw the cursor a client names by its shape.
package xcursor

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/vitrine-wm/vitrine/render"
)

// Cursor is one cursor image: premultiplied ARGB8888 and its hotspot.
type Cursor struct {
	Image   *render.Image
	Hotspot image.Point
	// Size is the nominal size of the image taken, which a theme may
	// draw at several sizes: twice the size asked for is an image for
	// a scale-2 output.
	Size int
}

// Theme finds cursors by name in a theme and the themes it inherits.
type Theme struct {
	Name string
	// Size is the nominal size wanted; the nearest one is taken.
	Size int
	// Path are the directories holding themes, searched in order.
	Path []string
}

// DefaultPath is where libXcursor looks when XCURSOR_PATH is unset.
func DefaultPath(home string) []string {
	return []string{
		filepath.Join(home, ".local/share/icons"), filepath.Join(home, ".icons"),
		"/usr/share/icons", "/usr/share/pixmaps",
	}
}

// ErrNotFound is returned when no theme in the chain has the cursor.
var ErrNotFound = errors.New("xcursor: cursor not found")

// Load returns the cursor called name.
func (t Theme) Load(name string) (*Cursor, error) {
	if strings.ContainsAny(name, "/\x00") || name == "" || name == "." || name == ".." {
		return nil, fmt.Errorf("xcursor: invalid cursor name %q", name)
	}
	seen := map[string]bool{}
	return t.load(t.Name, name, seen)
}

func (t Theme) load(theme, name string, seen map[string]bool) (*Cursor, error) {
	if seen[theme] || len(seen) > 16 {
		return nil, ErrNotFound
	}
	seen[theme] = true
	for _, dir := range t.Path {
		f, err := os.Open(filepath.Join(dir, theme, "cursors", name))
		if err != nil {
			continue
		}
		c, err := Decode(f, t.Size)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, theme, "cursors", name), err)
		}
		return c, nil
	}
	for _, parent := range t.inherits(theme) {
		if c, err := t.load(parent, name, seen); err == nil {
			return c, nil
		}
	}
	return nil, ErrNotFound
}

// inherits reads Inherits= of the theme's index.theme.
func (t Theme) inherits(theme string) []string {
	for _, dir := range t.Path {
		f, err := os.Open(filepath.Join(dir, theme, "index.theme"))
		if err != nil {
			continue
		}
		defer f.Close()
		sc := bufio.NewScanner(io.LimitReader(f, 64<<10))
		for sc.Scan() {
			if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "Inherits="); ok {
				var out []string
				for _, p := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ';' || r == ' ' }) {
					if !strings.ContainsAny(p, "/\x00") && p != "." && p != ".." {
						out = append(out, p)
					}
				}
				return out
			}
		}
		return nil
	}
	return nil
}

const (
	imageType = 0xfffd0002
	// maxSide bounds an image: far above any cursor, small enough that
	// a corrupt file cannot make the compositor allocate much.
	maxSide = 1024
)

// Decode reads an XCursor file and returns its first image of the
// nominal size nearest to size.
func Decode(r io.ReaderAt, size int) (*Cursor, error) {
	var hdr [16]byte
	if _, err := r.ReadAt(hdr[:], 0); err != nil {
		return nil, fmt.Errorf("xcursor: header: %w", err)
	}
	if string(hdr[:4]) != "Xcur" {
		return nil, errors.New("xcursor: not an XCursor file")
	}
	le := binary.LittleEndian
	hsize, ntoc := le.Uint32(hdr[4:]), le.Uint32(hdr[12:])
	if ntoc == 0 || ntoc > 1024 {
		return nil, fmt.Errorf("xcursor: %d table entries", ntoc)
	}
	toc := make([]byte, 12*ntoc)
	if _, err := r.ReadAt(toc, int64(hsize)); err != nil {
		return nil, fmt.Errorf("xcursor: table: %w", err)
	}
	best, bestDiff, bestSize := int64(-1), -1, 0
	for i := 0; i < int(ntoc); i++ {
		e := toc[12*i:]
		if le.Uint32(e) != imageType {
			continue
		}
		nominal := int(le.Uint32(e[4:]))
		d := nominal - size
		if d < 0 {
			d = -d
		}
		if bestDiff < 0 || d < bestDiff {
			best, bestDiff, bestSize = int64(le.Uint32(e[8:])), d, nominal
		}
	}
	if best < 0 {
		return nil, errors.New("xcursor: no image")
	}
	var ch [36]byte
	if _, err := r.ReadAt(ch[:], best); err != nil {
		return nil, fmt.Errorf("xcursor: image header: %w", err)
	}
	w, h := int(le.Uint32(ch[16:])), int(le.Uint32(ch[20:]))
	xhot, yhot := int(le.Uint32(ch[24:])), int(le.Uint32(ch[28:]))
	if w <= 0 || h <= 0 || w > maxSide || h > maxSide || xhot > w || yhot > h {
		return nil, fmt.Errorf("xcursor: bad image %dx%d hotspot %d,%d", w, h, xhot, yhot)
	}
	img := render.NewImage(w, h, render.ARGB8888)
	row := make([]byte, 4*w)
	at := best + int64(le.Uint32(ch[:]))
	for y := 0; y < h; y++ {
		if _, err := r.ReadAt(row, at+int64(y*4*w)); err != nil {
			return nil, fmt.Errorf("xcursor: pixels: %w", err)
		}
		// ARGB as little-endian words is the image's byte order.
		copy(img.Pix[y*img.Stride:], row)
	}
	return &Cursor{Image: img, Hotspot: image.Pt(xhot, yhot), Size: bestSize}, nil
}
