package scene_test

import (
	"bytes"
	"encoding/binary"
	"image"
	"os"
	"path/filepath"
	"testing"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/cursorshape"
	"github.com/vitrine-wm/vitrine/protocol/protocoltest"
	"github.com/vitrine-wm/vitrine/render"
	"github.com/vitrine-wm/vitrine/scene"
	"github.com/vitrine-wm/vitrine/seat/inputevent"
)

const (
	shapeManagerGetPointer = 1
	shapeDeviceSetShape    = 1
)

// xcursorFile is an XCursor file with one w×h image of argb.
func xcursorFile(w, h, xhot, yhot int, argb uint32) []byte {
	le := binary.LittleEndian
	var b bytes.Buffer
	b.WriteString("Xcur")
	binary.Write(&b, le, []uint32{16, 0x10000, 1, 0xfffd0002, 24, 28})
	binary.Write(&b, le, []uint32{36, 0xfffd0002, 24, 1, uint32(w), uint32(h), uint32(xhot), uint32(yhot), 0})
	for i := 0; i < w*h; i++ {
		binary.Write(&b, le, argb)
	}
	return b.Bytes()
}

// shapeClient is a window over which the pointer is, with a cursor
// shape device for its wl_pointer; enter is the enter's serial.
type shapeClient struct {
	*window
	dev, enter uint32
}

func newShapeClient(t *testing.T, r *rig, theme string, path []string) *shapeClient {
	t.Helper()
	r.onLoop(t, func() { r.comp.ConfigureInput(scene.InputConfig{CursorTheme: theme, CursorPath: path}) })
	w := newWindow(t, r.dial(t), 32)
	w.draw(t, 0x000080)
	seat := w.reg.bind(t, "wl_seat", 5)
	ptr := w.h.NewID()
	must(t, w.h.Send(seat, 0, ptr))
	mgr := w.reg.bind(t, "wp_cursor_shape_manager_v1", 1)
	sc := &shapeClient{window: w, dev: w.h.NewID()}
	must(t, w.h.Send(mgr, shapeManagerGetPointer, sc.dev, ptr))
	h := inputevent.Header{Device: "mouse"}
	r.input(t,
		inputevent.DeviceAdded{Header: h, Caps: inputevent.DeviceCaps{Pointer: true, Tablet: true}},
		inputevent.PointerAbs{Header: h, X: 30.5 / 64, Y: 30.5 / 64},
		inputevent.Frame{Header: h},
	)
	e := waitFor(t, w.h, "wl_pointer.enter", func(e protocoltest.Event) bool { return e.Object == ptr && e.Opcode == 0 })
	sc.enter = e.Uint(0)
	return sc
}

// The shape a client names is drawn from the XCursor theme at the
// pointer, hotspot on the pointer; a request with an older serial than
// the latest enter changes nothing.
func TestCursorShapeFromTheme(t *testing.T) {
	dir := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(dir, "vt", "cursors"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "vt", "cursors", "text"), xcursorFile(4, 4, 1, 1, 0xffff00ff), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "vt", "cursors", "wait"), xcursorFile(4, 4, 1, 1, 0xff00ffff), 0o644))
	r := startRig(t, 64, 64, 60000, render.Normal, protocol.Options{})
	sc := newShapeClient(t, r, "vt", []string{dir})
	must(t, sc.h.Send(sc.dev, shapeDeviceSetShape, sc.enter, uint32(cursorshape.CursorShapeDeviceV1ShapeText)))
	must(t, sc.h.Send(sc.dev, shapeDeviceSetShape, sc.enter-1, uint32(cursorshape.CursorShapeDeviceV1ShapeWait)))
	sc.draw(t, 0x000080)
	img := r.screenshot(t)
	for _, p := range [][2]int{{29, 29}, {32, 32}} {
		if got := pixel(img, p[0], p[1]); got != 0xff00ff {
			t.Errorf("(%d,%d)=%06x, want the text cursor's ff00ff (4x4, hotspot 1,1, pointer at 30,30)", p[0], p[1], got)
		}
	}
	for _, p := range [][2]int{{28, 28}, {33, 33}} {
		if got := pixel(img, p[0], p[1]); got != 0x000080 {
			t.Errorf("(%d,%d)=%06x, want the window's 000080 around the cursor", p[0], p[1], got)
		}
	}
}

