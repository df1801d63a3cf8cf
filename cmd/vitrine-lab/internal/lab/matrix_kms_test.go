package lab

import (
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vitrine-wm/vitrine/cmd/vitrine-lab/internal/screencheck"
	"github.com/vitrine-wm/vitrine/kms"
)

// The numbers below were measured in the lab (Linux 6.12, QEMU 7.2):
// virtio-gpu 1280x800 with one buffer, bochs and cirrus with two.

// runOutput is what a good run of vitrineRun prints for tag; outputOn
// is the output.on event's JSON for buffers ("buffers":N).
func runOutput(tag, outputOn, client, stats string, frameLines ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s-exit=0\n", tag)
	fmt.Fprintf(&b, "%s| {\"time\":\"x\",\"level\":\"INFO\",\"msg\":\"output on\",\"output\":\"Virtual-1\",\"mode\":\"1280x800@74.994\",\"crtc\":36,\"atomic\":true,%s,\"format\":\"XRGB8888\",\"event\":\"output.on\"}\n", tag, outputOn)
	for _, l := range frameLines {
		fmt.Fprintf(&b, "%s| %s\n", tag, l)
	}
	for _, l := range strings.Split(client, "\n") {
		fmt.Fprintf(&b, "%s| %s\n", tag, l)
	}
	b.WriteString(statsLines(tag, stats))
	return b.String()
}

func saveShot(t *testing.T, dir, name string, img image.Image) string {
	t.Helper()
	p := filepath.Join(dir, name+".png")
	if err := screencheck.WritePNG(p, img); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestVitrineRunJudgeMovingBox(t *testing.T) {
	dir := t.TempDir()
	box := image.Rect(368, 64, 432, 128)
	good := saveShot(t, dir, "box", boxImage(1280, 800, box))
	client := "first-frame 1280x800\nfinal-box x=368 y=64 w=64 h=64 frames=200"
	run := vitrineRun{tag: "box", want: showFinalBox, damageRule: true, path: copyPath}
	// Measured on virtio-gpu: two full screens (clear, first frame),
	// then 198 moves of 72x64 and one row change of two boxes.
	const measured = "stats: output=Virtual-1 frames=200 scanout=0 composited=200 copied_bytes=11874304"
	res := &Result{Output: []byte(runOutput("box", `"buffers":1`, client, measured)), Screendumps: []string{good}}
	if err := run.judge(nil, "t", res); err != nil {
		t.Fatalf("a good run failed: %v", err)
	}
	// Reworded text (the stats: line, the event's message) changes nothing.
	reworded := strings.NewReplacer("box| stats: ", "box| totals: ", `"msg":"stats"`, `"msg":"totals"`).Replace(string(res.Output))
	if err := run.judge(nil, "t", &Result{Output: []byte(reworded), Screendumps: []string{good}}); err != nil {
		t.Fatalf("a good run with reworded text failed: %v", err)
	}

	bad := []struct {
		name string
		res  *Result
		want string
	}{
		{"full-screen copy every frame", &Result{Output: []byte(runOutput("box", `"buffers":1`, client,
			"stats: output=Virtual-1 frames=200 scanout=0 composited=200 copied_bytes=819200000")), Screendumps: []string{good}}, "248.74 x the 16384-byte box"},
		{"one full-screen repaint too many", &Result{Output: []byte(runOutput("box", `"buffers":1`, client,
			"stats: output=Virtual-1 frames=200 scanout=0 composited=200 copied_bytes=15970304")), Screendumps: []string{good}}, "more than its damage"},
		{"box one step behind", &Result{Output: []byte(runOutput("box", `"buffers":1`, client, measured)),
			Screendumps: []string{saveShot(t, t.TempDir(), "box", boxImage(1280, 800, box.Sub(image.Pt(8, 0))))}}, "pixels differ"},
		{"no stats event (the text line kept)", &Result{Output: []byte(strings.Replace(runOutput("box", `"buffers":1`, client, measured), `"event":"stats"`, `"event":"statz"`, 1)), Screendumps: []string{good}}, "no stats event"},
		{"stats event without copied_bytes", &Result{Output: []byte(strings.Replace(runOutput("box", `"buffers":1`, client, measured), `,"copied_bytes":11874304`, "", 1)), Screendumps: []string{good}}, "no whole-number copied_bytes"},
		// The event is the judge, not the text line beside it.
		{"scanned out per the event only", &Result{Output: []byte(strings.Replace(runOutput("box", `"buffers":1`, client, measured), `"scanout":0,"composited":200`, `"scanout":199,"composited":1`, 1)), Screendumps: []string{good}}, "want every frame composited"},
		{"scanned out", &Result{Output: []byte(runOutput("box", `"buffers":1`, client,
			"stats: output=Virtual-1 frames=200 scanout=199 composited=1 copied_bytes=11874304")), Screendumps: []string{good}}, "want every frame composited"},
		{"vitrine failed on SIGTERM", &Result{Output: []byte(strings.Replace(runOutput("box", `"buffers":1`, client, measured), "box-exit=0", "box-exit=1", 1)), Screendumps: []string{good}}, "SIGTERM"},
		{"error logged", &Result{Output: []byte(runOutput("box", `"buffers":1`, client, measured, `{"time":"x","level":"ERROR","msg":"commit failed"}`)), Screendumps: []string{good}}, "vitrine logged"},
		{"no screendump", &Result{Output: []byte(runOutput("box", `"buffers":1`, client, measured))}, "no screendump"},
	}
	for _, b := range bad {
		err := run.judge(nil, "t", b.res)
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s: got %v, want an error mentioning %q", b.name, err, b.want)
		}
	}
	legacy := run
	legacy.flags = "--legacy-kms"
	if err := legacy.judge(nil, "t", res); err == nil || !strings.Contains(err.Error(), "atomic=false") {
		t.Errorf("--legacy-kms run on the atomic path: %v", err)
	}
}

