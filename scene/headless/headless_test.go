package headless

import (
	"image"
	"testing"
	"time"

	"github.com/vitrine-wm/vitrine/protocol/eventloop"
	"github.com/vitrine-wm/vitrine/render"
	"github.com/vitrine-wm/vitrine/scene/present"
)

func TestParseMode(t *testing.T) {
	for _, tc := range []struct {
		in          string
		w, h, mhz   int
		wantFailure bool
	}{
		{"1920x1080", 1920, 1080, 60000, false},
		{"800x600@75", 800, 600, 75000, false},
		{"1280x720@59.94", 1280, 720, 59940, false},
		{"0x600", 0, 0, 0, true},
		{"800", 0, 0, 0, true},
		{"99999x10", 0, 0, 0, true},
	} {
		w, h, mhz, err := ParseMode(tc.in)
		if (err != nil) != tc.wantFailure || w != tc.w || h != tc.h || mhz != tc.mhz {
			t.Errorf("ParseMode(%q) = %d %d %d %v", tc.in, w, h, mhz, err)
		}
	}
}

func TestPresentCompletesOnVblankGrid(t *testing.T) {
	loop, err := eventloop.New()
	if err != nil {
		t.Fatal(err)
	}
	defer loop.Close()
	var done []present.Info
	o, err := New(loop, "H", 64, 32, 100000, render.Rotate90, func(i present.Info) { done = append(done, i) })
	if err != nil {
		t.Fatal(err)
	}
	if s := o.Shadow(); s.Width != 32 || s.Height != 64 {
		t.Fatalf("rotated output's shadow is %dx%d, want 32x64", s.Width, s.Height)
	}
	var last present.Info
	for i := 0; i < 3; i++ {
		if err := o.Present([]image.Rectangle{image.Rect(0, 0, 10, 10)}); err != nil {
			t.Fatal(err)
		}
		for len(done) == 0 {
			if err := loop.Dispatch(time.Second); err != nil {
				t.Fatal(err)
			}
		}
		info := done[0]
		done = done[:0]
		if info.Refresh != 10*time.Millisecond {
			t.Fatalf("refresh %v, want 10ms at 100 Hz", info.Refresh)
		}
		if (info.Time-o.epoch)%info.Refresh != 0 {
			t.Fatalf("completion at %v is off the vblank grid", info.Time-o.epoch)
		}
		if i > 0 && info.Seq <= last.Seq {
			t.Fatalf("sequence did not advance: %d after %d", info.Seq, last.Seq)
		}
		last = info
	}
	if got := o.CopiedBytes(); got != 3*10*10*4 {
		t.Fatalf("copied %d bytes, want the damage (1200)", got)
	}
}
