package window

import (
	"fmt"
	"image"
	"strconv"
	"strings"
)

// ParseSize parses a WxH flag value such as "640x480".
func ParseSize(s string) (image.Point, error) {
	ws, hs, ok := strings.Cut(strings.ToLower(s), "x")
	if !ok {
		return image.Point{}, fmt.Errorf("size %q: want WxH, e.g. 640x480", s)
	}
	w, err := strconv.Atoi(ws)
	if err != nil || w <= 0 {
		return image.Point{}, fmt.Errorf("size %q: width must be a positive integer", s)
	}
	h, err := strconv.Atoi(hs)
	if err != nil || h <= 0 {
		return image.Point{}, fmt.Errorf("size %q: height must be a positive integer", s)
	}
	if w > 16384 || h > 16384 {
		return image.Point{}, fmt.Errorf("size %q: at most 16384x16384", s)
	}
	return image.Pt(w, h), nil
}
