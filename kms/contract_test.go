package kms

import (
	"testing"

	"github.com/vitrine-wm/vitrine/render"
)

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
