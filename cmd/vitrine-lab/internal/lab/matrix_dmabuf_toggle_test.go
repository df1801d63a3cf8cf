package lab

import (
	"strings"
	"testing"
)

func TestJudgeToggle(t *testing.T) {
	dir := t.TempDir()
	quad := quadrantsImage(1024, 768, quadrantColors)
	win := windowedImage(quad.Bounds().Size(), toggleWindow)
	shots := []string{saveShot(t, dir, "full1", quad), saveShot(t, dir, "windowed", win), saveShot(t, dir, "full2", quad)}
	output := func(counts, stats string) string {
		return "composited-lines " + counts + "\ntoggle-exit=0\n" +
			"toggle| first-frame 1024x768\n" + statsLines("toggle", stats)
	}
	goodStats := "stats: output=VGA-1 frames=5 scanout=3 composited=2 copied_bytes=4000000"
	if err := judgeToggle(&Result{Output: []byte(output("full1=0 windowed=1 full2=2", goodStats)), Screendumps: shots}); err != nil {
		t.Fatalf("a good toggle failed: %v", err)
	}
	bad := []struct {
		name, counts, stats string
		shots               []string
		want                string
	}{
		{"composited while fullscreen", "full1=1 windowed=2 full2=3", goodStats, shots, "while fullscreen"},
		{"windowed scanned out", "full1=0 windowed=0 full2=0", goodStats, shots, "no composited frame while windowed"},
		{"composited after fullscreen again", "full1=0 windowed=1 full2=5", goodStats, shots, "after going fullscreen again"},
		{"never scanned out", "full1=0 windowed=1 full2=2", "stats: output=VGA-1 frames=5 scanout=0 composited=5 copied_bytes=1", shots, "want scanout >= 2"},
		{"old fullscreen frame left around the window", "full1=0 windowed=1 full2=2", goodStats,
			[]string{shots[0], saveShot(t, t.TempDir(), "windowed", quad), shots[2]}, "windowed.png"},
		{"script stopped", "", goodStats, shots, "did not get through the toggles"},
	}
	for _, b := range bad {
		out := output(b.counts, b.stats)
		if b.counts == "" {
			out = strings.Replace(out, "composited-lines \n", "", 1)
		}
		err := judgeToggle(&Result{Output: []byte(out), Screendumps: b.shots})
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s: got %v, want an error mentioning %q", b.name, err, b.want)
		}
	}
}
