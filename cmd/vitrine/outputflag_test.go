package main

import (
	"io"
	"maps"
	"strings"
	"testing"

	"github.com/vitrine-wm/vitrine/kms"
	"github.com/vitrine-wm/vitrine/render"
)

func TestPerOutputFlags(t *testing.T) {
	o, err := parseFlags(strings.Fields("--rotate 90 --rotate HDMI-A-1=0 --mode DP-1=1280x720@60 --mode 1024x768 --rotate DP-2=270"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	def, per := o.kmsConfig()
	if want := (kms.OutputConfig{Mode: "1024x768", Rotate: render.Rotate90}); def != want {
		t.Errorf("default %+v, want %+v", def, want)
	}
	want := map[string]kms.OutputConfig{
		"HDMI-A-1": {Mode: "1024x768", Rotate: render.Normal},
		"DP-1":     {Mode: "1280x720@60", Rotate: render.Rotate90},
		"DP-2":     {Mode: "1024x768", Rotate: render.Rotate270},
	}
	if !maps.Equal(per, want) {
		t.Errorf("per output %+v, want %+v", per, want)
	}
	if got := o.transformFor("HEADLESS-1"); got != render.Rotate90 {
		t.Errorf("HEADLESS-1 rotated %v, want 90", got)
	}

	o, err = parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if def, per := o.kmsConfig(); def != (kms.OutputConfig{}) || len(per) != 0 {
		t.Errorf("no flags: default %+v, per output %+v", def, per)
	}
}

func TestPerOutputFlagsRejected(t *testing.T) {
	for _, args := range []string{
		"--rotate 45",
		"--rotate HDMI-A-1=45",
		"--rotate =90",
		"--mode 1024by768",
		"--mode DP-1=fast",
		"--scale 0",
		"--scale two",
		"--scale HDMI-A-1=11",
		"--scale -1",
	} {
		if _, err := parseFlags(strings.Fields(args), io.Discard); err == nil {
			t.Errorf("%s: accepted", args)
		}
	}
}

func TestScaleFlag(t *testing.T) {
	o, err := parseFlags(strings.Fields("--scale 1.5 --scale HDMI-A-1=2 --scale DP-1=1"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]float64{"HEADLESS-1": 1.5, "HDMI-A-1": 2, "DP-1": 1} {
		if got := o.scaleFor(name); got != want {
			t.Errorf("%s: scale %g, want %g", name, got, want)
		}
	}
	if o, _ = parseFlags(nil, io.Discard); o.scaleFor("HDMI-A-1") != 0 {
		t.Errorf("no --scale: scale %g, want 0 (the scene's default, 1)", o.scaleFor("HDMI-A-1"))
	}
}
