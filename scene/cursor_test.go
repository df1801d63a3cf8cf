package scene

import (
	"fmt"
	"image"
	"io"
	"log/slog"
	"slices"
	"testing"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/wl"
	"github.com/vitrine-wm/vitrine/render"
	"github.com/vitrine-wm/vitrine/scene/present"
)

// planeOutput is an output with a cursor plane that records what the
// scene asks of it.
type planeOutput struct {
	w, h      int
	rot       render.Transform
	shadow    *render.Image
	accept    bool // SetCursor's answer
	calls     []string
	img       *render.Image
	presented [][]image.Rectangle
	// refuse, when set, is what Present answers (nothing is shown).
	refuse error
}

func newPlaneOutput(w, h int, accept bool) *planeOutput {
	return &planeOutput{w: w, h: h, accept: accept, shadow: render.NewImage(w, h, render.XRGB8888)}
}

func (p *planeOutput) Name() string                { return "PLANE-1" }
func (p *planeOutput) Description() string         { return "fake output with a cursor plane" }
func (p *planeOutput) Mode() (int, int, int)       { return p.w, p.h, 60000 }
func (p *planeOutput) PhysicalSize() (int, int)    { return 0, 0 }
func (p *planeOutput) Transform() render.Transform { return p.rot }
func (p *planeOutput) Shadow() *render.Image       { return p.shadow }
func (p *planeOutput) CopiedBytes() int64          { return 0 }
func (p *planeOutput) Close() error                { return nil }
func (p *planeOutput) Present(d []image.Rectangle) error {
	if p.refuse != nil {
		return p.refuse
	}
	p.presented = append(p.presented, slices.Clone(d))
	return nil
}

func (p *planeOutput) SetCursor(img *render.Image, hot image.Point) bool {
	p.calls = append(p.calls, fmt.Sprintf("set %dx%d hot %d,%d", img.Width, img.Height, hot.X, hot.Y))
	p.img = img
	return p.accept
}

func (p *planeOutput) MoveCursor(x, y int) bool {
	p.calls = append(p.calls, fmt.Sprintf("move %d,%d", x, y))
	return true
}

func (p *planeOutput) HideCursor() { p.calls = append(p.calls, "hide") }

func (p *planeOutput) takeCalls() []string {
	c := p.calls
	p.calls = nil
	return c
}

