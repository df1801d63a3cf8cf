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
)

// Where the input rows put the virtio-tablet (0..32767 on both axes):
// away from the centre and from the diagonals, so a transform that
// swaps, mirrors or turns the wrong way lands elsewhere.
const (
	tabletX   = 8192
	tabletY   = 24576
	tabletMax = 32767
)

// echoKeys is what input-echo must print for the keys of inputScript,
// in this order among its keyboard lines (the tablet is another device,
// so its events may come in between; evdev codes: 42 left shift, 30 a, 29 left ctrl, 48 b;
// XKB modifier masks: Shift 1, Control 4).
var echoKeys = []string{
	"key code=42 state=pressed",
	"modifiers depressed=1 latched=0 locked=0 group=0",
	"key code=30 state=pressed",
	"key code=30 state=released",
	"key code=42 state=released",
	"modifiers depressed=0 latched=0 locked=0 group=0",
	"key code=29 state=pressed",
	"modifiers depressed=4 latched=0 locked=0 group=0",
	"key code=48 state=pressed",
	"key code=48 state=released",
	"key code=29 state=released",
	"modifiers depressed=0 latched=0 locked=0 group=0",
}

// inputScenario runs vitrine as root with --session direct on the
// virtio devices: input-echo must get the keys with their evdev codes
// and modifier state, and the tablet's position in surface coordinates
// with its button; Ctrl+Alt+Backspace must quit (and, under
// --no-quit-key, reach the client instead). Then with --rotate 90
// the quadrants must show turned counter-clockwise and the same tablet
// position must arrive where the inverse transform puts it.
//
// wl_touch is vitrine-touch's: QEMU 7.2's virtio-tablet has no
// multi-touch axes (virtio-multitouch-pci came with QEMU 8.0), so it is
// an absolute pointer here, and the touchscreen is lab-touch's uinput
// device.
func inputScenario() Scenario {
	return Scenario{
		Name:         "vitrine-input",
		NeedsVitrine: true,
		Timeout:      90 * time.Second,
		Command:      inputCommand,
		Check:        inputCheck,
	}
}

const inputCommand = awaitShell + `log=/tmp/rot0.log
vitrine --backend drm --session direct --log-level debug --log-format json -- input-echo >$log 2>&1 &
pid=$!
await '^first-frame' 1 'input-echo first frame (rotate 0)'
await '^keyboard-enter' 1 'keyboard focus'
lab-input <<EOF || fail "lab-input"
key shift down
key a
key shift up
key ctrl down
key b
key ctrl up
move 8192 24576
button left
EOF
await '^button code=272 state=released' 1 'the button release'
lab-input <<EOF || fail "lab-input"
key ctrl down
key alt down
key backspace
key alt up
key ctrl up
EOF
i=0
while kill -0 $pid 2>/dev/null; do
	i=$((i+1)); [ $i -lt 200 ] || fail "vitrine still running 10s after Ctrl+Alt+Backspace"
	sleep 0.05
done
wait $pid
echo "quit-exit=$?"
sed 's/^/rot0| /' $log
pid=
log=/tmp/rot90q.log
vitrine --backend drm --session direct --rotate 90 --log-format json -- shm-client --pattern quadrants --fullscreen >$log 2>&1 &
pid=$!
await '^first-frame' 1 'shm-client first frame (rotate 90)'
lab-screendump rot90 >/dev/null || fail "screendump rot90"
kill $pid; wait $pid
sed 's/^/rot90q| /' $log
log=/tmp/rot90.log
vitrine --backend drm --session direct --rotate 90 --no-quit-key --log-level debug --log-format json -- input-echo >$log 2>&1 &
pid=$!
await '^first-frame' 1 'input-echo first frame (rotate 90)'
# The tablet is still where the first run left it, and evdev drops an
# unchanged position: move elsewhere first so the target position is an
# event of its own.
lab-input <<EOF || fail "lab-input"
move 16384 16384
move 8192 24576
button left
EOF
await '^button code=272 state=released' 1 'the button release (rotate 90)'
lab-input <<EOF || fail "lab-input"
key ctrl down
key alt down
key backspace
key alt up
key ctrl up
EOF
await '^key code=14 state=released' 1 'Backspace reaching the client under --no-quit-key'
kill -0 $pid 2>/dev/null && echo "no-quit-key-alive=yes"
kill $pid; wait $pid
sed 's/^/rot90| /' $log
`

