package inputevent

import (
	"fmt"
	"strconv"
	"strings"
)

// Calibration is an affine map of normalized device coordinates, the
// six numbers a b c d e f of udev's LIBINPUT_CALIBRATION_MATRIX (the
// first two rows of a 3x3 matrix, row by row), with libinput's meaning:
//
//	x' = a*x + b*y + c
//	y' = d*x + e*y + f
//
// applied to 0..1 coordinates in the device's own orientation, before
// any output transform. Touchscreens glued in turned or mirrored, and
// ones whose active area is smaller than their sensor, are corrected
// with it.
type Calibration [6]float64

// IdentityCalibration leaves positions as the device reports them.
var IdentityCalibration = Calibration{1, 0, 0, 0, 1, 0}

// ParseCalibration reads the six numbers of LIBINPUT_CALIBRATION_MATRIX,
// separated by spaces.
func ParseCalibration(s string) (Calibration, error) {
	f := strings.Fields(s)
	if len(f) != 6 {
		return Calibration{}, fmt.Errorf("calibration matrix %q: want 6 numbers, got %d", s, len(f))
	}
	var m Calibration
	for i, v := range f {
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return Calibration{}, fmt.Errorf("calibration matrix %q: number %d: %w", s, i+1, err)
		}
		m[i] = x
	}
	return m, nil
}

// Apply maps a normalized position. The result is clamped to 0..1: a
// point the matrix puts off the device's area stays on the edge of the
// output it is mapped to rather than landing on a neighbour.
func (m Calibration) Apply(x, y float64) (float64, float64) {
	nx := m[0]*x + m[1]*y + m[2]
	ny := m[3]*x + m[4]*y + m[5]
	return clamp01(nx), clamp01(ny)
}

func clamp01(v float64) float64 {
	switch {
	case v < 0:
		return 0
	case v > 1:
		return 1
	}
	return v
}

// String gives the six numbers as udev would hold them.
func (m Calibration) String() string {
	var b strings.Builder
	for i, v := range m {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
	}
	return b.String()
}
