package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestClientsEachGetTheFullRefreshRate runs clients that redraw on every
// frame callback side by side on one 60 Hz output (small windows, all
// visible: kiosk centres them): each must get at least 90 % of the
// refresh rate. With repaints started the moment a frame completed, two
// clients each got 30 frames a second.
//
// A run is wall-clock bound, so CPU taken by other work on the machine
// (CI runs QEMU beside it) can make one short of 54 frames/s; the test
// takes the best of three runs. The fault it guards against halves the
// rate in every run.
func TestClientsEachGetTheFullRefreshRate(t *testing.T) {
	for _, n := range []int{2, 10} {
		t.Run(fmt.Sprintf("%d clients", n), func(t *testing.T) {
			var runs []string
			for attempt := 1; attempt <= 3; attempt++ {
				problems := paceClients(t, n)
				if len(problems) == 0 {
					return
				}
				runs = append(runs, fmt.Sprintf("run %d: %s", attempt, strings.Join(problems, "; ")))
				t.Logf("run %d of 3 short of the refresh rate: %s", attempt, strings.Join(problems, "; "))
			}
			t.Errorf("%d clients on one 60 Hz output, in each of 3 runs a client got under 54 frames/s (90%%):\n%s", n, strings.Join(runs, "\n"))
		})
	}
}

// paceClients runs n clients drawing 150 frames each on a fresh vitrine
// and says which got under 90 % of the refresh rate.
func paceClients(t *testing.T, n int) []string {
	const frames = 150
	c := startVitrine(t, "--output", "640x480@60")
	defer c.stop()
	var outs []*lineWaiter
	for i := 0; i < n; i++ {
		_, out := c.client("shm-client", "--pattern", "moving-box", "--size", "96x96", "--fixed-size", "--frames", fmt.Sprint(frames))
		outs = append(outs, out)
	}
	var problems []string
	for i, out := range outs {
		_, start := out.waitAt(t, `^first-frame `, 10*time.Second)
		_, end := out.waitAt(t, `^final-box .* frames=`+fmt.Sprint(frames)+`$`, 30*time.Second)
		// first-frame follows frame 1's callback, final-box frame N's:
		// N-1 refresh periods apart.
		rate := float64(frames-1) / end.Sub(start).Seconds()
		t.Logf("client %d: %d frames in %v: %.1f frames/s", i, frames-1, end.Sub(start).Round(time.Millisecond), rate)
		if rate < 0.9*60 {
			problems = append(problems, fmt.Sprintf("client %d of %d got %.1f frames/s", i, n, rate))
		}
	}
	return problems
}