// Without a theme that has the cursor, the shape shows as vitrine's
// own arrow, tip at the pointer.
func TestCursorShapeWithoutTheme(t *testing.T) {
	r := startRig(t, 64, 64, 60000, render.Normal, protocol.Options{})
	sc := newShapeClient(t, r, "none", []string{t.TempDir()})
	must(t, sc.h.Send(sc.dev, shapeDeviceSetShape, sc.enter, uint32(cursorshape.CursorShapeDeviceV1ShapePointer)))
	sc.draw(t, 0x000080)
	img := r.screenshot(t)
	if got := pixel(img, 30, 30); got != 0 {
		t.Errorf("arrow tip (30,30)=%06x, want its black edge", got)
	}
	if got := pixel(img, 31, 35); got != 0xffffff {
		t.Errorf("inside the arrow (31,35)=%06x, want white", got)
	}
	waitLog(t, r, "no XCursor theme found")
}

// xcursorSizes is an XCursor file with one square image per nominal
// size, each side = its size, filled with its argb.
func xcursorSizes(imgs ...[2]uint32) []byte {
	le := binary.LittleEndian
	var b bytes.Buffer
	b.WriteString("Xcur")
	binary.Write(&b, le, []uint32{16, 0x10000, uint32(len(imgs))})
	pos := uint32(16 + 12*len(imgs))
	for _, im := range imgs {
		binary.Write(&b, le, []uint32{0xfffd0002, im[0], pos})
		pos += 36 + 4*im[0]*im[0]
	}
	for _, im := range imgs {
		n := im[0]
		binary.Write(&b, le, []uint32{36, 0xfffd0002, n, 1, n, n, n / 2, n / 2, 0})
		for i := uint32(0); i < n*n; i++ {
			binary.Write(&b, le, im[1])
		}
	}
	return b.Bytes()
}

// On a scale-2 output a shape comes from the theme's image of twice the
// configured size, shown at its own pixels: as large as the base image
// on a scale-1 output, not the base image enlarged. Fails if the theme
// is read at the base size (magenta enlarged) or the large image is
// drawn at scale 1 (cyan twice as large).
func TestCursorShapeAtOutputScale(t *testing.T) {
	dir := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(dir, "vt", "cursors"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "vt", "cursors", "text"), xcursorSizes([2]uint32{4, 0xffff00ff}, [2]uint32{8, 0xff00ffff}), 0o644))
	for _, tc := range []struct {
		scale float64
		argb  uint32
		side  int // on the output, in pixels
	}{{1, 0xff00ff, 4}, {2, 0x00ffff, 8}} {
		r := startRigConfig(t, 64, 64, 60000, render.Normal, protocol.Options{}, withScale(tc.scale))
		sc := newShapeClient(t, r, "vt", []string{dir})
		r.onLoop(t, func() {
			r.comp.ConfigureInput(scene.InputConfig{CursorTheme: "vt", CursorSize: 4, CursorPath: []string{dir}})
		})
		must(t, sc.h.Send(sc.dev, shapeDeviceSetShape, sc.enter, uint32(cursorshape.CursorShapeDeviceV1ShapeText)))
		sc.draw(t, 0x000080)
		img := r.screenshot(t)
		box := image.Rectangle{}
		for y := 0; y < 64; y++ {
			for x := 0; x < 64; x++ {
				if got := pixel(img, x, y); got != 0x000080 && got != 0 {
					if got != tc.argb {
						t.Errorf("scale %v: (%d,%d)=%06x, want only the cursor's %06x", tc.scale, x, y, got, tc.argb)
					}
					box = box.Union(image.Rect(x, y, x+1, y+1))
				}
			}
		}
		if box.Dx() != tc.side || box.Dy() != tc.side {
			t.Errorf("scale %v: cursor covers %v, want %dx%d pixels", tc.scale, box, tc.side, tc.side)
		}
	}
}
