package lab

import (
	"fmt"
	"image"
	"image/color"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vitrine-wm/vitrine/cmd/vitrine-lab/internal/screencheck"
)

// TestTabletSurfacePointTurnsBack checks the expected input numbers
// against the forward direction of the convention: the panel shows the
// logical image turned 90° counter-clockwise, so turning the expected
// logical point that way must land on the tablet's panel point.
func TestTabletSurfacePointTurnsBack(t *testing.T) {
	nx, ny := float64(tabletX)/tabletMax, float64(tabletY)/tabletMax
	for _, tc := range []struct {
		rot     int
		surface image.Point
	}{{0, image.Pt(1280, 800)}, {90, image.Pt(800, 1280)}} {
		l := tabletSurfacePoint(tc.rot, tc.surface)
		var px, py, pw, ph float64
		switch tc.rot {
		case 0:
			px, py, pw, ph = l[0], l[1], float64(tc.surface.X), float64(tc.surface.Y)
		case 90:
			// Counter-clockwise: logical top edge becomes the panel's
			// left edge, read bottom to top.
			px, py = l[1], float64(tc.surface.X)-l[0]
			pw, ph = float64(tc.surface.Y), float64(tc.surface.X)
		}
		if d := px/pw - nx; d > 1e-9 || d < -1e-9 {
			t.Errorf("rotate %d: logical %v is panel x %.4f of the width, want %.4f", tc.rot, l, px/pw, nx)
		}
		if d := py/ph - ny; d > 1e-9 || d < -1e-9 {
			t.Errorf("rotate %d: logical %v is panel y %.4f of the height, want %.4f", tc.rot, l, py/ph, ny)
		}
	}
	if got := fmt.Sprintf("%.2f,%.2f", tabletSurfacePoint(90, image.Pt(800, 1280))[0], tabletSurfacePoint(90, image.Pt(800, 1280))[1]); got != "199.98,320.01" {
		t.Errorf("rotate 90 point = %s, want 199.98,320.01", got)
	}
}

func writeQuadrants(t *testing.T, dir, name string, w, h int, c [4]color.RGBA, spoil bool) string {
	t.Helper()
	img := quadrantsImage(w, h, c)
	if spoil {
		img.Set(w-1, h-1, color.RGBA{0x12, 0x34, 0x56, 0xff})
	}
	p := filepath.Join(dir, name+".png")
	if err := screencheck.WritePNG(p, img); err != nil {
		t.Fatal(err)
	}
	return p
}

// inputOutput is what a good vitrine-input run prints, with the pointer
// press at the given surface positions.
func inputOutput(rot0, rot90 string) string {
	var b strings.Builder
	b.WriteString("quit-exit=0\n")
	b.WriteString("rot0| first-frame 1280x800\n")
	for _, k := range echoKeys[:4] {
		b.WriteString("rot0| " + k + "\n")
	}
	// The tablet's events may arrive between the keys.
	b.WriteString("rot0| pointer-motion x=" + rot0 + "\nrot0| button code=272 state=pressed\nrot0| button code=272 state=released\n")
	for _, k := range echoKeys[4:] {
		b.WriteString("rot0| " + k + "\n")
	}
	b.WriteString(`rot0| {"time":"x","level":"INFO","msg":"Ctrl+Alt+Backspace: quitting","event":"quit.key"}` + "\n")
	b.WriteString("rot90q| first-frame 800x1280\n")
	b.WriteString("rot90| first-frame 800x1280\nrot90| pointer-enter x=0.00 y=0.00\n")
	b.WriteString("rot90| pointer-motion x=" + rot90 + "\nrot90| button code=272 state=pressed\nrot90| button code=272 state=released\n")
	b.WriteString("no-quit-key-alive=yes\n")
	return b.String()
}

func TestInputCheck(t *testing.T) {
	dir := t.TempDir()
	c := quadrantColors
	turned := [4]color.RGBA{c[1], c[3], c[0], c[2]}
	good := writeQuadrants(t, dir, "rot90", 1280, 800, turned, false)
	res := &Result{Output: []byte(inputOutput("320.01 y=600.02", "199.98 y=320.01")), Screendumps: []string{good}}
	if err := inputCheck(nil, res, nil); err != nil {
		t.Fatalf("a good run failed: %v", err)
	}

	bad := []struct {
		name string
		res  *Result
		want string
	}{
		{"rotated the wrong way", &Result{Output: []byte(inputOutput("320.01 y=600.02", "600.02 y=960.00")), Screendumps: []string{good}}, "rotate 90: tablet"},
		{"not rotated", &Result{Output: []byte(inputOutput("320.01 y=600.02", "320.01 y=600.02")), Screendumps: []string{good}}, "rotate 90: tablet"},
		{"shift lost", &Result{Output: []byte(strings.Replace(inputOutput("320.01 y=600.02", "199.98 y=320.01"), "depressed=1 ", "depressed=0 ", 1)), Screendumps: []string{good}}, "modifiers depressed=1"},
		{"screen turned clockwise", &Result{Output: []byte(inputOutput("320.01 y=600.02", "199.98 y=320.01")),
			Screendumps: []string{writeQuadrants(t, t.TempDir(), "rot90", 1280, 800, [4]color.RGBA{c[2], c[0], c[3], c[1]}, false)}}, "rotate 90:"},
		{"quit despite --no-quit-key", &Result{Output: []byte(strings.Replace(inputOutput("320.01 y=600.02", "199.98 y=320.01"), "no-quit-key-alive=yes", "", 1)), Screendumps: []string{good}}, "--no-quit-key"},
		{"no quit", &Result{Output: []byte(strings.Replace(inputOutput("320.01 y=600.02", "199.98 y=320.01"), `"event":"quit.key"`, `"event":"x"`, 1)), Screendumps: []string{good}}, "Ctrl+Alt+Backspace"},
	}
	for _, b := range bad {
		err := inputCheck(nil, b.res, nil)
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s: got %v, want an error mentioning %q", b.name, err, b.want)
		}
	}
}