func TestCopyPerFrameDoubleBuffered(t *testing.T) {
	// Measured on bochs (two buffers): the clear and one whole fill per
	// buffer, then 80x64 a frame (each buffer catches up two moves).
	st := vitrineStats{CopiedBytes: 16371712}
	_, ratio, err := copyPerFrame(st, image.Pt(1280, 800), 3, 200)
	if err != nil || ratio < 1.2 || ratio > 1.3 {
		t.Errorf("bochs run: ratio %.3f, err %v; want about 1.25 and no error", ratio, err)
	}
	// Counting one buffer only, the same bytes break the rule.
	if _, _, err := copyPerFrame(st, image.Pt(1280, 800), 2, 200); err == nil {
		t.Error("bochs run judged with two full copies passed")
	}
	if _, _, err := copyPerFrame(vitrineStats{CopiedBytes: 4096000}, image.Pt(1280, 800), 2, 200); err == nil || !strings.Contains(err.Error(), "out of date") {
		t.Errorf("fewer bytes than the full copies: %v", err)
	}
}

func TestVitrineRunJudgeScanoutAndRefusal(t *testing.T) {
	dir := t.TempDir()
	quad := saveShot(t, dir, "quadrants", quadrantsImage(1024, 768, quadrantColors))
	client := "first-frame 1024x768"
	scan := vitrineRun{tag: "quadrants", want: showQuadrants, path: scanoutPath}
	good := &Result{Output: []byte(runOutput("quadrants", `"buffers":2`, client,
		"stats: output=VGA-1 frames=2 scanout=2 composited=0 copied_bytes=3145728")), Screendumps: []string{quad}}
	if err := scan.judge(nil, "t", good); err != nil {
		t.Fatalf("a good scanout run failed: %v", err)
	}
	for stats, want := range map[string]string{
		"stats: output=VGA-1 frames=2 scanout=0 composited=2 copied_bytes=6291456": "want every frame scanned out",
		"stats: output=VGA-1 frames=2 scanout=1 composited=1 copied_bytes=6291456": "only the initial clear",
	} {
		res := &Result{Output: []byte(runOutput("quadrants", `"buffers":2`, client, stats)), Screendumps: []string{quad}}
		if err := scan.judge(nil, "t", res); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an error mentioning %q", stats, err, want)
		}
	}

	copyRun := vitrineRun{tag: "quadrants", want: showQuadrants, path: copyPath, refusal: "EINVAL"}
	refused := `{"time":"x","level":"DEBUG","msg":"direct scanout refused; compositing this buffer","output":"Virtual-1","key":1,"step":"import","errno":"EINVAL","err":"/dev/dri/card0: DRM_IOCTL_PRIME_FD_TO_HANDLE fd 18: invalid argument","event":"scanout.refused"}`
	stats := "stats: output=Virtual-1 frames=2 scanout=0 composited=2 copied_bytes=12288000"
	big := saveShot(t, t.TempDir(), "quadrants", quadrantsImage(1280, 800, quadrantColors))
	res := &Result{Output: []byte(runOutput("quadrants", `"buffers":2`, "first-frame 1280x800", stats, refused)), Screendumps: []string{big}}
	if err := copyRun.judge(nil, "t", res); err != nil {
		t.Fatalf("a good copy run failed: %v", err)
	}
	res.Output = []byte(runOutput("quadrants", `"buffers":2`, "first-frame 1280x800", stats, strings.Replace(refused, "EINVAL", "ENODEV", 1)))
	if err := copyRun.judge(nil, "t", res); err == nil || !strings.Contains(err.Error(), "errno=EINVAL") {
		t.Errorf("refusal with the wrong errno: %v", err)
	}
}

