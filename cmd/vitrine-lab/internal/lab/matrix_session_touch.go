package lab

import (
	"fmt"
	"image"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// touchFrames is what the touch rows play, frame by frame, in the
// touchscreen's units (0..TouchMax): two fingers at once, away from the
// centre and the diagonals so a transform that swaps, mirrors or turns
// the wrong way lands elsewhere; a move of X alone (the kernel drops the
// unchanged Y, so the compositor must remember it); both fingers moving
// in one frame; a lift while the other finger stays; a new finger taking
// the freed slot; and two lifts in one frame.
var touchFrames = [][]touchAction{
	{{"down", 0, 1024, 3072}, {"down", 1, 3072, 512}},
	{{"move", 0, 1536, 3072}},
	{{"move", 1, 2560, 1024}, {"move", 0, 1536, 2560}},
	{{"up", 0, 0, 0}},
	{{"down", 2, 512, 512}},
	{{"up", 1, 0, 0}, {"up", 2, 0, 0}},
}

// touchScript renders touchFrames as a lab-touch script that waits for
// vitrine to open the device and for the caller's SIGUSR1 (the client
// has its wl_touch: touches before that never reach it), and holds the
// device until killed, so no event is lost to the device going away
// before vitrine read it.
func touchScript(frames [][]touchAction) string {
	var b strings.Builder
	b.WriteString("wait-open vitrine\nwait-signal\n")
	for _, f := range frames {
		for i, a := range f {
			if i > 0 {
				b.WriteString("; ")
			}
			if a.op == "up" {
				fmt.Fprintf(&b, "up %d", a.finger)
			} else {
				fmt.Fprintf(&b, "%s %d %d %d", a.op, a.finger, a.x, a.y)
			}
		}
		// Frames apart in time, as fingers are.
		b.WriteString("\nsleep 30\n")
	}
	b.WriteString("hold\n")
	return b.String()
}

// touchScenario proves wl_touch end to end on a real kernel: a uinput
// multi-touch screen, vitrine's evdev reader and the delivery to the
// surface under the touch point, as root with --session direct, at
// rotation 0, 90 and 270 (a transform that turns the wrong way passes
// neither 90 nor 270).
func touchScenario() Scenario {
	return Scenario{
		Name:         "vitrine-touch",
		NeedsVitrine: true,
		Timeout:      90 * time.Second,
		Command:      touchCommand(),
		Check:        touchCheck,
	}
}

// touchPhaseShell runs vitrine ($1: extra flags) with input-echo, plays
// the touch script once vitrine has the device open and prints the
// client's lines tagged $2.
const touchPhaseShell = `touchphase() {
	log=/tmp/$2.log
	vitrine --backend drm --session direct --log-level debug --log-format json --trace-protocol $1 -- input-echo >$log 2>&1 &
	pid=$!
	await '^first-frame' 1 "input-echo first frame ($2)"
	lab-touch /tmp/touch.script >/tmp/$2.touch 2>&1 &
	tpid=$!
	awaitev $log input.added 1 "vitrine adding the touchscreen ($2)" '"name":"` + touchName + `"'
	# vitrine traces a request before it dispatches it, on the loop
	# that later delivers the touches.
	awaitev $log request 1 "input-echo asking for wl_touch ($2)" '"request":"get_touch"'
	kill -USR1 $tpid
	await '^touch-frame$' 6 "six touch frames ($2)"
	kill $tpid
	wait $tpid
	echo "$2-touch-exit=$?"
	sed "s/^/$2-touch| /" /tmp/$2.touch
	kill $pid
	wait $pid
	grep -v -e '"event":"frame"' -e '"event":"request"' $log | sed "s/^/$2| /"
	pid=
}
`

func touchCommand() string {
	return awaitShell + eventShell + touchPhaseShell + "cat >/tmp/touch.script <<'EOF'\n" + touchScript(touchFrames) + "EOF\n" +
		`set -- $(cat /sys/class/drm/card0-*/modes | head -n 1)
echo "panel=$1"
touchphase "" rot0
touchphase "--rotate 90" rot90
touchphase "--rotate 270" rot270
`
}

var (
	panelLine     = regexp.MustCompile(`(?m)^panel=(\d+)x(\d+)$`)
	touchDownLine = regexp.MustCompile(`^touch-(down|motion) id=(-?\d+) x=(-?[0-9.]+) y=(-?[0-9.]+)$`)
	touchUpLine   = regexp.MustCompile(`^touch-up id=(-?\d+)$`)
)

// touchCheck judges touchScenario's output.
func touchCheck(_ *Env, res *Result, runErr error) error {
	if runErr != nil {
		return runErr
	}
	out, problems := guestOutput(res)
	m := panelLine.FindStringSubmatch(out)
	if m == nil {
		problems = append(problems, "no panel=WxH line (the mode of card0's connector)")
	} else {
		w, _ := strconv.Atoi(m[1])
		h, _ := strconv.Atoi(m[2])
		panel := image.Pt(w, h)
		for _, rot := range []int{0, 90, 270} {
			tag := fmt.Sprintf("rot%d", rot)
			if err := judgeTouchPhase(out, tag, rot, panel, touchFrames); err != nil {
				problems = append(problems, fmt.Sprintf("rotate %d: %v", rot, err))
			}
			for _, p := range judgeTouchEvents(vitrineEvents(tagged(out, tag))) {
				problems = append(problems, fmt.Sprintf("rotate %d: %s", rot, p))
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s\noutput ends:\n%s", strings.Join(problems, "\n"), indent(tail(out, 25)))
	}
	return nil
}

// judgeTouchEvents checks vitrine's JSON log of one touch phase: it
// opened the lab touchscreen as a touch device (input.added, caps
// naming touch) and logged no error.
func judgeTouchEvents(evs []logEvent) []string {
	problems := errorEvents(evs)
	if !slices.ContainsFunc(findEvents(evs, "input.added", "name", touchName), func(e logEvent) bool {
		return slices.Contains(strings.Split(e.Str("caps"), ","), "touch")
	}) {
		problems = append(problems, fmt.Sprintf("no input.added event for %q with touch in its caps", touchName))
	}
	return problems
}

// judgeTouchPhase checks one vitrine run of the touch script: the
// helper's exit, the surface size, and every wl_touch event frame by
// frame against frames.
func judgeTouchPhase(out, tag string, rot int, panel image.Point, frames [][]touchAction) error {
	if err := judgeTouchRun(out, tag, rot, panel); err != nil {
		return err
	}
	return judgeTouchLines(tagged(out, tag), rot, panel, frames)
}

// judgeTouchRun checks what every touch phase must show: lab-touch
// exited 0, and input-echo's surface is the panel at rotation rot.
func judgeTouchRun(out, tag string, rot int, panel image.Point) error {
	if !regexp.MustCompile(`(?m)^` + tag + `-touch-exit=0$`).MatchString(out) {
		return fmt.Errorf("lab-touch did not exit 0: %s", strings.Join(tagged(out, tag+"-touch"), " | "))
	}
	size, err := firstFrameSize(out, tag)
	if err != nil {
		return err
	}
	want := panel
	if rot%180 == 90 {
		want = image.Pt(panel.Y, panel.X)
	}
	if size != want {
		return fmt.Errorf("input-echo's surface is %dx%d, want %dx%d (the %dx%d panel at rotation %d)", size.X, size.Y, want.X, want.Y, panel.X, panel.Y, rot)
	}
	return nil
}

// judgeTouchLines wants input-echo's touch-* lines to be exactly frames:
// per frame the same downs, motions and ups (in any order within the
// frame), each id tracking its finger, positions within 0.02 of where
// the touchscreen point lands on the surface.
func judgeTouchLines(lines []string, rot int, panel image.Point, frames [][]touchAction) error {
	var got [][]string
	var cur []string
	for _, l := range lines {
		if !strings.HasPrefix(l, "touch-") {
			continue
		}
		if l == "touch-frame" {
			got = append(got, cur)
			cur = nil
			continue
		}
		cur = append(cur, l)
	}
	if len(cur) > 0 {
		return fmt.Errorf("touch events after the last touch-frame: %q", cur)
	}
	if len(got) != len(frames) {
		return fmt.Errorf("input-echo printed %d touch frames, want %d: %q", len(got), len(frames), got)
	}
	ids := map[int]int{} // finger -> wl_touch id while down
	for i, f := range frames {
		if len(got[i]) != len(f) {
			return fmt.Errorf("frame %d: got %q, want %d events (%s)", i+1, got[i], len(f), describeFrame(f))
		}
		used := make([]bool, len(got[i]))
		for _, a := range f {
			j := matchTouchLine(got[i], used, a, ids, rot, panel)
			if j < 0 {
				wantPt := touchSurfacePoint(rot, panel, a.x, a.y)
				return fmt.Errorf("frame %d: no line for %s %d (id %s, surface %.2f,%.2f from touchscreen %d,%d of %d); got %q",
					i+1, a.op, a.finger, idString(ids, a.finger), wantPt[0], wantPt[1], a.x, a.y, TouchMax, got[i])
			}
			used[j] = true
		}
	}
	return nil
}

// matchTouchLine finds the unused line of a frame that is action a and
// updates the finger's id; -1 if there is none.
func matchTouchLine(lines []string, used []bool, a touchAction, ids map[int]int, rot int, panel image.Point) int {
	for j, l := range lines {
		if used[j] {
			continue
		}
		if a.op == "up" {
			m := touchUpLine.FindStringSubmatch(l)
			id, ok := ids[a.finger]
			if m != nil && ok && m[1] == strconv.Itoa(id) {
				delete(ids, a.finger)
				return j
			}
			continue
		}
		m := touchDownLine.FindStringSubmatch(l)
		if m == nil || (m[1] == "down") != (a.op == "down") {
			continue
		}
		id, _ := strconv.Atoi(m[2])
		if a.op == "down" {
			if inUse(ids, id) {
				continue // an id must not name two points at once
			}
		} else if cur, ok := ids[a.finger]; !ok || cur != id {
			continue
		}
		x, _ := strconv.ParseFloat(m[3], 64)
		y, _ := strconv.ParseFloat(m[4], 64)
		want := touchSurfacePoint(rot, panel, a.x, a.y)
		// wl_fixed has 1/256 of a pixel; input-echo prints two decimals.
		if math.Abs(x-want[0]) > 0.02 || math.Abs(y-want[1]) > 0.02 {
			continue
		}
		ids[a.finger] = id
		return j
	}
	return -1
}

func inUse(ids map[int]int, id int) bool {
	for _, v := range ids {
		if v == id {
			return true
		}
	}
	return false
}

func idString(ids map[int]int, finger int) string {
	if id, ok := ids[finger]; ok {
		return strconv.Itoa(id)
	}
	return "new"
}

func describeFrame(f []touchAction) string {
	var s []string
	for _, a := range f {
		s = append(s, fmt.Sprintf("%s %d", a.op, a.finger))
	}
	return strings.Join(s, ", ")
}

// touchSurfacePoint is where touchscreen point x,y (0..TouchMax, the
// whole panel) must land on a fullscreen surface when the panel shows
// the logical image turned counter-clockwise by rot.
func touchSurfacePoint(rot int, panel image.Point, x, y int32) [2]float64 {
	return panelToSurface(rot, panel, float64(x)/TouchMax, float64(y)/TouchMax)
}

// panelToSurface maps a normalized panel point to the logical image.
// Turning the image counter-clockwise by 90 put its top-right corner at
// the panel's top-left and its top-left at the panel's bottom-left, so a
// panel point (px, py) comes from logical (panelHeight-py, px).
func panelToSurface(rot int, panel image.Point, nx, ny float64) [2]float64 {
	w, h := float64(panel.X), float64(panel.Y)
	px, py := nx*w, ny*h
	switch rot {
	case 90:
		return [2]float64{h - py, px}
	case 180:
		return [2]float64{w - px, h - py}
	case 270:
		return [2]float64{py, w - px}
	}
	return [2]float64{px, py}
}
