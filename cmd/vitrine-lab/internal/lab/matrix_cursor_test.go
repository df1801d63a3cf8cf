package lab

import (
	"image"
	"image/color"
	"image/draw"
	"strings"
	"testing"
)

func TestJudgeCursor(t *testing.T) {
	bg := color.RGBA{0x20, 0x40, 0x80, 0xff}
	shot := func(at image.Point) string {
		img := image.NewRGBA(image.Rect(0, 0, 1024, 768))
		draw.Draw(img, img.Bounds(), image.NewUniform(bg), image.Point{}, draw.Src)
		draw.Draw(img, image.Rectangle{Min: at, Max: at.Add(image.Pt(cursorSize, cursorSize))}, image.NewUniform(cursorColor), image.Point{}, draw.Src)
		return saveShot(t, t.TempDir(), "cirrus", img)
	}
	const good = `virtio| level=DEBUG msg="cursor on the cursor plane" output=Virtual-1 size=(32,32)
virtio-frames-during-motion=0
cirrus| level=DEBUG msg="no cursor plane; the cursor is composited" output=VGA-1
cirrus| pointer-motion x=500.02 y=375.01
cirrus| pointer-motion x=256.01 y=576.02
`
	right := shot(image.Pt(256, 576))
	if err := cursorCheck(nil, &Result{Output: []byte(good), Screendumps: []string{right}}, nil); err != nil {
		t.Fatalf("a good run failed: %v", err)
	}
	bad := []struct {
		name, out, shot, want string
	}{
		{"frames while moving", strings.Replace(good, "motion=0", "motion=6", 1), right, "6 frames composited"},
		{"not on the plane", strings.Replace(good, "cursor on the cursor plane", "x", 1), right, "never logged the cursor on the cursor plane"},
		{"cursor elsewhere", good, shot(image.Pt(500, 375)), "are not magenta"},
		{"no motion", strings.ReplaceAll(good, "cirrus| pointer-motion", "cirrus| nothing"), right, "no pointer-motion"},
	}
	for _, b := range bad {
		err := cursorCheck(nil, &Result{Output: []byte(b.out), Screendumps: []string{b.shot}}, nil)
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s: got %v, want an error with %q", b.name, err, b.want)
		}
	}
}