func TestRotatedQuadrants(t *testing.T) {
	// vitrine --rotate 90 gives the client an 800x1280 surface and shows
	// it turned counter-clockwise: top-left green, top-right white,
	// bottom-left red, bottom-right blue.
	c := quadrantColors
	got := turnCounterClockwise(quadrantsImage(800, 1280, c))
	want := quadrantsImage(1280, 800, [4]color.RGBA{c[1], c[3], c[0], c[2]})
	if d := screencheck.CompareImages(got, want, 0); d.Err() != nil {
		t.Errorf("turned 90: %v", d.Err())
	}
	clockwise := quadrantsImage(1280, 800, [4]color.RGBA{c[2], c[0], c[3], c[1]})
	if d := screencheck.CompareImages(got, clockwise, 0); d.Err() == nil {
		t.Error("counter-clockwise equals clockwise")
	}
	half := turnHalf(quadrantsImage(1280, 800, c))
	if d := screencheck.CompareImages(half, quadrantsImage(1280, 800, [4]color.RGBA{c[3], c[2], c[1], c[0]}), 0); d.Err() != nil {
		t.Errorf("turned 180: %v", d.Err())
	}
	// Odd sizes: the split moves with the turn.
	odd := turnCounterClockwise(quadrantsImage(5, 3, c))
	if b := odd.Bounds(); b.Dx() != 3 || b.Dy() != 5 {
		t.Fatalf("turned 5x3 is %v", b)
	}
	// Source (4,0), top-right green, lands at (0, 0); (0,2), bottom-left blue, at (2,4).
	if odd.RGBAAt(0, 0) != c[1] || odd.RGBAAt(2, 4) != c[2] {
		t.Errorf("5x3 turned: (0,0)=%v (2,4)=%v", odd.RGBAAt(0, 0), odd.RGBAAt(2, 4))
	}
}

func TestWholeBoxFrame(t *testing.T) {
	if err := wholeBoxFrame(boxImage(1024, 768, image.Rect(624, 64, 688, 128))); err != nil {
		t.Errorf("a whole frame: %v", err)
	}
	torn := boxImage(1024, 768, image.Rect(624, 64, 688, 128))
	for y := 64; y < 96; y++ { // top half of the next box drawn, bottom half of the old one left
		for x := 624; x < 632; x++ {
			torn.Set(x, y, color.RGBA{0, 0, 0, 0xff})
		}
		for x := 688; x < 696; x++ {
			torn.Set(x, y, boxColor)
		}
	}
	two := boxImage(1024, 768, image.Rect(0, 0, 64, 64))
	for y := 64; y < 128; y++ {
		for x := 8; x < 72; x++ {
			two.Set(x, y, boxColor)
		}
	}
	for name, img := range map[string]image.Image{
		"torn":      torn,
		"two boxes": two,
		"empty":     boxImage(64, 64, image.Rectangle{}),
		"off path":  boxImage(1024, 768, image.Rect(3, 0, 67, 64)),
		"quadrants": quadrantsImage(1024, 768, quadrantColors),
	} {
		if err := wholeBoxFrame(img); err == nil {
			t.Errorf("%s: judged a whole frame", name)
		}
	}
}

