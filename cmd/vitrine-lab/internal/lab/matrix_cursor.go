package lab

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/vitrine-wm/vitrine/cmd/vitrine-lab/internal/screencheck"
)

// cursorColor and cursorSize are input-echo --cursor's image: a magenta
// square whose top-left corner is the hotspot (examples/input-echo).
var cursorColor = color.RGBA{0xff, 0x00, 0xff, 0xff}

const cursorSize = 32

// cursorMoves is how many pointer moves the cursor row sends while
// counting frames.
const cursorMoves = 6

// cursorScenario proves the client's cursor on the cursor plane where
// there is one and composited otherwise. On virtio-gpu (a cursor plane)
// input-echo --cursor gets the cursor on the plane, and pointer moves
// cost no composited frame. On cirrus (no cursor plane) the cursor is
// composited: the screendump shows the magenta square at the pointer.
func cursorScenario() Scenario {
	return Scenario{
		Name:         "vitrine-cursor",
		Displays:     []string{"virtio", "cirrus"},
		NeedsVitrine: true,
		Timeout:      90 * time.Second,
		Command:      cursorCommand,
		Check:        cursorCheck,
	}
}

var cursorCommand = awaitShell + eventShell + fmt.Sprintf(`log=/tmp/virtio.log
vitrine --backend drm --session direct --drm-device /dev/dri/card0 --log-level debug --log-format json -- input-echo --cursor >$log 2>&1 &
pid=$!
await '^first-frame' 1 'input-echo first frame (virtio)'
lab-input <<EOF || fail "lab-input"
move 8192 8192
EOF
await '^cursor-set' 1 'the cursor set on pointer enter (virtio)'
awaitev $log cursor.plane 1 'the cursor on the plane (virtio)'
sleep 0.5
before=$(matchev $log frame)
lab-input <<EOF || fail "lab-input"
move 9000 9000
move 10000 9500
move 11000 10000
move 12000 11000
move 14000 12000
move 16384 16384
EOF
await '^pointer-motion' %d 'the pointer moves (virtio)'
sleep 1
after=$(matchev $log frame)
echo "virtio-frames-during-motion=$((after-before))"
kill $pid; wait $pid
grep -vF '"event":"frame"' $log | sed 's/^/virtio| /'
pid=
log=/tmp/cirrus.log
vitrine --backend drm --session direct --drm-device /dev/dri/card1 --log-level debug --log-format json -- input-echo --cursor >$log 2>&1 &
pid=$!
await '^first-frame' 1 'input-echo first frame (cirrus)'
lab-input <<EOF || fail "lab-input"
move 16000 16000
move %d %d
EOF
await '^cursor-set' 1 'the cursor set on pointer enter (cirrus)'
await '^pointer-motion' 1 'the pointer moves (cirrus)'
sleep 1
lab-screendump cirrus cirrus >/dev/null || fail "screendump cirrus"
kill $pid; wait $pid
grep -vF '"event":"frame"' $log | sed 's/^/cirrus| /'
pid=
log=/tmp/blank.log
vitrine --backend drm --session direct --drm-device /dev/dri/card0 --idle-timeout %[4]s --log-level debug --log-format json -- shm-client --pattern quadrants --fullscreen >$log 2>&1 &
pid=$!
await '^first-frame' 1 'shm-client first frame (blank)'
sleep %[5]s
lab-screendump blank-lit >/dev/null || fail "screendump blank-lit"
awaitev $log output.power 1 'Virtual-1 switched off after %[4]s without input' '"output":"Virtual-1"' '"on":false'
sleep 1
lab-screendump blank-dark >/dev/null || fail "screendump blank-dark"
frames=$(matchev $log frame)
lab-input <<EOF || fail "lab-input"
key shift
EOF
awaitev $log output.power 1 'Virtual-1 on again after a key' '"output":"Virtual-1"' '"on":true'
awaitev $log frame $((frames + 1)) 'a frame after waking'
sleep %[5]s
lab-screendump blank-back >/dev/null || fail "screendump blank-back"
kill $pid; wait $pid
grep -vF '"event":"frame"' $log | sed 's/^/blank| /'
`, cursorMoves, tabletX, tabletY, blankAfter, settle)

// blankAfter is the blanking phase's --idle-timeout: long enough for
// the lit screendump after the first frame (TCG is slow), short for
// the row's time.
const blankAfter = "3s"

// cursorCheck judges cursorScenario's output.
func cursorCheck(_ *Env, res *Result, runErr error) error {
	if runErr != nil {
		return runErr
	}
	out, problems := guestOutput(res)
	if countEvents(vitrineEvents(tagged(out, "virtio")), "cursor.plane") == 0 {
		problems = append(problems, "virtio: vitrine never logged the cursor on the cursor plane (cursor.plane)")
	}
	if m := regexp.MustCompile(`(?m)^virtio-frames-during-motion=(\d+)$`).FindStringSubmatch(out); m == nil {
		problems = append(problems, "virtio: no frame count for the pointer moves")
	} else if m[1] != "0" {
		problems = append(problems, fmt.Sprintf("virtio: %s frames composited while only the pointer moved, want 0", m[1]))
	}
	if countEvents(vitrineEvents(tagged(out, "cirrus")), "cursor.composited") == 0 {
		problems = append(problems, "cirrus: vitrine did not say the cursor is composited (cursor.composited)")
	}
	if err := cursorAtPointer(res, tagged(out, "cirrus")); err != nil {
		problems = append(problems, "cirrus: "+err.Error())
	}
	problems = append(problems, blankProblems(res, out)...)
	if len(problems) > 0 {
		return fmt.Errorf("%s\noutput ends:\n%s", strings.Join(problems, "\n"), indent(tail(out, 25)))
	}
	return nil
}