func vtOutput(fd1, fd20 int, second string) string {
	return fmt.Sprintf(`user=lab
first-frame 1280x800
vitrine-user=lab
fds cycle1=%d cycle20=%d
card0-fds=1
box-animates-after-cycles
second-exit=1
second| time=x level=INFO msg="backend selected"
second| %s
vitrine| time=x level=INFO msg="seatd: seat open" seat=seat0
vitrine| time=x level=INFO msg="seatd: seat disabled"
vitrine| time=x level=INFO msg="seatd: seat enabled"
after-ctrl-alt-f2=tty2
echo| keyboard-enter keys=
echo| modifiers depressed=0 latched=0 locked=0 group=0
echo| key code=29 state=pressed
echo| modifiers depressed=4 latched=0 locked=0 group=0
echo| key code=56 state=pressed
echo| modifiers depressed=12 latched=0 locked=0 group=0
echo| keyboard-leave
echo| keyboard-enter keys=
echo| modifiers depressed=0 latched=0 locked=0 group=0
echo| key code=30 state=pressed
echo| key code=30 state=released
`, fd1, fd20, second)
}

func TestVTCycleCheck(t *testing.T) {
	dir := t.TempDir()
	before := writeQuadrants(t, dir, "before", 64, 40, quadrantColors, false)
	after := writeQuadrants(t, dir, "after", 64, 40, quadrantColors, false)
	away := writeQuadrants(t, dir, "away", 64, 40, [4]color.RGBA{}, false)
	shots := []string{before, away, after}
	s := vtCycleScenario(SessionSeatd)
	okSecond := "vitrine: open seat through seatd at /run/seatd.sock: device busy: seatd refused the seat; another compositor holds it on this VT"
	out := strings.Replace(vtOutput(23, 23, okSecond), "1280x800", "64x40", 1)
	if err := s.Check(nil, &Result{Output: []byte(out), Screendumps: shots}, nil); err != nil {
		t.Fatalf("a good run failed: %v", err)
	}
	staleAway := writeQuadrants(t, t.TempDir(), "away", 64, 40, quadrantColors, false)
	spoiltAfter := writeQuadrants(t, t.TempDir(), "after", 64, 40, quadrantColors, true)
	for _, b := range []struct {
		name  string
		out   string
		shots []string
		want  string
	}{
		{"fd leak", strings.Replace(vtOutput(23, 42, okSecond), "1280x800", "64x40", 1), shots, "grew from 23 after cycle 1 to 42"},
		{"stale screen on VT 2", out, []string{before, staleAway, after}, "kept showing it"},
		{"one pixel wrong after the cycles", out, []string{before, away, spoiltAfter}, "1 of 2560 pixels differ"},
		{"a warning beside the error", strings.Replace(out, "second| vitrine:", "second| time=x level=WARN msg=\"output not lit\"\nsecond| vitrine:", 1), shots, "a log record besides"},
		{"unclear second error", strings.Replace(out, okSecond, "vitrine: mode rejected: permission denied", 1), shots, "another compositor holds"},
		{"errors in vitrine's log", out + "vitrine| time=x level=ERROR msg=\"present failed\" err=\"bad file descriptor\"\n", shots, "present failed"},
		{"modifiers stuck after Ctrl+Alt+F2", strings.Replace(out, "echo| keyboard-enter keys=\necho| modifiers depressed=0 latched=0 locked=0 group=0\necho| key code=30", "echo| key code=30", 1), shots, "modifiers depressed=12"},
		{"no screendump", out, []string{before, away}, `no screendump "after"`},
	} {
		err := s.Check(nil, &Result{Output: []byte(b.out), Screendumps: b.shots}, nil)
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s: got %v, want an error mentioning %q", b.name, err, b.want)
		}
	}
}

func TestOneErrorLine(t *testing.T) {
	for _, tc := range []struct {
		out string
		ok  bool
	}{
		{"x| time=1 level=INFO msg=a\nx| vitrine: no\n", true},
		{"x| vitrine: no\nx| vitrine: again\n", false},
		{"x| vitrine: no\nx| time=1 level=INFO msg=after\n", false},
		{"x| time=1 level=ERROR msg=a\nx| vitrine: no\n", false},
		{"y| vitrine: other tag\n", false},
	} {
		if err := oneErrorLine(tc.out, "x"); (err == nil) != tc.ok {
			t.Errorf("oneErrorLine(%q) = %v, want ok=%v", tc.out, err, tc.ok)
		}
	}
}
