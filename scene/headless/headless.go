// Package headless is an output with no display: an in-memory
// framebuffer paced at a fixed refresh rate. It serves tests, CI and
// machines without a display, and is the reference the KMS output is
// compared with.
package headless

import (
	"fmt"
	"image"
	"time"

	"github.com/vitrine-wm/vitrine/protocol/eventloop"
	"github.com/vitrine-wm/vitrine/render"
	"github.com/vitrine-wm/vitrine/scene"
	"github.com/vitrine-wm/vitrine/scene/present"
)

// Output is a headless display. Its framebuffer is the shadow image
// itself, so presenting copies nothing; CopiedBytes counts the damaged
// bytes a real display would have received, to keep the stats line
// comparable across backends. Its vblank is a timer on the compositor's
// loop, so a frame's completion never leaves the loop's thread.
type Output struct {
	name      string
	desc      string
	preferred scene.Mode // the mode it was made with
	width     int
	height    int
	transform render.Transform
	shadow    *render.Image
	notify    func(present.Info)

	mhz    int
	epoch  time.Duration // CLOCK_MONOTONIC time of vblank 0
	copied int64
	vblank *eventloop.Timer
	seq    uint64
}

// New makes a w×h output refreshing at mhz millihertz (60000 for 60 Hz)
// whose frames complete on loop: notify runs there.
func New(loop *eventloop.Loop, name string, w, h, mhz int, t render.Transform, notify func(present.Info)) (*Output, error) {
	if w <= 0 || h <= 0 || w > 16384 || h > 16384 {
		return nil, fmt.Errorf("headless output size %dx%d out of range (1..16384)", w, h)
	}
	if mhz <= 0 {
		mhz = 60000
	}
	lw, lh := t.TransformSize(w, h)
	o := &Output{
		name: name, width: w, height: h, mhz: mhz, transform: t,
		// Fixed at creation: clients are told the description once.
		desc:      fmt.Sprintf("vitrine headless output %dx%d", w, h),
		preferred: scene.Mode{Width: w, Height: h, RefreshMilliHz: mhz},
		shadow:    render.NewImage(lw, lh, render.XRGB8888),
		notify:    notify,
		epoch:     eventloop.Now(),
	}
	o.vblank = loop.NewTimer(o.completed)
	return o, nil
}

// commonModes are offered besides the one the output was made with, so
// mode changes (wlr-randr --mode) can be tried without a display.
var commonModes = []scene.Mode{
	{Width: 1920, Height: 1080, RefreshMilliHz: 60000},
	{Width: 1280, Height: 720, RefreshMilliHz: 60000},
	{Width: 1024, Height: 768, RefreshMilliHz: 60000},
	{Width: 800, Height: 600, RefreshMilliHz: 60000},
	{Width: 640, Height: 480, RefreshMilliHz: 60000},
}

// Modes lists the mode the output was made with, then common ones.
func (o *Output) Modes() []scene.Mode {
	modes := []scene.Mode{o.preferred}
	for _, m := range commonModes {
		if m != o.preferred {
			modes = append(modes, m)
		}
	}
	return modes
}

// SetMode takes any size a headless output can have: there is no
// display to refuse it. The shadow image is replaced and starts black.
func (o *Output) SetMode(m scene.Mode) error {
	if m.RefreshMilliHz == 0 {
		m.RefreshMilliHz = 60000
	}
	if m.Width <= 0 || m.Height <= 0 || m.Width > 16384 || m.Height > 16384 || m.RefreshMilliHz < 0 {
		return fmt.Errorf("headless output mode %v out of range (1..16384 pixels)", m)
	}
	o.width, o.height, o.mhz = m.Width, m.Height, m.RefreshMilliHz
	o.resize()
	return nil
}

// SetTransform rotates the output; the shadow image gets the rotated
// size and starts black.
func (o *Output) SetTransform(t render.Transform) error {
	if !t.Valid() {
		return fmt.Errorf("transform %d is not a wl_output transform", t)
	}
	o.transform = t
	o.resize()
	return nil
}

func (o *Output) resize() {
	lw, lh := o.transform.TransformSize(o.width, o.height)
	o.shadow = render.NewImage(lw, lh, render.XRGB8888)
}

// ParseMode parses WxH or WxH@Hz (Hz may have decimals).
func ParseMode(s string) (w, h, mhz int, err error) {
	var hz float64
	if n, _ := fmt.Sscanf(s, "%dx%d@%g", &w, &h, &hz); n == 3 {
		mhz = int(hz*1000 + 0.5)
	} else if n, _ := fmt.Sscanf(s, "%dx%d", &w, &h); n == 2 {
		mhz = 60000
	} else {
		return 0, 0, 0, fmt.Errorf("mode %q: want WIDTHxHEIGHT or WIDTHxHEIGHT@HZ, e.g. 1920x1080@60", s)
	}
	if w <= 0 || h <= 0 || mhz <= 0 || w > 16384 || h > 16384 {
		return 0, 0, 0, fmt.Errorf("mode %q is out of range", s)
	}
	return w, h, mhz, nil
}

func (o *Output) Name() string                { return o.name }
func (o *Output) Description() string         { return o.desc }
func (o *Output) Mode() (int, int, int)       { return o.width, o.height, o.mhz }
func (o *Output) PhysicalSize() (int, int)    { return 0, 0 }
func (o *Output) Transform() render.Transform { return o.transform }
func (o *Output) Shadow() *render.Image       { return o.shadow }
func (o *Output) Close() error {
	o.vblank.Stop()
	return nil
}

func (o *Output) CopiedBytes() int64 { return o.copied }

func (o *Output) period() time.Duration { return time.Duration(1e12 / int64(o.mhz)) }

// Present completes at the next vblank of a clock phase-locked to the
// output's creation, like a display scanning out at a fixed rate.
func (o *Output) Present(damage []image.Rectangle) error {
	for _, r := range damage {
		o.copied += int64(r.Dx() * r.Dy() * 4)
	}
	p := o.period()
	next := (eventloop.Now()-o.epoch)/p + 1
	o.seq = uint64(next)
	o.vblank.Set(o.epoch + next*p)
	return nil
}

// ScanoutImage shows a client's fullscreen image instead of the shadow:
// a display whose memory is the CPU's takes any buffer as it is, so
// nothing is copied (wlroots' headless backend does the same).
func (o *Output) ScanoutImage(*render.Image) error {
	return o.Present(nil)
}

func (o *Output) completed() {
	o.notify(present.Info{Time: o.vblank.Deadline(), Seq: o.seq, Refresh: o.period(), Flags: present.VSync})
}