// cursorScene is a compositor with one output and a 16x16 cursor
// surface of solid colour argb, hotspot 4,4, pointer at 100,100.
// configure, if given, adjusts the compositor's Config.
func cursorScene(t *testing.T, dev Output, argb uint32, configure ...func(*Config)) (*Compositor, *output, *surface) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := protocol.NewServer(protocol.Options{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	cfg := Config{Log: log, Server: srv}
	for _, f := range configure {
		f(&cfg)
	}
	c := New(cfg)
	c.AddOutput(dev)
	o := c.outputs[0]
	img := render.NewImage(16, 16, render.ARGB8888)
	for y := range 16 {
		for x := range 16 {
			img.SetPixelARGB(x, y, argb)
		}
	}
	s := &surface{c: c, scale: 1, width: 16, height: 16, entered: map[*output]bool{}}
	s.vpSrc[2] = -1
	s.vpDst = [2]int32{-1, -1}
	s.buf = &buffer{solid: img, width: 16, height: 16, format: render.ARGB8888, opaque: argb>>24 == 0xff}
	c.in.caps |= wl.SeatCapabilityPointer
	c.in.pointer = [2]float64{100, 100}
	c.in.cursor, c.in.cursorHot, c.in.cursorShown = s, image.Pt(4, 4), true
	c.cursorImageChanged()
	c.damageCursor()
	return c, o, s
}

func equalCalls(got []string, want ...string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

func TestCursorGoesOnThePlaneAndMovesWithoutDamage(t *testing.T) {
	dev := newPlaneOutput(320, 240, true)
	c, o, _ := cursorScene(t, dev, 0xffff0000)
	if got := dev.takeCalls(); !equalCalls(got, "set 16x16 hot 4,4", "move 96,96") {
		t.Fatalf("plane calls = %q", got)
	}
	if px := dev.img.PixelARGB(8, 8); px != 0xffff0000 {
		t.Fatalf("cursor image pixel = %#08x, want 0xffff0000", px)
	}
	if len(o.damage) != 0 {
		t.Fatalf("cursor on the plane damaged the frame: %v", o.damage)
	}
	if _, ok := c.cursorItem(o); ok {
		t.Fatal("cursor on the plane is still in the draw list")
	}
	c.movePointer(150, 120, 0)
	if got := dev.takeCalls(); !equalCalls(got, "move 146,116") {
		t.Fatalf("plane calls on motion = %q", got)
	}
	if len(o.damage) != 0 {
		t.Fatalf("pointer motion damaged the frame: %v", o.damage)
	}
	// A touch hides the cursor; the pointer's next motion brings it back
	// with its image loaded again.
	c.setCursorVisible(false)
	if got := dev.takeCalls(); !equalCalls(got, "hide") {
		t.Fatalf("plane calls on hide = %q", got)
	}
	c.movePointer(10, 10, 0)
	if got := dev.takeCalls(); !equalCalls(got, "set 16x16 hot 4,4", "move 6,6") {
		t.Fatalf("plane calls on show = %q", got)
	}
	if len(o.damage) != 0 {
		t.Fatalf("showing the cursor on the plane damaged the frame: %v", o.damage)
	}
}

func TestCursorCommitReloadsThePlane(t *testing.T) {
	dev := newPlaneOutput(320, 240, true)
	c, _, s := cursorScene(t, dev, 0xffff0000)
	dev.takeCalls()
	s.buf.solid.SetPixelARGB(8, 8, 0xff00ff00)
	cursorRole{c}.committed(s)
	if got := dev.takeCalls(); !equalCalls(got, "set 16x16 hot 4,4", "move 96,96") {
		t.Fatalf("plane calls on commit = %q", got)
	}
	if px := dev.img.PixelARGB(8, 8); px != 0xff00ff00 {
		t.Fatalf("reloaded cursor pixel = %#08x, want the new 0xff00ff00", px)
	}
	// Unsetting the cursor empties the plane.
	c.in.cursor = nil
	c.damageCursor()
	if got := dev.takeCalls(); !equalCalls(got, "hide") {
		t.Fatalf("plane calls on unset = %q", got)
	}
}

func TestRefusedCursorIsComposited(t *testing.T) {
	dev := newPlaneOutput(320, 240, false)
	c, o, _ := cursorScene(t, dev, 0xff0000ff)
	if got := dev.takeCalls(); !equalCalls(got, "set 16x16 hot 4,4") {
		t.Fatalf("plane calls = %q", got)
	}
	if o.damage.Area() != 16*16 {
		t.Fatalf("damage = %v, want the cursor's 16x16", o.damage)
	}
	c.repaintOutputs()
	if px := dev.shadow.PixelARGB(100, 100); px&0xffffff != 0x0000ff {
		t.Fatalf("composited cursor pixel = %#08x, want blue", px)
	}
	completeLongAgo(o)
	// Motion damages old and new places and does not ask the plane again
	// for the same image.
	c.movePointer(200, 100, 0)
	if got := dev.takeCalls(); len(got) != 0 {
		t.Fatalf("plane asked again for a refused image: %q", got)
	}
	if o.damage.Area() != 2*16*16 {
		t.Fatalf("motion damage = %v, want old and new 16x16", o.damage)
	}
	c.repaintOutputs()
	if px := dev.shadow.PixelARGB(100, 100); px&0xffffff != 0 {
		t.Fatalf("old cursor place = %#08x, want background", px)
	}
	if px := dev.shadow.PixelARGB(200, 100); px&0xffffff != 0x0000ff {
		t.Fatalf("new cursor place = %#08x, want blue", px)
	}
}

func TestCursorPlaneKeepsTheCursorOutOfTheFrame(t *testing.T) {
	dev := newPlaneOutput(320, 240, true)
	c, o, _ := cursorScene(t, dev, 0xff0000ff)
	o.damage.Add(image.Rect(0, 0, 320, 240))
	c.repaintOutputs()
	if px := dev.shadow.PixelARGB(100, 100); px&0xffffff != 0 {
		t.Fatalf("frame under a plane cursor = %#08x, want background only", px)
	}
	completeLongAgo(o)
	n := len(dev.presented)
	for i := range 10 {
		c.movePointer(float64(50+i), 50, 0)
		c.repaintOutputs()
	}
	if len(dev.presented) != n {
		t.Fatalf("pointer motion presented %d frames with the cursor on the plane", len(dev.presented)-n)
	}
}

func TestCursorPlaneWaitsForTheSession(t *testing.T) {
	dev := newPlaneOutput(320, 240, true)
	c, _, _ := cursorScene(t, dev, 0xff0000ff)
	dev.takeCalls()
	c.SetActive(false)
	c.movePointer(30, 30, 0)
	if got := dev.takeCalls(); len(got) != 0 {
		t.Fatalf("plane touched while the session is away: %q", got)
	}
	c.SetActive(true)
	if got := dev.takeCalls(); !equalCalls(got, "hide", "set 16x16 hot 4,4", "move 26,26") {
		t.Fatalf("plane calls on resume = %q", got)
	}
}

// scanPlaneOutput also scans client buffers out on its primary plane.
type scanPlaneOutput struct {
	*planeOutput
	scanouts int
}

func (s *scanPlaneOutput) DeviceID() uint64                    { return 1 }
func (s *scanPlaneOutput) ScanoutFormats() map[uint32][]uint64 { return nil }
func (s *scanPlaneOutput) Forget(uint64)                       {}
func (s *scanPlaneOutput) OverlayPlanes() []present.PlaneInfo  { return nil }
func (s *scanPlaneOutput) Commit(st present.State) error {
	if st.Scanout != nil {
		s.scanouts++
		return nil
	}
	return s.Present(st.Damage)
}

// TestCursorPlaneKeepsScanout: a fullscreen dma-buf surface still goes
// on the primary plane while the cursor is on its own plane, and is
// composited when the cursor has to be drawn over it.
func TestCursorPlaneKeepsScanout(t *testing.T) {
	for _, accept := range []bool{true, false} {
		dev := &scanPlaneOutput{planeOutput: newPlaneOutput(64, 48, accept)}
		c, o, _ := cursorScene(t, dev, 0xff0000ff)
		c.in.pointer = [2]float64{20, 20}
		c.damageCursor()
		win := testSurface(c, memDMA(t, 1, 64, 48, render.XRGB8888, 0xff00ff00))
		// What repaint shows (drawList itself needs a client's xdg
		// objects).
		o.show(o.withCursor([]drawItem{{s: win}}))
		if accept && (dev.scanouts != 1 || o.stats.Scanout != 1 || o.stats.Composited != 0) {
			t.Fatalf("cursor on its plane: scanouts=%d stats=%+v, want the window scanned out", dev.scanouts, o.stats)
		}
		if !accept && (dev.scanouts != 0 || o.stats.Composited != 1) {
			t.Fatalf("composited cursor: scanouts=%d stats=%+v, want a composited frame", dev.scanouts, o.stats)
		}
	}
}

// completeLongAgo completes o's frame as if its vblank was long past, so
// the next repaint is not held back for the repaint window.
func completeLongAgo(o *output) { o.frameDone(present.Info{Time: 1}) }

func TestHideCursorNeverShowsOne(t *testing.T) {
	dev := newPlaneOutput(320, 240, true)
	c, o, _ := cursorScene(t, dev, 0xffff0000)
	c.in.cfg.HideCursor = true
	c.setCursorVisible(false)
	dev.takeCalls()
	for i := range 5 {
		c.movePointer(float64(120+i), 100, 0)
	}
	if c.in.cursorShown {
		t.Fatal("--hide-cursor: pointer motion showed the cursor")
	}
	if got := dev.takeCalls(); len(got) != 0 {
		t.Fatalf("--hide-cursor: plane calls on motion = %q", got)
	}
	o.damage.Add(image.Rect(0, 0, 320, 240))
	c.repaintOutputs()
	if px := dev.shadow.PixelARGB(120, 100); px&0xffffff != 0 {
		t.Fatalf("--hide-cursor: composited frame has cursor pixel %#08x", px)
	}
}

// TestCursorAtScale: on a scale-2 output the cursor is drawn twice its
// size, at twice its logical position, on the plane (image, hotspot and
// position in the panel's pixels) and composited alike.
func TestCursorAtScale(t *testing.T) {
	scale2 := func(c *Config) { c.OutputScale = func(string) float64 { return 2 } }
	dev := newPlaneOutput(320, 240, true)
	c, _, _ := cursorScene(t, dev, 0xffff0000, scale2)
	if got := dev.takeCalls(); !equalCalls(got, "set 32x32 hot 8,8", "move 192,192") {
		t.Fatalf("plane calls = %q", got)
	}
	if px := dev.img.PixelARGB(31, 31); px != 0xffff0000 {
		t.Fatalf("cursor image pixel (31,31) = %#08x, want 0xffff0000", px)
	}
	c.movePointer(50, 20, 0)
	if got := dev.takeCalls(); !equalCalls(got, "move 92,32") {
		t.Fatalf("plane calls on motion = %q", got)
	}

	dev = newPlaneOutput(320, 240, false)
	c, o, _ := cursorScene(t, dev, 0xff0000ff, scale2)
	c.repaintOutputs()
	for _, p := range []image.Point{{192, 192}, {223, 223}} {
		if px := dev.shadow.PixelARGB(p.X, p.Y); px&0xffffff != 0x0000ff {
			t.Fatalf("composited cursor pixel %v = %#08x, want blue", p, px)
		}
	}
	for _, p := range []image.Point{{191, 192}, {224, 223}, {100, 100}} {
		if px := dev.shadow.PixelARGB(p.X, p.Y); px&0xffffff != 0 {
			t.Fatalf("pixel %v beside the cursor = %#08x, want background", p, px)
		}
	}
	completeLongAgo(o)
	c.movePointer(20, 20, 0)
	c.repaintOutputs()
	if px := dev.shadow.PixelARGB(200, 200); px&0xffffff != 0 {
		t.Fatalf("old cursor place = %#08x, want background after the move", px)
	}
	if px := dev.shadow.PixelARGB(32, 32); px&0xffffff != 0x0000ff {
		t.Fatalf("new cursor place = %#08x, want blue", px)
	}
}
