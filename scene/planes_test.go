package scene

import (
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/kms/dmabuf"
	"github.com/vitrine-wm/vitrine/protocol/wl"
	"github.com/vitrine-wm/vitrine/render"
	"github.com/vitrine-wm/vitrine/scene/present"
)

// memDMA is a w×h linear buffer of one colour (argb, premultiplied)
// stored in a memfd and described as a dma-buf, so the copy path maps
// it as it maps a real one (the sync ioctls fail harmlessly).
func memDMA(t *testing.T, key uint64, w, h int, f render.Format, argb uint32) *buffer {
	t.Helper()
	fd, err := unix.MemfdCreate("dmabuf", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	pix := make([]byte, w*h*4)
	for i := 0; i < len(pix); i += 4 {
		binary.LittleEndian.PutUint32(pix[i:], argb)
	}
	if _, err := unix.Write(fd, pix); err != nil {
		t.Fatal(err)
	}
	desc := dmabuf.Buffer{Width: w, Height: h, Format: uint32(f), Modifier: modLinear,
		Planes: []dmabuf.Plane{{FD: fd, Stride: uint32(w * 4)}}}
	return &buffer{width: w, height: h, format: f, opaque: !f.HasAlpha() || argb>>24 == 0xff, refs: 1,
		dma: &dmaBuffer{key: key, desc: desc}}
}

// solidBuffer is a w×h buffer of one colour in memory (as wl_shm would
// be: never on a plane).
func solidBuffer(w, h int, argb uint32) *buffer {
	img := render.NewImage(w, h, render.ARGB8888)
	for y := range h {
		for x := range w {
			img.SetPixelARGB(x, y, argb)
		}
	}
	return &buffer{solid: img, width: w, height: h, format: render.ARGB8888, opaque: argb>>24 == 0xff, refs: 1}
}

// testSurface is a mapped surface showing b at its size.
func testSurface(c *Compositor, b *buffer) *surface {
	s := &surface{c: c, scale: 1, width: b.width, height: b.height, entered: map[*output]bool{}}
	s.vpSrc[2] = -1
	s.vpDst = [2]int32{-1, -1}
	s.buf = b
	return s
}

// overlayOutput is a display with overlay planes that does what a
// display controller does with a state: its screen is the primary
// plane's content (the shadow as committed, or a client buffer) with
// each overlay layer drawn on top, scaled by render's scaler. refuse,
// when set, plays the driver's TEST_ONLY.
type overlayOutput struct {
	*planeOutput
	planes   []present.PlaneInfo
	refuse   func(present.State) error
	commits  []present.State
	screen   *render.Image // the primary plane
	composed *render.Image // what the display shows: primary and overlays
	t        *testing.T
}

func newOverlayOutput(t *testing.T, w, h, planes int) *overlayOutput {
	d := &overlayOutput{planeOutput: newPlaneOutput(w, h, true), screen: render.NewImage(w, h, render.XRGB8888), t: t}
	for i := range planes {
		d.planes = append(d.planes, present.PlaneInfo{ID: uint32(30 + i), Formats: map[uint32][]uint64{
			uint32(render.XRGB8888): {modLinear}, uint32(render.ARGB8888): {modLinear}}})
	}
	return d
}

func (d *overlayOutput) DeviceID() uint64                    { return 9 }
func (d *overlayOutput) ScanoutFormats() map[uint32][]uint64 { return nil }
func (d *overlayOutput) Forget(uint64)                       {}
func (d *overlayOutput) OverlayPlanes() []present.PlaneInfo  { return d.planes }

func (d *overlayOutput) Commit(st present.State) error {
	if len(st.Overlays) > len(d.planes) {
		return &present.OverlayError{Layer: len(d.planes), Err: errors.New("too many layers")}
	}
	if d.refuse != nil {
		if err := d.refuse(st); err != nil {
			return err
		}
	}
	rec := st
	rec.Damage = append([]image.Rectangle(nil), st.Damage...)
	rec.Overlays = append([]present.Layer(nil), st.Overlays...)
	d.commits = append(d.commits, rec)
	full := d.screen.Bounds()
	if st.Scanout != nil {
		render.Draw(d.screen, render.Layer{Src: d.mapped(st.Scanout.Buffer), SrcRect: full, Dst: full, Opaque: true}, full)
	} else {
		d.Present(st.Damage)
		// The primary plane shows the shadow: only the damage was sent,
		// the rest is what the display already had.
		for _, r := range st.Damage {
			render.Draw(d.screen, render.Layer{Src: d.shadow, SrcRect: r, Dst: r, Opaque: true}, r)
		}
	}
	// The screen as composed by the display: overlays above the primary,
	// which this fake keeps separately so the next frame's primary
	// damage lands under them.
	d.composed = render.NewImage(full.Dx(), full.Dy(), render.XRGB8888)
	render.Draw(d.composed, render.Layer{Src: d.screen, SrcRect: full, Dst: full, Opaque: true}, full)
	for _, l := range st.Overlays {
		src := image.Rect(int(l.Src.X>>16), int(l.Src.Y>>16), int((l.Src.X+l.Src.W)>>16), int((l.Src.Y+l.Src.H)>>16))
		render.Draw(d.composed, render.Layer{Src: d.mapped(l.Buffer), SrcRect: src, Dst: l.Dst, Opaque: l.Opaque}, l.Dst)
	}
	return nil
}

func (d *overlayOutput) mapped(b *dmabuf.Buffer) *render.Image {
	m, err := dmabuf.Map(b, 4)
	if err != nil {
		d.t.Fatal(err)
	}
	d.t.Cleanup(func() { m.Close() })
	return &render.Image{Pix: m.Pix, Stride: m.Stride, Width: b.Width, Height: b.Height, Format: render.Format(b.Format)}
}

// reference is the whole picture of list composited by the CPU: what
// the screen must show whichever plane each surface is on.
func reference(o *output, list []drawItem) *render.Image {
	img := render.NewImage(o.width, o.height, render.XRGB8888)
	o.composite(img, list, img.Bounds())
	return img
}

func samePixels(a, b *render.Image) error {
	for y := range a.Height {
		for x := range a.Width {
			if pa, pb := a.PixelARGB(x, y)&0xffffff, b.PixelARGB(x, y)&0xffffff; pa != pb {
				return fmt.Errorf("pixel %d,%d is %#06x, want %#06x", x, y, pa, pb)
			}
		}
	}
	return nil
}

// videoScene is a 64x48 output showing a composited fullscreen
// toplevel (wl_shm-like) with a 16x12 dma-buf video subsurface at 20,10,
// as the scene graph draws them.
func videoScene(t *testing.T, dev Output) (*Compositor, *output, *surface, *surface) {
	c, o, _ := cursorScene(t, dev, 0xff0000ff)
	c.in.cursorShown = false
	c.damageCursor()
	top := testSurface(c, solidBuffer(64, 48, 0xff204060))
	vid := testSurface(c, memDMA(t, 1, 16, 12, render.XRGB8888, 0xffc08000))
	top.above = []*subsurface{{surface: vid, parent: top, pos: image.Pt(20, 10)}}
	// No client: the scene graph only asks the surface for its client's
	// popups, and there are none.
	top.res = &wl.Surface{}
	xs := &xdgSurface{c: c, surface: top, mapped: true}
	xs.toplevel = &toplevel{xs: xs, out: o}
	c.toplevels = append(c.toplevels, xs.toplevel)
	o.damage.Add(image.Rect(0, 0, 64, 48))
	return c, o, top, vid
}

// frame paints the next frame as repaint does and completes it.
func frame(o *output) {
	o.repaint()
	completeLongAgo(o)
}

var videoRect = image.Rect(20, 10, 36, 22)

// TestPlanVideoOnOverlay: a video subsurface inside a composited
// toplevel goes on an overlay plane, its area is cut out of the damage
// (not composited, not sent), the screen is pixel-exact, a new video
// buffer is a frame with no primary damage, and a screen copy (the
// shadow) shows the video too.
func TestPlanVideoOnOverlay(t *testing.T) {
	dev := newOverlayOutput(t, 64, 48, 2)
	c, o, _, vid := videoScene(t, dev)
	frame(o)
	if len(dev.commits) != 1 {
		t.Fatalf("%d commits for one frame, want 1", len(dev.commits))
	}
	st := dev.commits[0]
	if len(st.Overlays) != 1 || st.Overlays[0].Dst != videoRect || st.Overlays[0].Key != 1 || !st.Overlays[0].Opaque {
		t.Fatalf("overlays %+v, want the video at %v", st.Overlays, videoRect)
	}
	if got, want := render.Damage(st.Damage).Area(), 64*48-16*12; got != want || overlapsAny(st.Damage, videoRect) {
		t.Fatalf("primary damage %v (%d pixels), want the screen less the video (%d)", st.Damage, got, want)
	}
	want := reference(o, c.drawList(o))
	if err := samePixels(dev.composed, want); err != nil {
		t.Fatalf("screen with the video on an overlay: %v", err)
	}
	// The video's next buffer.
	vid.buf = memDMA(t, 2, 16, 12, render.XRGB8888, 0xff10e020)
	o.damage.Add(videoRect)
	frame(o)
	st = dev.commits[1]
	if len(st.Damage) != 0 || len(st.Overlays) != 1 || st.Overlays[0].Key != 2 {
		t.Fatalf("video frame: damage %v, overlays %+v; want no damage, the new buffer on the plane", st.Damage, st.Overlays)
	}
	if err := samePixels(dev.composed, reference(o, c.drawList(o))); err != nil {
		t.Fatalf("screen after the video's next frame: %v", err)
	}
	if o.stats.Composited != 2 || len(o.stats.Overlays) != 1 || o.stats.Overlays[0] != 2 || o.stats.Scanout != 0 {
		t.Errorf("stats %+v, want 2 composited frames with overlay0=2", o.stats)
	}
	if s := o.stats.String(); !contains(s, " overlay0=2") {
		t.Errorf("stats line %q lacks overlay0=2", s)
	}
	// A screen copy reads the shadow: the video must be in it.
	o.refreshShadow()
	if err := samePixels(dev.shadow, reference(o, c.drawList(o))); err != nil {
		t.Fatalf("shadow for a screen copy: %v", err)
	}
	// The video gone: its area is composited again.
	c.toplevels[0].xs.surface.above = nil
	o.damage.Add(videoRect)
	frame(o)
	st = dev.commits[2]
	if len(st.Overlays) != 0 || render.Damage(st.Damage).Area() != 16*12 {
		t.Fatalf("after the video left: overlays %+v, damage %v", st.Overlays, st.Damage)
	}
	if err := samePixels(dev.composed, reference(o, c.drawList(o))); err != nil {
		t.Fatalf("screen after the video left: %v", err)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// TestPlanCoveredSurfaceIsComposited: a surface partly under a
// composited one cannot go on an overlay (the composited picture is
// below every overlay); one beside it can.
func TestPlanCoveredSurfaceIsComposited(t *testing.T) {
	for _, c := range []struct {
		name    string
		at      image.Point
		overlay bool
	}{
		{"overlapping", image.Pt(30, 16), false},
		{"beside", image.Pt(40, 30), true},
	} {
		dev := newOverlayOutput(t, 64, 48, 2)
		comp, o, top, _ := videoScene(t, dev)
		popup := testSurface(comp, solidBuffer(20, 12, 0xffe0e0e0))
		top.above = append(top.above, &subsurface{surface: popup, parent: top, pos: c.at})
		frame(o)
		st := dev.commits[0]
		if (len(st.Overlays) == 1) != c.overlay {
			t.Errorf("%s: overlays %+v, want overlay=%v", c.name, st.Overlays, c.overlay)
		}
		if err := samePixels(dev.composed, reference(o, comp.drawList(o))); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// TestPlanRefusalFallsBackToCompositing: when the planes refuse a set
// of layers, the smallest is dropped and tried again until the state
// passes; what is dropped is composited in the same frame, the screen is
// pixel-exact either way, and the next frame of that shape commits at
// once (the refusal is remembered, no new trial).
func TestPlanRefusalFallsBackToCompositing(t *testing.T) {
	dev := newOverlayOutput(t, 64, 48, 2)
	c, o, top, _ := videoScene(t, dev)
	big := testSurface(c, memDMA(t, 3, 24, 20, render.XRGB8888, 0xff8000ff))
	top.above = append(top.above, &subsurface{surface: big, parent: top, pos: image.Pt(38, 24)})
	tries := 0
	dev.refuse = func(st present.State) error {
		tries++
		if len(st.Overlays) > 1 {
			return &present.OverlayError{Layer: -1, Err: errors.New("TEST_ONLY: EINVAL")}
		}
		return nil
	}
	frame(o)
	if tries != 2 || len(dev.commits) != 1 {
		t.Fatalf("%d tries, %d commits; want a refusal then one commit", tries, len(dev.commits))
	}
	st := dev.commits[0]
	if len(st.Overlays) != 1 || st.Overlays[0].Key != 3 {
		t.Fatalf("overlays after the reduction %+v, want the bigger layer (key 3) kept", st.Overlays)
	}
	if !overlapsAny(st.Damage, videoRect) {
		t.Fatalf("damage %v: the dropped video was not composited", st.Damage)
	}
	if err := samePixels(dev.composed, reference(o, c.drawList(o))); err != nil {
		t.Fatalf("screen after the reduction: %v", err)
	}
	o.damage.Add(videoRect)
	frame(o)
	if tries != 3 || len(dev.commits[1].Overlays) != 1 {
		t.Fatalf("steady frame: %d tries in all (want 3: the shape is known), overlays %+v", tries, dev.commits[1].Overlays)
	}
	// Everything refused: all composited, still pixel-exact.
	dev.refuse = func(st present.State) error {
		if len(st.Overlays) > 0 {
			return &present.OverlayError{Layer: -1, Err: errors.New("TEST_ONLY: EINVAL")}
		}
		return nil
	}
	big.buf = memDMA(t, 4, 24, 20, render.XRGB8888, 0xff0080ff)
	o.damage.Add(big.sizeRect().Add(image.Pt(38, 24)))
	frame(o)
	last := dev.commits[len(dev.commits)-1]
	if len(last.Overlays) != 0 {
		t.Fatalf("all refused: overlays %+v", last.Overlays)
	}
	if err := samePixels(dev.composed, reference(o, c.drawList(o))); err != nil {
		t.Fatalf("screen with every layer composited: %v", err)
	}
}

// TestPlanScaledLayer: a viewported (scaled) surface is offered with
// its source and destination; a display that cannot scale refuses it
// and the CPU scaler composites it, pixel-exact with the reference.
func TestPlanScaledLayer(t *testing.T) {
	dev := newOverlayOutput(t, 64, 48, 1)
	c, o, _, vid := videoScene(t, dev)
	vid.vpDst = [2]int32{32, 24}
	vid.updateSize()
	dev.refuse = func(st present.State) error {
		for _, l := range st.Overlays {
			if int(l.Src.W>>16) != l.Dst.Dx() || int(l.Src.H>>16) != l.Dst.Dy() {
				return &present.OverlayError{Layer: -1, Err: errors.New("no scaling")}
			}
		}
		return nil
	}
	frame(o)
	last := dev.commits[len(dev.commits)-1]
	if len(last.Overlays) != 0 {
		t.Fatalf("scaled layer on a plane that cannot scale: %+v", last.Overlays)
	}
	if err := samePixels(dev.composed, reference(o, c.drawList(o))); err != nil {
		t.Fatalf("scaled video composited: %v", err)
	}
	// A plane that scales takes it: Src is the buffer, Dst the viewport.
	dev2 := newOverlayOutput(t, 64, 48, 1)
	c2, o2, _, vid2 := videoScene(t, dev2)
	vid2.vpDst = [2]int32{32, 24}
	vid2.updateSize()
	frame(o2)
	l := dev2.commits[0].Overlays
	if len(l) != 1 || l[0].Src != present.Fixed16(image.Rect(0, 0, 16, 12)) || l[0].Dst != image.Rect(20, 10, 52, 34) {
		t.Fatalf("scaled layer %+v", l)
	}
	if err := samePixels(dev2.composed, reference(o2, c2.drawList(o2))); err != nil {
		t.Fatalf("scaled video on the plane: %v", err)
	}
}
