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
	const good = `virtio| {"level":"DEBUG","msg":"cursor on the cursor plane","output":"Virtual-1","size":{"X":32,"Y":32},"event":"cursor.plane"}
virtio-frames-during-motion=0
cirrus| {"level":"DEBUG","msg":"no cursor plane; the cursor is composited","output":"VGA-1","event":"cursor.composited"}
cirrus| pointer-motion x=500.02 y=375.01
cirrus| pointer-motion x=256.01 y=576.02
blank| first-frame 1280x800
blank| {"level":"INFO","msg":"idle: outputs off","after":3000000000,"event":"idle.blank"}
blank| {"level":"INFO","msg":"output power","output":"Virtual-1","on":false,"event":"output.power"}
blank| {"level":"INFO","msg":"input: outputs on","event":"idle.wake"}
blank| {"level":"INFO","msg":"output power","output":"Virtual-1","on":true,"event":"output.power"}
`
	right := shot(image.Pt(256, 576))
	dir := t.TempDir()
	quads := quadrantsImage(1280, 800, quadrantColors)
	dark := image.NewRGBA(image.Rect(0, 0, 640, 480))
	draw.Draw(dark, image.Rect(10, 10, 200, 30), image.NewUniform(color.White), image.Point{}, draw.Src) // QEMU's "not active" text
	blank := []string{saveShot(t, dir, "blank-lit", quads), saveShot(t, dir, "blank-dark", dark), saveShot(t, dir, "blank-back", quads)}
	shots := func(cirrus string, blank ...string) []string { return append([]string{cirrus}, blank...) }
	if err := cursorCheck(nil, &Result{Output: []byte(good), Screendumps: shots(right, blank...)}, nil); err != nil {
		t.Fatalf("a good run failed: %v", err)
	}
	bad := []struct {
		name, out string
		shots     []string
		want      string
	}{
		{"frames while moving", strings.Replace(good, "motion=0", "motion=6", 1), shots(right, blank...), "6 frames composited"},
		{"not on the plane", strings.Replace(good, `"event":"cursor.plane"`, `"event":"x"`, 1), shots(right, blank...), "never logged the cursor on the cursor plane"},
		{"not composited on cirrus", strings.Replace(good, `"event":"cursor.composited"`, `"event":"x"`, 1), shots(right, blank...), "did not say the cursor is composited"},
		{"cursor elsewhere", good, shots(shot(image.Pt(500, 375)), blank...), "are not magenta"},
		{"no motion", strings.ReplaceAll(good, "cirrus| pointer-motion", "cirrus| nothing"), shots(right, blank...), "no pointer-motion"},
		{"never blanked", strings.Replace(good, `"on":false`, `"on":"maybe"`, 1), shots(right, blank...), `want one output.power event with ["output" "Virtual-1" "on" "false"]`},
		{"not woken", strings.Replace(good, `"idle.wake"`, `"x"`, 1), shots(right, blank...), `want one idle.wake event`},
		{"still lit", good, shots(right, blank[0], saveShot(t, t.TempDir(), "blank-dark", quads), blank[2]), "not switched off"},
		{"not repainted", good, shots(right, blank[0], blank[1], saveShot(t, t.TempDir(), "blank-back", dark)), "blank-back"},
	}
	for _, b := range bad {
		err := cursorCheck(nil, &Result{Output: []byte(b.out), Screendumps: b.shots}, nil)
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s: got %v, want an error with %q", b.name, err, b.want)
		}
	}
}
