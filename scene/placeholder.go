package scene

import (
	"image"

	"github.com/vitrine-wm/vitrine/protocol/eventloop"
	"github.com/vitrine-wm/vitrine/render"
	"github.com/vitrine-wm/vitrine/scene/present"
)

// Placeholder output: while no display is connected, clients still see
// one wl_output. Chromium waits for an output's done before it starts,
// mpv and foot refuse to start without one, and a fullscreen kiosk
// whose output disappears leaves fullscreen. So the last output never
// goes away: it stands in, drawn nowhere, until a display comes back
// and takes its place under the same wl_output.

// PlaceholderMode is the mode of the stand-in output when nothing better
// is known (no display was ever lit and no connector reported a mode).
var PlaceholderMode = Mode{Width: 1920, Height: 1080, RefreshMilliHz: 60000}

// placeholderDisplay is the Output a placeholder stands on: it has a
// mode and a name, and Present is never called (frames there are paced
// by the scene's idle timer, see repaintOutputs).
type placeholderDisplay struct {
	name, desc string
	mode       Mode
	mmW, mmH   int
	transform  render.Transform
	shadow     *render.Image
}

func (p *placeholderDisplay) Name() string        { return p.name }
func (p *placeholderDisplay) Description() string { return p.desc }
func (p *placeholderDisplay) Mode() (int, int, int) {
	return p.mode.Width, p.mode.Height, p.mode.RefreshMilliHz
}
func (p *placeholderDisplay) PhysicalSize() (int, int)    { return p.mmW, p.mmH }
func (p *placeholderDisplay) Transform() render.Transform { return p.transform }

// Shadow is allocated only when something reads it (a screen copy of
// the placeholder, which shows black): composing for nobody is waste.
func (p *placeholderDisplay) Shadow() *render.Image {
	if p.shadow == nil {
		w, h := p.transform.TransformSize(p.mode.Width, p.mode.Height)
		p.shadow = render.NewImage(w, h, render.XRGB8888)
		render.Fill(p.shadow, image.Rect(0, 0, w, h), 0xff000000, image.Rect(0, 0, w, h))
	}
	return p.shadow
}
func (p *placeholderDisplay) Present([]image.Rectangle) error { return nil }
func (p *placeholderDisplay) CopiedBytes() int64              { return 0 }
func (p *placeholderDisplay) Close() error                    { return nil }

// AddPlaceholder gives clients an output when the backend starts with no
// display connected: named name (the connector that will most likely
// light up, so clients that match outputs by name keep working) with
// mode, or PlaceholderMode when mode is zero. It does nothing when an
// output exists.
func (c *Compositor) AddPlaceholder(name string, mode Mode) {
	if len(c.outputs) > 0 {
		return
	}
	if mode.Width <= 0 || mode.Height <= 0 {
		mode = PlaceholderMode
	}
	if mode.RefreshMilliHz <= 0 {
		mode.RefreshMilliHz = PlaceholderMode.RefreshMilliHz
	}
	if name == "" {
		name = "PLACEHOLDER-1"
	}
	c.AddOutput(&placeholderDisplay{name: name, desc: "no display connected", mode: mode})
}

func (o *output) isPlaceholder() bool {
	_, ok := o.dev.(*placeholderDisplay)
	return ok
}

// becomePlaceholder turns o, the last output, into the stand-in for its
// display, which is gone: same size, same wl_output, nothing drawn.
func (c *Compositor) becomePlaceholder(o *output) {
	if o.inFlight {
		// The display's completion will never come.
		o.frameDone(present.Info{Time: eventloop.Now(), Refresh: o.refresh, Seq: o.seq})
	}
	o.dropPlane()
	o.copiedBefore += o.dev.CopiedBytes()
	dev := o.dev
	w, h, mhz := dev.Mode()
	mmw, mmh := dev.PhysicalSize()
	o.dev = &placeholderDisplay{name: dev.Name(), desc: dev.Description(), mode: Mode{Width: w, Height: h, RefreshMilliHz: mhz}, mmW: mmw, mmH: mmh, transform: dev.Transform()}
	o.cursor = cursorPlaneState{}
	o.damage = o.damage[:0]
	o.shadowStale, o.fullPresent = false, false
	o.repaintTimer.Stop()
	c.log.Info("placeholder output", "output", dev.Name(), "size", image.Pt(w, h), "refresh_mhz", mhz,
		"why", "the last display is gone; clients keep this output until one comes back", "event", "output.placeholder")
	c.outputMgmt.outputsChanged()
}

// adoptDisplay puts dev under the placeholder o: clients keep their
// wl_output, and are sent a new mode (and their windows a configure)
// only when dev's differs.
func (c *Compositor) adoptDisplay(o *output, dev Output) {
	old := o.dev
	ow, oh, omhz := old.Mode()
	o.dev = dev
	o.revoked = false
	// The display comes lit; switch it off if the placeholder was.
	o.powerOn = true
	defer c.applyPower(o)
	o.damage = o.damage[:0]
	o.damage.Add(image.Rect(0, 0, o.width, o.height))
	o.fullPresent = true
	w, h, mhz := dev.Mode()
	c.log.Info("output added", "name", dev.Name(), "description", dev.Description(), "size", image.Pt(w, h), "refresh_mhz", mhz,
		"transform", dev.Transform().String(), "replaces_placeholder", old.Name(), "event", "output.added")
	resized := (Mode{Width: w, Height: h, RefreshMilliHz: mhz}) != (Mode{Width: ow, Height: oh, RefreshMilliHz: omhz}) || dev.Transform() != old.Transform()
	if s := c.initialScale(dev.Name()); s != o.scale {
		// The display that came has a --scale of its own.
		o.scale, resized = s, true
	}
	if dev.Description() != old.Description() {
		for _, cs := range c.clients {
			for _, res := range cs.outputs[o] {
				if res.Version() >= 4 {
					res.SendDescription(dev.Description())
					if !resized {
						res.SendDone()
					}
				}
			}
		}
	}
	if resized {
		// outputResized reads the new size, tells the clients (done
		// included) and reconfigures their windows.
		c.outputResized(o)
	}
	c.outputMgmt.outputsChanged()
}

// dropPlane gives back the client buffers the display was showing: the
// display is gone, and with it the planes.
func (o *output) dropPlane() {
	for _, b := range o.pendingScreen {
		b.scanouts--
		b.unref()
	}
	o.pendingScreen = emptied(o.pendingScreen)
	o.leavePlanes()
	o.cut = o.cut[:0]
}
