package xcursor

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// encode writes an XCursor file with one w×h image per nominal size,
// every pixel argb.
func encode(sizes []int, w, h, xhot, yhot int, argb uint32) []byte {
	le := binary.LittleEndian
	var b bytes.Buffer
	b.WriteString("Xcur")
	binary.Write(&b, le, []uint32{16, 0x10000, uint32(len(sizes))})
	pos := 16 + 12*len(sizes)
	for _, s := range sizes {
		binary.Write(&b, le, []uint32{imageType, uint32(s), uint32(pos)})
		pos += 36 + 4*w*h
	}
	for _, s := range sizes {
		binary.Write(&b, le, []uint32{36, imageType, uint32(s), 1, uint32(w), uint32(h), uint32(xhot), uint32(yhot), 0})
		for i := 0; i < w*h; i++ {
			binary.Write(&b, le, argb+uint32(s))
		}
	}
	return b.Bytes()
}

func TestDecodePicksNearestSize(t *testing.T) {
	data := encode([]int{24, 32, 48}, 3, 2, 1, 1, 0xff000000)
	c, err := Decode(bytes.NewReader(data), 30)
	if err != nil {
		t.Fatal(err)
	}
	if c.Image.Width != 3 || c.Image.Height != 2 || c.Hotspot.X != 1 || c.Hotspot.Y != 1 {
		t.Fatalf("got %dx%d hotspot %v", c.Image.Width, c.Image.Height, c.Hotspot)
	}
	if got := binary.LittleEndian.Uint32(c.Image.Pix); got != 0xff000000+32 {
		t.Fatalf("pixel %#x, want the 32 px image's %#x", got, 0xff000000+32)
	}
}

func TestDecodeRejectsBrokenFiles(t *testing.T) {
	good := encode([]int{24}, 4, 4, 0, 0, 0xffffffff)
	huge := encode([]int{24}, 1, 1, 0, 0, 0)
	binary.LittleEndian.PutUint32(huge[16+12+16:], 1<<20) // width
	hot := encode([]int{24}, 2, 2, 9, 0, 0)
	for name, data := range map[string][]byte{
		"empty":          nil,
		"not xcursor":    []byte("GIF89a.........................."),
		"truncated":      good[:len(good)-5],
		"huge image":     huge,
		"hotspot beyond": hot,
	} {
		if _, err := Decode(bytes.NewReader(data), 24); err == nil {
			t.Errorf("%s: decoded without an error", name)
		}
	}
}

// A theme inherits another; a cycle of inheritance ends; names cannot
// leave the theme directory.
func TestThemeInheritance(t *testing.T) {
	dir := t.TempDir()
	write := func(p string, data []byte) {
		must(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755))
		must(t, os.WriteFile(filepath.Join(dir, p), data, 0o644))
	}
	write("child/index.theme", []byte("[Icon Theme]\nInherits=parent\n"))
	write("parent/index.theme", []byte("[Icon Theme]\nInherits=child\n"))
	write("parent/cursors/text", encode([]int{24}, 2, 2, 1, 1, 0xff112233))
	th := Theme{Name: "child", Size: 24, Path: []string{dir}}
	if _, err := th.Load("text"); err != nil {
		t.Fatalf("text from the parent theme: %v", err)
	}
	if _, err := th.Load("missing"); err != ErrNotFound {
		t.Fatalf("missing cursor through an inheritance cycle: %v, want ErrNotFound", err)
	}
	if _, err := th.Load("../parent/cursors/text"); err == nil {
		t.Fatal("a name with a path was loaded")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