func TestConsoleRestored(t *testing.T) {
	before := quadrantsImage(1024, 768, [4]color.RGBA{ConsoleRed, ConsoleBlue, ConsoleGreen, ConsoleGrey})
	cursor := quadrantsImage(1024, 768, [4]color.RGBA{ConsoleRed, ConsoleBlue, ConsoleGreen, ConsoleGrey})
	for y := 16; y < 32; y++ {
		for x := 0; x < 8; x++ {
			cursor.Set(x, y, color.RGBA{0xaa, 0xaa, 0xaa, 0xff})
		}
	}
	if err := consoleRestored(before, cursor); err != nil {
		t.Errorf("a cursor cell apart: %v", err)
	}
	if err := consoleRestored(before, quadrantsImage(1024, 768, quadrantColors)); err == nil {
		t.Error("vitrine's last frame left on screen passed")
	}
	if err := consoleRestored(before, boxImage(1024, 768, image.Rectangle{})); err == nil {
		t.Error("a black screen passed")
	}
	if err := consoleRestored(before, boxImage(800, 600, image.Rectangle{})); err == nil {
		t.Error("another mode passed")
	}
	blank := boxImage(1024, 768, image.Rectangle{})
	if err := consoleHasText(blank); err == nil {
		t.Error("a blank console has text")
	}
	text := boxImage(1024, 768, image.Rectangle{})
	for x := 0; x < 300; x++ { // a line of glyphs, one pixel in height is enough
		text.Set(x, 5, color.RGBA{0xaa, 0xaa, 0xaa, 0xff})
	}
	if err := consoleHasText(text); err != nil {
		t.Errorf("a line of text: %v", err)
	}
}

func TestJudgeProbe(t *testing.T) {
	data, err := os.ReadFile("../../../../kms/testdata/probe-lab-vitrine-6.12.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := judgeProbe("probe-exit=0\njson:\n" + string(data)); err != nil {
		t.Fatalf("the lab's own report: %v", err)
	}
	var rep kms.ProbeReport
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	for i, r := range rep.Imports {
		if r.FromDriver == "vgem" && strings.HasPrefix(r.ToDriver, "bochs") {
			rep.Imports[i].Import, rep.Imports[i].AddFB2 = "ok", "ok"
		}
	}
	spoilt, _ := json.Marshal(rep)
	if err := judgeProbe("json:\n" + string(spoilt)); err == nil || !strings.Contains(err.Error(), "vgem -> bochs: got ok, want EINVAL") {
		t.Errorf("vgem imported into bochs: %v", err)
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	for i, pt := range rep.PlaneTests {
		if strings.HasPrefix(pt.Driver, "bochs") && pt.PlaneType == "primary" && strings.HasSuffix(pt.Allocator, "card1") {
			rep.PlaneTests[i].TestOnly = "EINVAL"
		}
	}
	spoilt, _ = json.Marshal(rep)
	if err := judgeProbe("json:\n" + string(spoilt)); err == nil || !strings.Contains(err.Error(), "plane test bochs primary XR24 from dumb:bochs: \"EINVAL\", want ok") {
		t.Errorf("bochs refusing its own buffer on its primary plane: %v", err)
	}
	if err := judgeProbe("json:\n{}"); err == nil || !strings.Contains(err.Error(), "not probed") {
		t.Errorf("empty report: %v", err)
	}
}

func TestJudgeSwitch(t *testing.T) {
	dir := t.TempDir()
	quad := quadrantsImage(1024, 768, quadrantColors)
	box := boxImage(1024, 768, image.Rect(152, 0, 216, 64))
	shots := []string{saveShot(t, dir, "alone", quad), saveShot(t, dir, "covered", box), saveShot(t, dir, "alone-again", quad)}
	output := func(counts, stats string) string {
		return "composited-lines " + counts + "\nswitch-exit=0\n" +
			"switch| first-frame 1024x768\n" + statsLines("switch", stats) +
			"top| first-frame 1024x768\ntop| final-box x=152 y=0 w=64 h=64 frames=20\n"
	}
	goodStats := "stats: output=VGA-1 frames=24 scanout=3 composited=21 copied_bytes=9000000"
	if err := judgeSwitch(&Result{Output: []byte(output("alone=0 covered=21 alone-again=21", goodStats)), Screendumps: shots}); err != nil {
		t.Fatalf("a good switch failed: %v", err)
	}
	bad := []struct {
		name, counts, stats string
		shots               []string
		want                string
	}{
		{"composited after the top client left", "alone=0 covered=21 alone-again=22", goodStats, shots, "want 0: the dma-buf alone again"},
		{"composited at the start", "alone=1 covered=22 alone-again=22", goodStats, shots, "while the dma-buf was alone"},
		{"never scanned out", "alone=0 covered=21 alone-again=21", "stats: output=VGA-1 frames=24 scanout=0 composited=24 copied_bytes=9000000", shots, "want scanout >= 2"},
		{"stale top client", "alone=0 covered=21 alone-again=21", goodStats,
			[]string{shots[0], shots[1], saveShot(t, t.TempDir(), "alone-again", box)}, "repainted nothing after that toplevel went away"},
		{"black after the top client left", "alone=0 covered=21 alone-again=21", goodStats,
			[]string{shots[0], shots[1], saveShot(t, t.TempDir(), "alone-again", boxImage(1024, 768, image.Rectangle{}))}, "alone-again.png"},
	}
	for _, b := range bad {
		err := judgeSwitch(&Result{Output: []byte(output(b.counts, b.stats)), Screendumps: b.shots})
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s: got %v, want an error mentioning %q", b.name, err, b.want)
		}
	}
}