// inputCheck judges inputScenario's output.
func inputCheck(_ *Env, res *Result, runErr error) error {
	if runErr != nil {
		return runErr
	}
	out, problems := guestOutput(res)
	if err := inOrder(tagged(out, "rot0"), echoKeys); err != nil {
		problems = append(problems, "rotate 0: "+err.Error())
	}
	if err := inOrder(tagged(out, "rot0"), []string{"button code=272 state=pressed", "button code=272 state=released"}); err != nil {
		problems = append(problems, "rotate 0: "+err.Error())
	}
	if countEvents(vitrineEvents(tagged(out, "rot0")), "quit.key") == 0 {
		problems = append(problems, "Ctrl+Alt+Backspace did not make vitrine quit (no quit.key event)")
	}
	if !regexp.MustCompile(`(?m)^no-quit-key-alive=yes$`).MatchString(out) || countEvents(vitrineEvents(tagged(out, "rot90")), "quit.key") > 0 {
		problems = append(problems, "with --no-quit-key, Ctrl+Alt+Backspace still quit vitrine")
	}
	// Every run logs JSON: no errors in any, and both rotated runs
	// announce the output clients see as turned.
	for _, run := range []struct {
		tag, transform string
	}{{"rot0", "normal"}, {"rot90q", "90"}, {"rot90", "90"}} {
		evs := vitrineEvents(tagged(out, run.tag))
		if bad := errorEvents(evs); len(bad) > 0 {
			problems = append(problems, run.tag+": "+strings.Join(bad, "\n"))
		}
		if countEvents(evs, "output.added", "transform", run.transform) == 0 {
			problems = append(problems, fmt.Sprintf("%s: no output.added event with transform=%s", run.tag, run.transform))
		}
	}
	for _, rot := range []int{0, 90} {
		tag := fmt.Sprintf("rot%d", rot)
		size, err := firstFrameSize(out, tag)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		want := tabletSurfacePoint(rot, size)
		got, err := pressPosition(tagged(out, tag))
		if err != nil {
			problems = append(problems, tag+": "+err.Error())
			continue
		}
		// wl_fixed has 1/256 of a pixel; input-echo prints two decimals.
		if math.Abs(got[0]-want[0]) > 0.02 || math.Abs(got[1]-want[1]) > 0.02 {
			problems = append(problems, fmt.Sprintf("rotate %d: tablet at %d,%d of %d pressed at surface %.2f,%.2f, want %.2f,%.2f (%dx%d surface)",
				rot, tabletX, tabletY, tabletMax, got[0], got[1], want[0], want[1], size.X, size.Y))
		}
	}
	// The panel is the logical 90° image turned counter-clockwise: the
	// logical top-right quadrant lands top-left, and so on round.
	if size, err := firstFrameSize(out, "rot90q"); err != nil {
		problems = append(problems, err.Error())
	} else {
		c := quadrantColors
		want := quadrantsImage(size.Y, size.X, [4]color.RGBA{c[1], c[3], c[0], c[2]})
		if err := compareScreendump(res, "rot90", want); err != nil {
			problems = append(problems, "rotate 90: "+err.Error())
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s\noutput ends:\n%s", strings.Join(problems, "\n"), indent(tail(out, 25)))
	}
	return nil
}

// tabletSurfacePoint is where the tablet position must land on a
// fullscreen surface of the given size under --rotate rot. The panel
// shows the logical image turned counter-clockwise by rot (wl_output
// transform convention), so a panel point is turned back clockwise.
func tabletSurfacePoint(rot int, surface image.Point) [2]float64 {
	nx, ny := float64(tabletX)/tabletMax, float64(tabletY)/tabletMax
	lw, lh := float64(surface.X), float64(surface.Y)
	switch rot {
	case 90:
		// Panel is lh×lw. Turning the logical image counter-clockwise
		// puts its top-right corner at the panel's top-left and its
		// top-left at the panel's bottom-left: panel (ly, lw-lx).
		px, py := nx*lh, ny*lw
		return [2]float64{lw - py, px}
	}
	return [2]float64{nx * lw, ny * lh}
}

// tagged returns the lines prefixed with "TAG| ", without the prefix.
func tagged(out, tag string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if s, ok := strings.CutPrefix(l, tag+"| "); ok {
			lines = append(lines, s)
		}
	}
	return lines
}

// inOrder wants each of want as a whole line, in this order.
func inOrder(lines, want []string) error {
	i := 0
	for _, l := range lines {
		if i < len(want) && l == want[i] {
			i++
		}
	}
	if i < len(want) {
		return fmt.Errorf("input-echo printed %q but not, after it, %q", want[:i], want[i])
	}
	return nil
}

var pointerLine = regexp.MustCompile(`^pointer-(?:enter|motion) x=(-?[0-9.]+) y=(-?[0-9.]+)$`)

// pressPosition is the pointer position input-echo last saw before the
// first left button press.
func pressPosition(lines []string) ([2]float64, error) {
	var pos [2]float64
	seen := false
	for _, l := range lines {
		if m := pointerLine.FindStringSubmatch(l); m != nil {
			pos[0], _ = strconv.ParseFloat(m[1], 64)
			pos[1], _ = strconv.ParseFloat(m[2], 64)
			seen = true
		}
		if l == "button code=272 state=pressed" {
			if !seen {
				return pos, fmt.Errorf("button pressed without a pointer-enter or pointer-motion before it")
			}
			return pos, nil
		}
	}
	return pos, fmt.Errorf("no left button press")
}
