package inputevent

import "testing"

func TestPanelToLogical(t *testing.T) {
	// With the logical image turned 90° clockwise onto the panel, the
	// panel's top-right corner shows the logical top-left.
	cases := []struct {
		rot          int
		px, py       float64
		wantX, wantY float64
	}{
		{0, 0.25, 0.75, 0.25, 0.75},
		{90, 1, 0, 0, 0},
		{90, 1, 1, 1, 0},
		{180, 0, 0, 1, 1},
		{270, 0, 1, 0, 0},
		{-90, 0, 1, 0, 0},
	}
	for _, c := range cases {
		x, y := PanelToLogical(c.px, c.py, c.rot)
		if x != c.wantX || y != c.wantY {
			t.Errorf("rot %d (%v,%v) -> (%v,%v), want (%v,%v)", c.rot, c.px, c.py, x, y, c.wantX, c.wantY)
		}
	}
}