func TestRowsScriptsAndNames(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range append(kmsScenarios(), dmabufScenarios()...) {
		if seen[s.Name] {
			t.Errorf("duplicate row %s", s.Name)
		}
		seen[s.Name] = true
		if s.Check == nil || !s.NeedsVitrine {
			t.Errorf("%s: want a Check and NeedsVitrine", s.Name)
		}
		if strings.Contains(s.Command, "%!") {
			t.Errorf("%s: bad format verb in the script:\n%s", s.Name, s.Command)
		}
	}
	for _, want := range []string{"kms-quadrants-cirrus", "kms-moving-box-virtio-legacy", "kms-rotate90", "kms-probe",
		"kms-sigterm-console", "dmabuf-vgem-cirrus-scanout", "dmabuf-heap-bochs", "dmabuf-scanout-switch", "dmabuf-release-virtio"} {
		if !seen[want] {
			t.Errorf("no row %s", want)
		}
	}
}

func TestVitrineScenarioCheckReportsScriptFailures(t *testing.T) {
	dir := t.TempDir()
	quad := saveShot(t, dir, "quadrants", quadrantsImage(1280, 800, quadrantColors))
	s := vitrineScenario("t", []string{"virtio"}, "", vitrineRun{tag: "quadrants", want: showQuadrants})
	good := runOutput("quadrants", `"buffers":1`, "first-frame 1280x800", "stats: output=Virtual-1 frames=2 scanout=0 composited=2 copied_bytes=12288000")
	if err := s.Check(nil, &Result{Output: []byte(good), Screendumps: []string{quad}}, nil); err != nil {
		t.Fatalf("a good row failed: %v", err)
	}
	bad := "FAIL: no '^first-frame ' in /tmp/quadrants.log within 90 s\n" + good
	err := s.Check(nil, &Result{ExitCode: 1, Output: []byte(bad), Screendumps: []string{quad}}, nil)
	if err == nil || !strings.Contains(err.Error(), "FAIL: no '^first-frame '") || !strings.Contains(err.Error(), "exited 1") {
		t.Errorf("a script failure: %v", err)
	}
	if err := s.Check(nil, nil, fmt.Errorf("boot: QEMU died")); err == nil || !strings.Contains(err.Error(), "QEMU died") {
		t.Errorf("a run error: %v", err)
	}
}

// TestVitrineRunJudgeScaled: at --scale 2 the screendump must be the
// client's half-size frame with each pixel doubled; the same frame drawn
// 1:1 (a 64x64 box where 128x128 belongs) fails.
func TestVitrineRunJudgeScaled(t *testing.T) {
	dir := t.TempDir()
	box := image.Rect(232, 0, 296, 64)
	client := "first-frame 640x400\nfinal-box x=232 y=0 w=64 h=64 frames=30"
	stats := "stats: output=Virtual-1 frames=30 scanout=0 composited=30 copied_bytes=10376228"
	run := vitrineRun{tag: "scale2", want: showFinalBox, scale: 2}
	good := saveShot(t, dir, "scale2", boxImage(1280, 800, image.Rect(464, 0, 592, 128)))
	res := &Result{Output: []byte(runOutput("scale2", `"buffers":1`, client, stats)), Screendumps: []string{good}}
	if err := run.judge(nil, "t", res); err != nil {
		t.Fatalf("a good scaled run failed: %v", err)
	}
	unscaled := saveShot(t, t.TempDir(), "scale2", boxImage(1280, 800, box.Add(box.Min)))
	res = &Result{Output: []byte(runOutput("scale2", `"buffers":1`, client, stats)), Screendumps: []string{unscaled}}
	if err := run.judge(nil, "t", res); err == nil || !strings.Contains(err.Error(), "pixels differ") {
		t.Fatalf("a box not doubled: got %v, want pixels differ", err)
	}
}
