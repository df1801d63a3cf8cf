package kms

import (
	"image"
	"testing"
	"time"

	"github.com/vitrine-wm/vitrine/render"
)

// sceneOutput is the compositor's Output interface (declared in package
// scene, which kms must not import), copied here so a change on either side
// shows up as a compile error in this test.
type sceneOutput interface {
	Name() string
	Description() string
	Mode() (width, height, refreshMilliHz int)
	PhysicalSize() (mmWidth, mmHeight int)
	Transform() render.Transform
	Shadow() *render.Image
	Present(damage []image.Rectangle) error
	CopiedBytes() int64
	Close() error
}

var _ sceneOutput = (*Output)(nil)

func TestPresentInfoMonotonic(t *testing.T) {
	p := PresentInfo{Sec: 12, Nsec: 345}
	if got := p.Monotonic(); got != 12*time.Second+345 {
		t.Errorf("Monotonic = %v", got)
	}
}

func TestRotationBits(t *testing.T) {
	for _, c := range []struct {
		t    render.Transform
		want uint64
	}{
		{render.Normal, 1 << 0},
		{render.Rotate90, 1 << 1},
		{render.Rotate180, 1 << 2},
		{render.Rotate270, 1 << 3},
		{render.Flipped, 1<<0 | 1<<4},
		{render.Flipped90, 1<<1 | 1<<4},
	} {
		if got := rotationBits(c.t); got != c.want {
			t.Errorf("rotationBits(%v) = %#x, want %#x", c.t, got, c.want)
		}
	}
}

func TestOptionsConfigFor(t *testing.T) {
	o := Options{
		OutputConfig: OutputConfig{Mode: "1280x720", Rotate: render.Rotate90},
		PerOutput:    map[string]OutputConfig{"HDMI-A-1": {Mode: "1920x1080@60"}},
	}
	// A named output's configuration is whole: its zero rotation is
	// upright, not "whatever the default is".
	c, err := o.configFor("HDMI-A-1")
	if err != nil || c.Mode != "1920x1080@60" || c.Rotate != render.Normal {
		t.Errorf("HDMI-A-1: %+v, %v", c, err)
	}
	c, err = o.configFor("DP-1")
	if err != nil || c.Mode != "1280x720" {
		t.Errorf("DP-1: %+v, %v", c, err)
	}
	o.Rotate = 9
	if _, err := o.configFor("DP-1"); err == nil {
		t.Error("invalid transform accepted")
	}
}
