package lab

import (
	"image"
	"image/color"
	"image/draw"
	"strings"
	"testing"
)

// oskRunOutput is what a good vitrine-osk-wvkbd-foot run prints: foot's
// own lines and vitrine's JSON records under one tag, frames filtered.
const oskRunOutput = `foot-ms=900
typed=qw
vitrine-exit=0
foot-size=21 80
vitrine| {"time":"x","level":"INFO","msg":"output on","output":"Virtual-1","event":"output.on"}
vitrine| info: wayland.c:1531: Virtual-1: 1280x800+0x0@75Hz RHT 13.36" scale=1 PPI=96x96 (physical) PPI=96x96 (logical), DPI=96.00
vitrine| info: terminal.c:705: cell width=8, height=32
vitrine| {"time":"x","level":"DEBUG","msg":"--osk: keyboard signalled","shown":true,"pid":210,"event":"osk.signalled"}
vitrine| {"time":"x","level":"INFO","msg":"input: device added","path":"/dev/input/event3","name":"vitrine-lab touchscreen","caps":"touch","event":"input.added"}
`

func TestOSKCheck(t *testing.T) {
	// foot's background above a keyboard strip of another colour.
	img := image.NewRGBA(image.Rect(0, 0, oskScreenW, oskScreenH))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.RGBA{0x11, 0x11, 0x11, 0xff}), image.Point{}, draw.Src)
	draw.Draw(img, image.Rect(0, oskScreenH-oskHeight, oskScreenW, oskScreenH), image.NewUniform(color.RGBA{0x40, 0x40, 0x40, 0xff}), image.Point{}, draw.Src)
	shots := []string{saveShot(t, t.TempDir(), "osk", img)}
	check := func(out string) error { return oskCheck(nil, &Result{Output: []byte(out), Screendumps: shots}, nil) }
	if err := check(oskRunOutput); err != nil {
		t.Fatalf("a good run failed: %v", err)
	}
	if err := check(strings.Replace(oskRunOutput, `"msg":"--osk: keyboard signalled"`, `"msg":"keyboard shown"`, 1)); err != nil {
		t.Errorf("a good run with vitrine's message reworded failed: %v", err)
	}
	for _, b := range []struct{ name, from, to, want string }{
		{"keyboard never shown", `"shown":true`, `"shown":false`, "no osk.signalled event with shown=true"},
		{"signal only in the message", `,"event":"osk.signalled"`, "", "no osk.signalled event"},
		{"touchscreen not added", `"event":"input.added"`, `"event":"input.removed"`, `did not add "vitrine-lab touchscreen"`},
		{"an error", "vitrine-exit=0\n", "vitrine-exit=0\n" + `vitrine| {"time":"x","level":"ERROR","msg":"layer surface","err":"x"}` + "\n", "vitrine logged"},
		{"foot taller than the space above the keyboard", "foot-size=21 80", "foot-size=25 80", "foot has 25 rows of 32 px, want 21"},
		{"no cell size", "cell width=8, height=32", "cell size unknown", "no foot cell size"},
		{"typed wrong", "typed=qw", "typed=q", `did not read "qw"`},
	} {
		out := strings.Replace(oskRunOutput, b.from, b.to, 1)
		if out == oskRunOutput {
			t.Fatalf("%s: %q is not in the good output", b.name, b.from)
		}
		if err := check(out); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s: got %v, want an error mentioning %q", b.name, err, b.want)
		}
	}
	// No keyboard drawn: the strip is foot's background.
	draw.Draw(img, img.Bounds(), image.NewUniform(color.RGBA{0x11, 0x11, 0x11, 0xff}), image.Point{}, draw.Src)
	blank := []string{saveShot(t, t.TempDir(), "osk", img)}
	if err := oskCheck(nil, &Result{Output: []byte(oskRunOutput), Screendumps: blank}, nil); err == nil || !strings.Contains(err.Error(), "no keyboard there") {
		t.Errorf("no keyboard on the screen: %v", err)
	}
}
