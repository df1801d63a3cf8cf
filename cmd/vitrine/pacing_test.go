package main

import (
	"fmt"
	"testing"
	"time"
)

// TestClientsEachGetTheFullRefreshRate runs clients that redraw on every
// frame callback side by side on one 60 Hz output (small windows, all
// visible: kiosk centres them): each must get at
// least 90 % of the refresh rate. With repaints started the moment a
// frame completed, two clients each got 30 frames a second.
func TestClientsEachGetTheFullRefreshRate(t *testing.T) {
	for _, n := range []int{2, 10} {
		t.Run(fmt.Sprintf("%d clients", n), func(t *testing.T) {
			const frames = 150
			c := startVitrine(t, "--output", "640x480@60")
			var outs []*lineWaiter
			for i := 0; i < n; i++ {
				_, out := c.client("shm-client", "--pattern", "moving-box", "--size", "96x96", "--fixed-size", "--frames", fmt.Sprint(frames))
				outs = append(outs, out)
			}
			for i, out := range outs {
				_, start := out.waitAt(t, `^first-frame `, 10*time.Second)
				_, end := out.waitAt(t, `^final-box .* frames=`+fmt.Sprint(frames)+`$`, 30*time.Second)
				// first-frame follows frame 1's callback, final-box frame
				// N's: N-1 refresh periods apart.
				rate := float64(frames-1) / end.Sub(start).Seconds()
				t.Logf("client %d: %d frames in %v: %.1f frames/s", i, frames-1, end.Sub(start).Round(time.Millisecond), rate)
				if rate < 0.9*60 {
					t.Errorf("client %d of %d got %.1f frames/s, want at least 54 (90%% of 60 Hz)", i, n, rate)
				}
			}
		})
	}
}
