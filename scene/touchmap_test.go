package scene_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/render"
	"github.com/vitrine-wm/vitrine/scene"
	"github.com/vitrine-wm/vitrine/scene/headless"
	"github.com/vitrine-wm/vitrine/scene/present"
	"github.com/vitrine-wm/vitrine/seat/inputevent"
)

// TestTouchMappedToSecondOutput: a touchscreen mapped to the second of
// two outputs (--map-input, udev's WL_OUTPUT), whose panel is turned by
// 90 degrees, with a calibration matrix: its points land where the
// calibrated panel point shows on that output, and a tablet mapped there
// follows the same mapping.
func TestTouchMappedToSecondOutput(t *testing.T) {
	r := startRig(t, 640, 480, 60000, render.Normal, protocol.Options{}, func(c *scene.Config) {
		c.AppOutputs = map[string]string{"input-echo": "HEADLESS-2"}
		c.Layout = scene.LayoutDesktop
	})
	p := &inProcess{comp: r.comp, out: r.out, runtime: filepath.Dir(r.socket), display: filepath.Base(r.socket)}
	var second *headless.Output
	second, err := headless.New(r.srv.Loop(), "HEADLESS-2", 200, 100, 60000, render.Rotate90, func(i present.Info) { r.comp.PresentDone(second, i) })
	must(t, err)
	t.Cleanup(func() { second.Close() })
	r.onLoop(t, func() { r.comp.AddOutput(second) })
	p.input(inputevent.DeviceAdded{Header: inputevent.Header{Device: "touch"}, Caps: inputevent.DeviceCaps{Touch: true}},
		inputevent.DeviceAdded{Header: inputevent.Header{Device: "tablet"}, Caps: inputevent.DeviceCaps{Pointer: true, Tablet: true}})
	e := startEcho(t, p)
	// The 200x100 panel turned: clients see 100x200.
	e.waitFor(t, "first-frame 100x200")

	h := inputevent.Header{Device: "touch"}
	// Panel point (0.75, 0.25) of 200x100 is (150, 25). Rotate90 shows
	// logical (x, y) at panel (y, 100-x): logical x = 75, y = 150.
	p.input(inputevent.TouchDown{Header: h, ID: 1, X: 0.75, Y: 0.25, Output: "HEADLESS-2"}, inputevent.TouchFrame{Header: h},
		inputevent.TouchUp{Header: h, ID: 1}, inputevent.TouchFrame{Header: h})
	e.waitFor(t, "touch-down id=1 x=75.00 y=150.00")

	// A sensor glued in turned 90 degrees clockwise (udev's
	// LIBINPUT_CALIBRATION_MATRIX=0 -1 1 1 0 0): its raw point
	// (0.25, 0.1) is the panel's (0.9, 0.25), that is (180, 25), which
	// shows logical (75, 180). The seat applies the matrix (see
	// seat.TestTranslateCalibratedTouch); the output's turn comes after.
	x, y := inputevent.Calibration{0, -1, 1, 1, 0, 0}.Apply(0.25, 0.1)
	p.input(inputevent.TouchDown{Header: h, ID: 2, X: x, Y: y, Output: "HEADLESS-2"}, inputevent.TouchFrame{Header: h},
		inputevent.TouchMotion{Header: h, ID: 2, X: 0.5, Y: 0.5, Output: "HEADLESS-2"}, inputevent.TouchFrame{Header: h},
		inputevent.TouchUp{Header: h, ID: 2}, inputevent.TouchFrame{Header: h})
	e.waitFor(t, "touch-down id=2 x=75.00 y=180.00")
	// The panel's centre is the logical centre.
	e.waitFor(t, "touch-motion id=2 x=50.00 y=100.00")

	// Without a mapping the touchscreen is on the first output, where
	// input-echo is not: nothing reaches it.
	p.input(inputevent.TouchDown{Header: h, ID: 3, X: 0.75, Y: 0.25}, inputevent.TouchFrame{Header: h},
		inputevent.TouchUp{Header: h, ID: 3}, inputevent.TouchFrame{Header: h})

	th := inputevent.Header{Device: "tablet"}
	p.input(inputevent.PointerAbs{Header: th, X: 0.75, Y: 0.25, Output: "HEADLESS-2"}, inputevent.Frame{Header: th})
	e.waitFor(t, "pointer-enter x=75.00 y=150.00")
	if n := e.countPrefix("touch-down id=3"); n != 0 {
		t.Errorf("an unmapped touch on the first output reached the client on the second")
	}
}

// TestTouchOnMissingOutputUsesFirst: a device mapped to an output that
// is not connected is on the first output, and that is logged once.
func TestTouchOnMissingOutputUsesFirst(t *testing.T) {
	r := startRig(t, 640, 480, 60000, render.Normal, protocol.Options{})
	p := &inProcess{comp: r.comp, out: r.out, runtime: filepath.Dir(r.socket), display: filepath.Base(r.socket)}
	h := inputevent.Header{Device: "/dev/input/event7"}
	p.input(inputevent.DeviceAdded{Header: h, Caps: inputevent.DeviceCaps{Touch: true}})
	e := startEcho(t, p)
	e.waitFor(t, "first-frame 640x480")
	for id := int32(1); id <= 2; id++ {
		p.input(inputevent.TouchDown{Header: h, ID: id, X: 0.5, Y: 0.25, Output: "HDMI-A-2"}, inputevent.TouchFrame{Header: h},
			inputevent.TouchUp{Header: h, ID: id}, inputevent.TouchFrame{Header: h})
	}
	e.waitFor(t, "touch-down id=1 x=320.00 y=120.00")
	e.waitFor(t, "touch-down id=2 x=320.00 y=120.00")
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(r.log.String(), "event=input.output_missing") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := strings.Count(r.log.String(), "event=input.output_missing"); n != 1 {
		t.Errorf("%d input.output_missing lines, want 1:\n%s", n, r.log.String())
	}
	if !strings.Contains(r.log.String(), "output=HDMI-A-2 using=HEADLESS-1") {
		t.Errorf("the log does not say which output stands in:\n%s", r.log.String())
	}
}

func (e *echo) countPrefix(prefix string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, l := range e.lines {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}
