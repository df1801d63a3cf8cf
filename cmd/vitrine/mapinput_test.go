package main

import (
	"io"
	"strings"
	"testing"

	"github.com/vitrine-wm/vitrine/seat"
)

func TestMapInputFlag(t *testing.T) {
	o, err := parseFlags([]string{"--map-input", "ILITEK ILITEK-TP=HDMI-A-2", "--map-input", "/dev/input/event3=DSI-1"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := []seat.InputMapping{{Device: "ILITEK ILITEK-TP", Output: "HDMI-A-2"}, {Device: "/dev/input/event3", Output: "DSI-1"}}
	if len(o.mapInput) != 2 || o.mapInput[0] != want[0] || o.mapInput[1] != want[1] {
		t.Fatalf("parsed %v, want %v", o.mapInput, want)
	}
	for _, bad := range [][]string{{"touch"}, {"=HDMI-A-1"}, {"touch="}, {"t=A", "--map-input", "t=B"}} {
		if _, err := parseFlags(append([]string{"--map-input"}, bad...), io.Discard); err == nil {
			t.Errorf("--map-input %v accepted", bad)
		} else if !strings.Contains(err.Error(), "DEVICE=OUTPUT") && !strings.Contains(err.Error(), "already mapped") {
			t.Errorf("--map-input %v: unclear error %v", bad, err)
		}
	}
}