// cursorAtPointer wants the cirrus screendump to show the cursor square
// with its top-left corner at the last pointer position input-echo
// printed (the fullscreen surface's coordinates are the output's), and
// input-echo's background beside it.
func cursorAtPointer(res *Result, lines []string) error {
	re := regexp.MustCompile(`^pointer-motion x=([0-9.]+) y=([0-9.]+)$`)
	var at image.Point
	found := false
	for _, l := range lines {
		if m := re.FindStringSubmatch(l); m != nil {
			x, _ := strconv.ParseFloat(m[1], 64)
			y, _ := strconv.ParseFloat(m[2], 64)
			at = image.Pt(int(math.Floor(x)), int(math.Floor(y)))
			found = true
		}
	}
	if !found {
		return fmt.Errorf("input-echo printed no pointer-motion line")
	}
	path, err := screendumpPath(res, "cirrus")
	if err != nil {
		return err
	}
	img, err := screencheck.ReadPNG(path)
	if err != nil {
		return fmt.Errorf("screendump cirrus: %w", err)
	}
	is := func(p image.Point, c color.RGBA) bool {
		r, g, b, _ := img.At(p.X, p.Y).RGBA()
		near := func(v uint32, w uint8) bool { return math.Abs(float64(v>>8)-float64(w)) <= 8 }
		return near(r, c.R) && near(g, c.G) && near(b, c.B)
	}
	bad := 0
	for y := at.Y; y < at.Y+cursorSize; y++ {
		for x := at.X; x < at.X+cursorSize; x++ {
			if !is(image.Pt(x, y), cursorColor) {
				bad++
			}
		}
	}
	if bad > 0 {
		return fmt.Errorf("%s: %d of %d pixels of the %dx%d cursor at %v are not magenta", path, bad, cursorSize*cursorSize, cursorSize, cursorSize, at)
	}
	bg := color.RGBA{0x20, 0x40, 0x80, 0xff} // input-echo's background
	for _, p := range []image.Point{at.Sub(image.Pt(1, 1)), at.Add(image.Pt(cursorSize, cursorSize))} {
		if !is(p, bg) {
			return fmt.Errorf("%s: pixel %v beside the cursor is %v, want the client's background %v", path, p, img.At(p.X, p.Y), bg)
		}
	}
	return nil
}

// blankProblems judges the blanking phase: quadrants on Virtual-1, then
// after --idle-timeout the CRTC switched off (QEMU shows its dark "not
// active" picture instead), and after one key the quadrants again.
func blankProblems(res *Result, out string) []string {
	var problems []string
	lines := tagged(out, "blank")
	joined := strings.Join(lines, "\n")
	evs := vitrineEvents(lines)
	for _, want := range [][]string{{"idle.blank"}, {"output.power", "output", "Virtual-1", "on", "false"}, {"idle.wake"}, {"output.power", "output", "Virtual-1", "on", "true"}} {
		if countEvents(evs, want[0], want[1:]...) != 1 {
			problems = append(problems, fmt.Sprintf("blank: want one %s event with %q", want[0], want[1:]))
		}
	}
	if n := countEvents(evs, "output.power_failed"); n > 0 {
		problems = append(problems, "blank: the display refused to switch: "+strings.Join(errorEvents(findEvents(evs, "output.power_failed")), "; "))
	}
	for _, p := range errorEvents(evs) {
		problems = append(problems, "blank: "+p)
	}
	size, err := firstFrameSize(joined, "")
	if err != nil {
		return append(problems, "blank: "+err.Error())
	}
	want := quadrantsImage(size.X, size.Y, quadrantColors)
	for _, name := range []string{"blank-lit", "blank-back"} {
		if err := compareScreendump(res, name, want); err != nil {
			problems = append(problems, "blank: "+err.Error())
		}
	}
	if err := darkScreendump(res, "blank-dark"); err != nil {
		problems = append(problems, "blank: "+err.Error())
	}
	return problems
}

// darkScreendump wants nine in ten of screendump name's pixels dark
// (each channel below 48): a display switched off, whatever QEMU draws
// for it.
func darkScreendump(res *Result, name string) error {
	path, err := screendumpPath(res, name)
	if err != nil {
		return err
	}
	img, err := screencheck.ReadPNG(path)
	if err != nil {
		return fmt.Errorf("screendump %s: %w", name, err)
	}
	b := img.Bounds()
	dark := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r>>8 < 48 && g>>8 < 48 && bl>>8 < 48 {
				dark++
			}
		}
	}
	if total := b.Dx() * b.Dy(); dark*10 < total*9 {
		return fmt.Errorf("%s: %d of %d pixels dark, want nine in ten: the display was not switched off", path, dark, total)
	}
	return nil
}
