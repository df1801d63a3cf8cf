package kms

import (
	"fmt"
	"strconv"
	"strings"
)

// ModeSpec is a requested mode, parsed from "WxH" or "WxH@Hz".
type ModeSpec struct {
	Width, Height  int
	RefreshMilliHz int // 0: any
}

// ParseModeSpec parses "1920x1080", "1280x800@60" or "1920x1080@59.94".
func ParseModeSpec(s string) (ModeSpec, error) {
	var spec ModeSpec
	size, rate, hasRate := strings.Cut(strings.TrimSpace(s), "@")
	ws, hs, ok := strings.Cut(size, "x")
	if !ok {
		return spec, fmt.Errorf("mode %q: want WIDTHxHEIGHT[@HZ]", s)
	}
	w, err1 := strconv.Atoi(ws)
	h, err2 := strconv.Atoi(hs)
	if err1 != nil || err2 != nil || w <= 0 || h <= 0 || w > 16384 || h > 16384 {
		return spec, fmt.Errorf("mode %q: bad size, want e.g. 1920x1080", s)
	}
	spec.Width, spec.Height = w, h
	if hasRate {
		hz, err := strconv.ParseFloat(rate, 64)
		if err != nil || hz <= 0 || hz > 1000 {
			return spec, fmt.Errorf("mode %q: bad refresh rate %q, want e.g. 60 or 59.94", s, rate)
		}
		spec.RefreshMilliHz = int(hz*1000 + 0.5)
	}
	return spec, nil
}

func (s ModeSpec) String() string {
	if s.RefreshMilliHz == 0 {
		return fmt.Sprintf("%dx%d", s.Width, s.Height)
	}
	return fmt.Sprintf("%dx%d@%g", s.Width, s.Height, float64(s.RefreshMilliHz)/1000)
}

// PickMode chooses a connector mode: with no spec, the preferred mode (the
// first listed if none is marked); with a spec, the mode of that size whose
// refresh rate is closest to the requested one (the preferred or first of
// that size if no rate was asked for).
func PickMode(modes []Mode, spec *ModeSpec) (Mode, error) {
	if len(modes) == 0 {
		return Mode{}, fmt.Errorf("connector reports no modes")
	}
	if spec == nil {
		for _, m := range modes {
			if m.Preferred {
				return m, nil
			}
		}
		return modes[0], nil
	}
	best := -1
	for i, m := range modes {
		if m.Width != spec.Width || m.Height != spec.Height {
			continue
		}
		if best < 0 {
			best = i
			continue
		}
		if spec.RefreshMilliHz == 0 {
			if m.Preferred && !modes[best].Preferred {
				best = i
			}
			continue
		}
		if abs(m.RefreshMilliHz-spec.RefreshMilliHz) < abs(modes[best].RefreshMilliHz-spec.RefreshMilliHz) {
			best = i
		}
	}
	if best < 0 {
		var have []string
		for _, m := range modes {
			have = append(have, m.String())
		}
		return Mode{}, fmt.Errorf("no %s mode; available: %s", spec, strings.Join(have, " "))
	}
	return modes[best], nil
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
