package inputevent

import (
	"math"
	"strings"
	"testing"
)

func TestParseCalibration(t *testing.T) {
	m, err := ParseCalibration("  0 -1 1\t1 0 0 ")
	if err != nil || m != (Calibration{0, -1, 1, 1, 0, 0}) {
		t.Fatalf("got %v, %v", m, err)
	}
	m, err = ParseCalibration("1.0e0 0 -0.05 0 1.1 -0.05")
	if err != nil || m != (Calibration{1, 0, -0.05, 0, 1.1, -0.05}) {
		t.Fatalf("got %v, %v", m, err)
	}
	for _, bad := range []string{"", "1 0 0 0 1", "1 0 0 0 1 0 0", "1 0 0 0 1 x", "1,0,0,0,1,0"} {
		if _, err := ParseCalibration(bad); err == nil || !strings.Contains(err.Error(), "calibration matrix") {
			t.Errorf("ParseCalibration(%q): %v", bad, err)
		}
	}
	if s := (Calibration{0, -1, 1, 1, 0, 0}).String(); s != "0 -1 1 1 0 0" {
		t.Errorf("String = %q", s)
	}
}

// TestCalibrationApply checks the matrices libinput's documentation
// gives for a touchscreen mounted turned, on the corners they move.
func TestCalibrationApply(t *testing.T) {
	type pt struct{ x, y float64 }
	for _, tc := range []struct {
		name string
		m    Calibration
		in   []pt
		want []pt
	}{
		{"identity", IdentityCalibration, []pt{{0.2, 0.7}}, []pt{{0.2, 0.7}}},
		// 90 degrees clockwise: the device's top-left is the screen's top-right.
		{"cw90", Calibration{0, -1, 1, 1, 0, 0}, []pt{{0, 0}, {1, 0}, {0.25, 0.1}}, []pt{{1, 0}, {1, 1}, {0.9, 0.25}}},
		{"180", Calibration{-1, 0, 1, 0, -1, 1}, []pt{{0, 0}, {0.25, 0.1}}, []pt{{1, 1}, {0.75, 0.9}}},
		{"cw270", Calibration{0, 1, 0, -1, 0, 1}, []pt{{0, 0}, {0.25, 0.1}}, []pt{{0, 1}, {0.1, 0.75}}},
		// The active area is 80% of the sensor, centred: scale by 1.25
		// and shift; points outside it stay on the edge.
		{"inset", Calibration{1.25, 0, -0.125, 0, 1.25, -0.125}, []pt{{0.1, 0.9}, {0.5, 0.5}, {0.02, 0.99}}, []pt{{0, 1}, {0.5, 0.5}, {0, 1}}},
	} {
		for i, p := range tc.in {
			x, y := tc.m.Apply(p.x, p.y)
			if math.Abs(x-tc.want[i].x) > 1e-9 || math.Abs(y-tc.want[i].y) > 1e-9 {
				t.Errorf("%s: %v -> %.4f,%.4f, want %v", tc.name, p, x, y, tc.want[i])
			}
		}
	}
}
