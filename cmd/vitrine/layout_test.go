package main

import (
	"io"
	"strings"
	"testing"

	"github.com/vitrine-wm/vitrine/scene"
)

func TestLayoutDefault(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want scene.Layout
	}{
		{nil, scene.LayoutDesktop},
		{[]string{"--restart", "--", "foot"}, scene.LayoutKiosk},
		{[]string{"--restart", "--layout", "desktop"}, scene.LayoutDesktop},
		{[]string{"--layout", "kiosk", "--", "foot"}, scene.LayoutKiosk},
	} {
		o, err := parseFlags(tc.args, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := o.sceneLayout(); got != tc.want {
			t.Errorf("%v: layout %v, want %v", tc.args, got, tc.want)
		}
	}
	if _, err := parseFlags([]string{"--layout", "tiling"}, io.Discard); err == nil || !strings.Contains(err.Error(), "want desktop or kiosk") {
		t.Errorf("--layout tiling: err %v, want one naming the choices", err)
	}
}
